"""Where the test session's RabbitMQ, MongoDB and S3 come from.

Per dependency, in this order: a URL given in the environment (AMQP_URL, MONGODB_URL,
S3_ENDPOINT_URL) → a testcontainers container when a Docker engine answers → the embedded
server (RabbitMQ from the machine's package, nx-27017, moto). The code under test is the same
in all three cases; only the URLs differ.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from deploy.local import (
    ManagedProcess,
    free_port,
    infra_env,
    mongo_server,
    port_answers,
    remove_topology,
    s3_server,
    wait_until,
)
from shared.broker import broker_nodes
from shared.topology import CONSUMER_QUEUES

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class Infra:
    amqp_url: str
    mongodb_url: str
    s3_endpoint_url: str
    s3_access_key_id: str
    s3_secret_access_key: str
    namespace: str
    sources: dict[str, str]
    log_dir: Path
    mongo_process: ManagedProcess | None = None
    s3_process: ManagedProcess | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def s3_bucket(self) -> str:
        return f"letters-{self.namespace}"

    def env(self) -> dict[str, str]:
        return infra_env(self)

    def close(self) -> None:
        for process in (self.mongo_process, self.s3_process):
            if process is not None:
                process.kill()
        self._stack.close()


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def provide_infra() -> Infra:
    namespace = "t" + secrets.token_hex(4)
    log_dir = Path(tempfile.mkdtemp(prefix=f"letters-{namespace}-"))
    use_docker = docker_answers()
    infra = Infra("", "", "", "", "", namespace, {}, log_dir)
    _provide_rabbitmq(infra, use_docker)
    _provide_mongodb(infra, use_docker)
    _provide_s3(infra, use_docker)
    return infra


def _provide_rabbitmq(infra: Infra, use_docker: bool) -> None:
    if os.environ.get("AMQP_URL"):
        infra.amqp_url, infra.sources["rabbitmq"] = os.environ["AMQP_URL"], "environment"
    elif use_docker:
        from testcontainers.rabbitmq import RabbitMqContainer

        container = infra._stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
        host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
        infra.amqp_url, infra.sources["rabbitmq"] = f"amqp://guest:guest@{host}:{port}/", "testcontainers"
    else:
        if not port_answers("127.0.0.1", 5672):
            raise RuntimeError("RabbitMQ does not answer on 127.0.0.1:5672: start it with `rabbitmq-server -detached`")
        infra.amqp_url, infra.sources["rabbitmq"] = LOCAL_AMQP_URL, "local rabbitmq-server"


def _provide_mongodb(infra: Infra, use_docker: bool) -> None:
    if os.environ.get("MONGODB_URL"):
        infra.mongodb_url, infra.sources["mongodb"] = os.environ["MONGODB_URL"], "environment"
    elif use_docker:
        from testcontainers.mongodb import MongoDbContainer

        container = infra._stack.enter_context(MongoDbContainer("mongo:8.0"))
        infra.mongodb_url, infra.sources["mongodb"] = container.get_connection_url(), "testcontainers"
    else:
        port = free_port()
        infra.mongo_process = mongo_server(infra.log_dir / "mongo-data", port, infra.log_dir).start()
        wait_until(lambda: port_answers("127.0.0.1", port), 30, "nx-27017")
        infra.mongodb_url, infra.sources["mongodb"] = f"mongodb://127.0.0.1:{port}", "embedded nx-27017"


def _provide_s3(infra: Infra, use_docker: bool) -> None:
    if os.environ.get("S3_ENDPOINT_URL"):
        infra.s3_endpoint_url = os.environ["S3_ENDPOINT_URL"]
        infra.s3_access_key_id = os.environ.get("S3_ACCESS_KEY_ID", "letters")
        infra.s3_secret_access_key = os.environ.get("S3_SECRET_ACCESS_KEY", "letters-secret")
        infra.sources["s3"] = "environment"
    elif use_docker:
        from testcontainers.minio import MinioContainer

        container = infra._stack.enter_context(MinioContainer())
        config = container.get_config()
        infra.s3_endpoint_url = f"http://{config['endpoint']}"
        infra.s3_access_key_id, infra.s3_secret_access_key = config["access_key"], config["secret_key"]
        infra.sources["s3"] = "testcontainers"
    else:
        port = free_port()
        infra.s3_process = s3_server(port, infra.log_dir).start()
        wait_until(lambda: port_answers("127.0.0.1", port), 30, "moto S3 server")
        infra.s3_endpoint_url, infra.sources["s3"] = f"http://127.0.0.1:{port}", "embedded moto"
        infra.s3_access_key_id, infra.s3_secret_access_key = "letters", "letters-secret"


async def remove_namespace(amqp_url: str, namespace: str) -> None:
    """Delete a namespace's queues and exchanges, so runs leave nothing on a shared broker.

    The queues are the whole system's (every service declares them all at start) and, where the
    machine's own broker can be asked, whatever else it lists under the namespace.
    """
    known = [f"{namespace}.{name}{suffix}" for name in CONSUMER_QUEUES for suffix in ("", ".parking")]
    queues = sorted(set(known) | set(_listed_queues(amqp_url, namespace)))
    await remove_topology(amqp_url, queues, [f"{namespace}.letters", f"{namespace}.letters.dead"])


def _listed_queues(amqp_url: str, namespace: str) -> list[str]:
    url = urlsplit(broker_nodes(amqp_url)[0])
    machines_own = url.hostname in ("127.0.0.1", "localhost") and url.port in (None, 5672)
    if not machines_own or not shutil.which("rabbitmqctl"):
        return []  # rabbitmqctl asks the machine's own broker only
    listed = subprocess.run(["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"],
                            check=False, capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        return []
    return [name.strip() for name in listed.stdout.splitlines() if name.startswith(f"{namespace}.")]
