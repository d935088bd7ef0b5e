"""Processes for a machine without Docker: the embedded MongoDB-protocol and S3 servers, and the services.

Used by `scripts/up` (the whole system), by the test session (fixtures) and by the benchmark,
so all three run the system the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SERVICES = ("intake", "sorting", "delivery")
# For the suites and the benchmark that test something other than moderation: clean typed letters
# go straight on and a moderator's approval goes to delivery at once, as before moderators read
# every letter. `scripts/up` and the deployments keep the production policy (the settings' defaults).
SORTING_STRAIGHT_THROUGH = {"SORTING_AUTO_APPROVE": "true", "SORTING_UNDO_WINDOW_S": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")


@dataclass
class ManagedProcess:
    """A child process we can stop, kill and start again with the same command."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    def start(self) -> ManagedProcess:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait for a clean exit; SIGKILL if it does not come."""
        if not self.running:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.running:
            self.process.kill()
            self.process.wait(10)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def mongo_server(data_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    """nx-27017: a MongoDB wire-protocol server on SQLite. Not MongoDB: see tests/contract."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        "mongodb",
        [str(VENV_BIN / "nx-27017"), "--data-dir", str(data_dir), "--host", "127.0.0.1", "-p", str(port),
         "--log-file", str(log_dir / "nx-27017.internal.log"), "--pid-file", str(log_dir / f"nx-27017-{port}.pid")],
        log_path=log_dir / "mongodb.log",
    )


def s3_server(port: int, log_dir: Path) -> ManagedProcess:
    """moto in server mode: a real HTTP S3 API, keeping objects in memory."""
    return ManagedProcess(
        "s3", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], log_path=log_dir / "s3.log"
    )


def service_process(name: str, env: dict[str, str], log_dir: Path) -> ManagedProcess:
    return ManagedProcess(name, [sys.executable, "-m", f"services.{name}"], env=env, log_path=log_dir / f"{name}.log")


def infra_env(infra) -> dict[str, str]:
    """The variables every service reads its infrastructure from (shared/settings.py), taken from
    any object that names them as attributes (the test session's, the benchmark's)."""
    return {
        # Local runs use the code's public development secrets: say so, or the services refuse them.
        "APP_ENV": "development",
        "AMQP_URL": infra.amqp_url,
        "MONGODB_URL": infra.mongodb_url,
        "S3_ENDPOINT_URL": infra.s3_endpoint_url,
        "S3_ACCESS_KEY_ID": infra.s3_access_key_id,
        "S3_SECRET_ACCESS_KEY": infra.s3_secret_access_key,
        "S3_BUCKET": infra.s3_bucket,
        "NAMESPACE": infra.namespace,
    }


def service_env(name: str, infra: dict[str, str], port: int) -> dict[str, str]:
    # Development mode unless the caller says otherwise (scripts/up, the test stacks, the benchmark).
    return {"APP_ENV": "development", **infra, f"{name.upper()}_PORT": str(port), "PYTHONUNBUFFERED": "1"}


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_ready(base_url: str, timeout: float = 60.0) -> None:
    wait_until(lambda: http_status(f"{base_url}/readyz") == 200, timeout, f"{base_url}/readyz", interval=0.2)


async def remove_topology(amqp_url: str, queues: list[str], exchanges: list[str]) -> None:
    """Delete queues and exchanges; missing ones are fine. A fresh channel for each, because a
    refused delete closes the channel it was sent on."""
    import contextlib

    import aio_pika

    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
        for name in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)
