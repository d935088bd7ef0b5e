"""A throw-away RabbitMQ cluster on loopback, next to (never joined with) the machine's own node.

Each node runs the package's real scripts (not Debian's /usr/sbin wrapper, which switches to the
`rabbitmq` user and reads /etc/rabbitmq) as a child process of the test, with everything of its
own under one temporary directory:

* HOME holds a fresh random Erlang cookie, shared by the three nodes and by rabbitmqctl and
  nobody else: the machine's `rabbit@localhost` and its cookie are never touched, and our CLI
  calls cannot reach it even by mistake;
* RABBITMQ_CONF_ENV_FILE points at our own env file, so /etc/rabbitmq/rabbitmq-env.conf
  (NODENAME=rabbit@localhost) is not read; RABBITMQ_CONFIG_FILE at our own rabbitmq.conf, so
  /etc/rabbitmq/rabbitmq.conf (the listener on 5672) is not read either;
* node name, AMQP port and distribution port are unique per run; mnesia, quorum and feature-flag
  state, the pid file and the logs live in the node's directory; no plugins (no 15672 clash);
* AMQP, distribution and epmd listen on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local import free_port, port_answers

# Where the real scripts live: Debian's package, then whatever `rabbitmq-server` on PATH resolves to
# (a generic-unix tarball's sbin/). A directory counts only if it has rabbitmq-env next to them.
SCRIPT_DIRS = ("/usr/lib/rabbitmq/bin",)
BOOT_TIMEOUT_S = 90


def rabbitmq_scripts() -> Path | None:
    candidates = [Path(d) for d in SCRIPT_DIRS]
    on_path = shutil.which("rabbitmq-server")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    for directory in candidates:
        if all((directory / name).exists() for name in ("rabbitmq-server", "rabbitmqctl", "rabbitmq-env")):
            return directory
    return None


def unavailable_reason() -> str | None:
    """Why this machine cannot run extra RabbitMQ nodes, or None when it can."""
    if rabbitmq_scripts() is None:
        return ("RabbitMQ's server scripts (rabbitmq-server, rabbitmqctl, rabbitmq-env) are not installed "
                "in /usr/lib/rabbitmq/bin nor on PATH")
    if shutil.which("erl") is None:
        return "Erlang (erl) is not on PATH"
    return None


@dataclass
class Node:
    name: str
    port: int
    dist_port: int
    base: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self.base / "log" / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    root: Path
    size: int = 3
    prefix: str = "letters"
    nodes: list[Node] = field(default_factory=list)
    scripts: Path | None = None
    epmd_was_running: bool = True

    def __post_init__(self) -> None:
        self.scripts = rabbitmq_scripts()
        run = secrets.token_hex(3)
        home = self.root / "home"
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        # Ours, so that /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost) is not read.
        (self.root / "rabbitmq-env.conf").write_text("# settings come from the environment\n")
        for number in range(1, self.size + 1):
            base = self.root / f"node{number}"
            (base / "log").mkdir(parents=True, exist_ok=True)
            node = Node(f"{self.prefix}{number}-{run}@localhost", free_port(), free_port(), base)
            (base / "rabbitmq.conf").write_text(
                f"listeners.tcp.local = 127.0.0.1:{node.port}\n"
                "loopback_users.guest = true\n"
                "log.console = false\n"
                "log.file.level = info\n"
            )
            (base / "enabled_plugins").write_text("[].\n")
            self.nodes.append(node)

    # -- environment and CLI ------------------------------------------------------------------
    def env(self, node: Node | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update({
            "HOME": str(self.root / "home"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })
        if node is not None:
            env.update({
                "RABBITMQ_NODENAME": node.name,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(node.port),
                "RABBITMQ_DIST_PORT": str(node.dist_port),
                "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(node.base / "log"),
                "RABBITMQ_PID_FILE": str(node.base / "rabbitmq.pid"),
                "RABBITMQ_CONFIG_FILE": str(node.base / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.base / "advanced.config"),  # absent on purpose
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.base / "enabled_plugins"),
            })
        return env

    def ctl(self, node: Node, *args: str, timeout: float = 60, check: bool = True,
            tool: str = "rabbitmqctl") -> subprocess.CompletedProcess:
        argv = [str(self.scripts / tool), "-n", node.name, *args]
        done = subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} failed ({done.returncode}): "
                               f"{done.stderr or done.stdout}")
        return done

    # -- nodes ------------------------------------------------------------------------------------
    def start_node(self, node: Node) -> None:
        if node.running:
            return
        out = open(node.base / "stdout.log", "ab")  # noqa: SIM115 - the child keeps it
        # Foreground, in its own session: a child of the test whose process group can be killed if need be.
        node.process = subprocess.Popen([str(self.scripts / "rabbitmq-server")], env=self.env(node),
                                        cwd=self.root, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def await_booted(self, node: Node, timeout: float = BOOT_TIMEOUT_S) -> None:
        """Until the node answers and its broker application runs (await_startup needs the VM up first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.running:
                raise RuntimeError(
                    f"{node.name} exited while booting ({node.process.returncode}):\n{self.log_tail(node)}")
            left = max(5, int(deadline - time.monotonic()))
            awaited = self.ctl(node, "await_startup", "--timeout", str(left), check=False, timeout=left + 30)
            if awaited.returncode == 0 and port_answers("127.0.0.1", node.port):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{node.name} did not boot within {timeout:.0f}s:\n{self.log_tail(node)}")

    def stop_node(self, node: Node, timeout: float = 60) -> None:
        """`rabbitmqctl stop`: the whole node goes away (VM included), as a lost machine would."""
        if not node.running:
            return
        self.ctl(node, "stop", check=False, timeout=timeout)
        try:
            node.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill(node)

    def _kill(self, node: Node) -> None:
        if node.process is None:
            return
        # The node runs in its own session (start_new_session): its process group is its pid.
        try:
            os.killpg(node.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            node.process.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def log_tail(self, node: Node, chars: int = 3000) -> str:
        parts = []
        for path in (node.base / "stdout.log", node.log_file):
            if path.exists():
                parts.append(f"--- {path} ---\n" + path.read_text(errors="replace")[-chars:])
        return "\n".join(parts)

    # -- the cluster --------------------------------------------------------------------------------
    def form(self) -> Cluster:
        self.epmd_was_running = port_answers("127.0.0.1", 4369)
        for node in self.nodes:
            self.start_node(node)
        for node in self.nodes:
            self.await_booted(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app", timeout=120)
        self.await_online(self.size, via=first)
        return self

    def await_online(self, count: int, via: Node, timeout: float = 120) -> None:
        self.ctl(via, "await_online_nodes", str(count), "--timeout", str(int(timeout)), timeout=timeout + 30)
        running = self.running_nodes(via)
        assert len(running) >= count, f"cluster_status shows {running}"

    def running_nodes(self, via: Node) -> list[str]:
        status = json.loads(self.ctl(via, "cluster_status", "--formatter", "json").stdout)
        return sorted(status["running_nodes"])

    def disk_nodes(self, via: Node) -> list[str]:
        status = json.loads(self.ctl(via, "cluster_status", "--formatter", "json").stdout)
        return sorted(status["disk_nodes"])

    def queues(self, via: Node, prefix: str = "") -> dict[str, dict]:
        """name → {type, leader, members, online} for the queues whose name starts with `prefix`."""
        listed = self.ctl(via, "list_queues", "--formatter", "json", "name", "type", "leader", "members",
                          "online", timeout=90).stdout
        return {q["name"]: q for q in json.loads(listed) if q["name"].startswith(prefix)}

    def connections(self, via: Node) -> list[dict]:
        """Client connections cluster-wide: the node, the client's port, since when (ms since the epoch)."""
        listed = self.ctl(via, "list_connections", "--formatter", "json", "port", "peer_port", "connected_at",
                          timeout=60).stdout
        by_port = {node.port: node.name for node in self.nodes}
        return [{**c, "node": by_port.get(c["port"], "?")} for c in json.loads(listed)]

    def consumers(self, via: Node) -> str:
        return self.ctl(via, "list_consumers", "queue_name", "channel_pid", "consumer_tag", "active",
                        check=False, timeout=60).stdout

    def node_named(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def close(self, remove: bool = True) -> list[str]:
        """Stop every node (politely, then by force), remove the directory; return what was still alive."""
        for node in self.nodes:
            if node.running:
                try:
                    self.stop_node(node, timeout=30)
                except Exception:  # noqa: BLE001 - whatever failed, the node must go
                    self._kill(node)
        leftovers = [node.name for node in self.nodes if node.running]
        for node in self.nodes:
            if node.running:
                self._kill(node)
        if not self.epmd_was_running and shutil.which("epmd"):
            # Our first node started epmd; `-kill` refuses while any node is still registered.
            subprocess.run(["epmd", "-kill"], capture_output=True, timeout=10, check=False)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
        return leftovers
