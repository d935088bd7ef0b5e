"""Session-wide fixtures: real infrastructure, and the three services as separate processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.local import SERVICES, ManagedProcess, free_port, service_env, service_process, wait_ready
from tests.infra import Infra, provide_infra, remove_namespace


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    infra = provide_infra()
    print(f"\ninfrastructure: {infra.sources} namespace={infra.namespace} logs={infra.log_dir}")
    yield infra
    asyncio.run(remove_namespace(infra.amqp_url, infra.namespace))
    infra.close()


@dataclass
class RunningService:
    name: str
    url: str
    process: ManagedProcess

    def restart(self) -> None:
        self.process.start()
        wait_ready(self.url)


@dataclass
class Stack:
    infra: Infra
    services: dict[str, RunningService]
    demo_tokens_file: Path

    def url(self, service: str) -> str:
        return self.services[service].url

    def demo_token(self, prefix: str) -> str:
        for line in self.demo_tokens_file.read_text().splitlines():
            if line.startswith(prefix):
                return line.rsplit(": ", 1)[1]
        raise KeyError(prefix)

    def logs(self, service: str) -> str:
        return (self.infra.log_dir / f"{service}.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def stack(infra: Infra) -> Iterator[Stack]:
    """intake, sorting and delivery as OS processes against the session's infrastructure."""
    tokens_file = infra.log_dir / "demo-tokens.txt"
    common = {
        **infra.env(),
        "DEMO_CAMPAIGN": "true",
        "DEMO_TOKENS_FILE": str(tokens_file),
        "LOG_LEVEL": "INFO",
        # Tests submit in bursts from one address; the limit itself has its own test.
        "INTAKE_SUBMIT_RATE_LIMIT": "100000/minute",
        "INTAKE_CHECK_RATE_LIMIT": "100000/minute",
        "STAFF_SIGN_IN_LIMIT": "100000/minute",
    }
    running: dict[str, RunningService] = {}
    for name in SERVICES:
        port = free_port()
        process = service_process(name, service_env(name, common, port), infra.log_dir).start()
        running[name] = RunningService(name, f"http://127.0.0.1:{port}", process)
    try:
        for service in running.values():
            wait_ready(service.url)
    except TimeoutError:
        for name in running:
            print(f"--- {name} log ---\n" + (infra.log_dir / f"{name}.log").read_text(errors="replace")[-3000:])
        raise
    yield Stack(infra, running, tokens_file)
    for service in running.values():
        service.process.terminate()
