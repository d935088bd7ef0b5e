"""The whole system on one machine without Docker: `./scripts/up` runs this.

RabbitMQ is the machine's own server; MongoDB is stood in for by nx-27017 (data kept in
.run/mongo-data) and S3 by moto's server (objects kept in memory: they are gone after a restart;
use `./scripts/up --docker` for MinIO). The three services run as separate processes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from deploy.local import (
    ROOT,
    SERVICES,
    mongo_server,
    port_answers,
    s3_server,
    service_env,
    service_process,
    wait_ready,
    wait_until,
)

RUN_DIR = ROOT / ".run"
PORTS = {"mongodb": 27017, "s3": 9000, "intake": 8000, "sorting": 8001, "delivery": 8002}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-demo", action="store_true", help="do not load the fictional demo campaign")
    args = parser.parse_args()
    RUN_DIR.mkdir(exist_ok=True)
    busy = [f"{name} ({port})" for name, port in PORTS.items() if port_answers("127.0.0.1", port)]
    if busy:
        print(f"ports already in use: {', '.join(busy)}; is the system already running?", file=sys.stderr)
        return 1

    processes = [mongo_server(RUN_DIR / "mongo-data", PORTS["mongodb"], RUN_DIR), s3_server(PORTS["s3"], RUN_DIR)]
    for process in processes:
        process.start()
    for name in ("mongodb", "s3"):
        wait_until(lambda n=name: port_answers("127.0.0.1", PORTS[n]), 30, name)

    tokens_file = RUN_DIR / "demo-tokens.txt"
    infra = {
        "AMQP_URL": os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        "MONGODB_URL": f"mongodb://127.0.0.1:{PORTS['mongodb']}",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{PORTS['s3']}",
        "DEMO_CAMPAIGN": "false" if args.no_demo else "true",
        "DEMO_TOKENS_FILE": str(tokens_file),
    }
    services = [service_process(name, service_env(name, infra, PORTS[name]), RUN_DIR) for name in SERVICES]
    for service in services:
        service.start()
    processes.extend(services)
    try:
        for name in SERVICES:
            wait_ready(f"http://127.0.0.1:{PORTS[name]}", timeout=120)
    except TimeoutError as error:
        print(f"{error}; see the logs in {RUN_DIR}", file=sys.stderr)
        _stop(processes)
        return 1
    _announce(tokens_file)
    return _wait(processes)


def _announce(tokens_file) -> None:
    intake = f"http://127.0.0.1:{PORTS['intake']}"
    print(
        f"""
The letters back end is running.
  the writer's page   {intake}/            the kiosk  {intake}/kiosk#token=<kiosk token>
  moderators          http://127.0.0.1:{PORTS['sorting']}/moderation
  translators         http://127.0.0.1:{PORTS['sorting']}/translation
  operators           http://127.0.0.1:{PORTS['delivery']}/monitor
  campaign results    {intake}/results
  API docs            {intake}/docs (and /docs on ports {PORTS['sorting']}, {PORTS['delivery']}); messages: /asyncapi
  readiness /readyz on each; logs in {RUN_DIR}/<service>.log
""",
        flush=True,
    )
    if tokens_file.exists():
        print(f"Demo tokens (shown once at first start, kept in {tokens_file}):")
        print(tokens_file.read_text(), flush=True)
    print("Stop with Ctrl-C.", flush=True)


def _wait(processes) -> int:
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        dead = [p.name for p in processes if not p.running]
        if dead:
            print(f"stopped unexpectedly: {', '.join(dead)}; see {RUN_DIR}", file=sys.stderr)
            break
        time.sleep(0.5)
    _stop(processes)
    return 0 if stopping else 1


def _stop(processes) -> None:
    for process in reversed(processes):
        process.terminate()


if __name__ == "__main__":
    sys.exit(main())
