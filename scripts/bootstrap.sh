# Sourced by scripts/up and scripts/test: makes .venv match uv.lock, and the system services answer.
# Installs a system package only where nothing else can do, and says so.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV_VERSION=0.13.8
TOOLS="$ROOT/.run/tools"

say() { printf '\033[1m[letters]\033[0m %s\n' "$*" >&2; }

ensure_python_env() {
  if [ ! -x "$TOOLS/bin/uv" ]; then
    say "installing uv $UV_VERSION into .run/tools"
    python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install -q "uv==$UV_VERSION" \
      || { say "could not install uv: Python 3.11 with venv and pip is required"; return 1; }
  fi
  # --frozen: install exactly the lock file, never re-resolve.
  (cd "$ROOT" && "$TOOLS/bin/uv" sync --frozen --quiet) || { say "uv sync failed"; return 1; }
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "please install the system package(s) '$*' (e.g. sudo apt-get install $*) and run again"
    return 1
  fi
  say "installing system package(s): $*"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

rabbitmq_answers() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

ensure_rabbitmq() {
  [ -n "${AMQP_URL:-}" ] && return 0
  if ! rabbitmq_answers; then
    command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server || return 1
    say "starting rabbitmq-server"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do rabbitmq_answers && break; sleep 1; done
    rabbitmq_answers || { say "RabbitMQ did not start on 127.0.0.1:5672"; return 1; }
  fi
  ensure_rabbitmq_management
}

# The services put their queues' policies through the management API when it is configured
# (shared/broker.py apply_policies); the contract suite tests that path, so the machine's broker
# has the plugin. Enabling it on a running node takes a few seconds and is a no-op the next time.
ensure_rabbitmq_management() {
  command -v rabbitmq-plugins >/dev/null || return 0
  rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management && return 0
  say "enabling rabbitmq_management"
  timeout 120 rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 || say "could not enable rabbitmq_management"
}

ensure_fonts() {
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && return 0
  apt_install fonts-dejavu-core
}

# Browser tests drive Debian's Chromium through Playwright (no browser download is possible here).
ensure_chromium() {
  [ -n "${CHROMIUM_PATH:-}" ] && return 0
  command -v chromium >/dev/null && return 0
  apt_install chromium
}
