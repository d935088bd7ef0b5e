"""Session-wide fixtures: real infrastructure, and the three services as separate processes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from deploy.local import (
    SERVICES,
    SORTING_STRAIGHT_THROUGH,
    ManagedProcess,
    free_port,
    service_env,
    service_process,
    wait_ready,
)
from shared.mongo import learn_server, make_client
from tests.infra import Infra, provide_infra, remove_namespace

# Each folder's tests are of one kind; the marker follows the folder, so `-m unit` is every test
# under tests/unit and nothing that needs a server. (Suites that are also slow say so themselves.)
FOLDER_MARKERS = {
    "unit": "unit", "contract": "contract", "integration": "integration", "e2e": "e2e",
    "browser": "browser", "faults": "faults", "security": "security", "scale": "scale",
    "bench": "bench", "deploy": "deploy",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        relative = Path(item.fspath).relative_to(tests_dir) if Path(item.fspath).is_relative_to(tests_dir) else None
        if relative is not None and len(relative.parts) > 1 and relative.parts[0] in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[relative.parts[0]])


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    infra = provide_infra()
    print(f"\ninfrastructure: {infra.sources} namespace={infra.namespace} logs={infra.log_dir}")
    asyncio.run(_learn_server(infra.mongodb_url))
    yield infra
    asyncio.run(remove_namespace(infra.amqp_url, infra.namespace))
    infra.close()


@pytest_asyncio.fixture
async def db(infra, request):
    """A MongoDB database of the test's own, dropped afterwards: tests of storage never see each
    other's documents."""
    client = make_client(infra.mongodb_url)
    database = client[f"{infra.namespace}-{request.node.name[:40]}-{uuid.uuid4().hex[:6]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


async def _learn_server(url: str) -> None:
    # Tests that open adapters themselves write times in the form the services do (shared/mongo.py).
    client = make_client(url)
    try:
        await learn_server(client)
    finally:
        await client.close()


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


def start_stack(infra: Infra, sorting_env: dict[str, str]) -> Stack:
    """intake, sorting and delivery as OS processes against the given infrastructure (namespace)."""
    tokens_file = infra.log_dir / "demo-tokens.txt"
    common = {
        **infra.env(),
        "DEMO_CAMPAIGN": "true",
        "DEMO_TOKENS_FILE": str(tokens_file),
        "LOG_LEVEL": "INFO",
        # Tests submit in bursts from one address; the limit itself has its own test.
        "INTAKE_SUBMIT_RATE_LIMIT": "100000/minute",
        "INTAKE_CHECK_RATE_LIMIT": "100000/minute",
        "INTAKE_SUMMARY_RATE_LIMIT": "100000/minute",
        "STAFF_SIGN_IN_LIMIT": "100000/minute",
        **sorting_env,
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
        for service in running.values():
            service.process.terminate()
        raise
    return Stack(infra, running, tokens_file)


@pytest.fixture(scope="session")
def stack(infra: Infra) -> Iterator[Stack]:
    """intake, sorting and delivery as OS processes against the session's infrastructure.

    Most suites test something other than moderation: here clean typed letters go straight on
    and an approval goes to delivery at once. `campaign_stack` runs the production policy.
    """
    running = start_stack(infra, SORTING_STRAIGHT_THROUGH)
    yield running
    for service in running.services.values():
        service.process.terminate()


# The campaign stack's undo window: long enough for a test (or a browser) to undo at ease on a
# busy machine, short enough that a test can watch an approval go to delivery afterwards.
CAMPAIGN_UNDO_WINDOW_S = 20


@pytest.fixture(scope="session")
def campaign_stack(infra: Infra) -> Iterator[Stack]:
    """A second system in its own namespace (same servers) with sorting's production policy: a
    moderator reads every letter. Only the undo window is shortened, to CAMPAIGN_UNDO_WINDOW_S."""
    log_dir = infra.log_dir / "campaign"
    log_dir.mkdir(exist_ok=True)
    own = dataclasses.replace(infra, namespace=f"{infra.namespace}c", log_dir=log_dir)
    running = start_stack(own, {"SORTING_UNDO_WINDOW_S": str(CAMPAIGN_UNDO_WINDOW_S)})
    yield running
    for service in running.services.values():
        service.process.terminate()
    asyncio.run(remove_namespace(own.amqp_url, own.namespace))
