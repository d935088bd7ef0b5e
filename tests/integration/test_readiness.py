"""/readyz tells the truth: 503 while a dependency is down, 200 once it is back, no restart needed."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from deploy.local import (
    free_port,
    mongo_server,
    port_answers,
    s3_server,
    service_env,
    service_process,
    wait_until,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def own_servers(infra, tmp_path):
    """A MongoDB-protocol server and an S3 server that this test alone may stop."""
    mongo_port, s3_port = free_port(), free_port()
    mongo = mongo_server(tmp_path / "mongo", mongo_port, tmp_path).start()
    s3 = s3_server(s3_port, tmp_path).start()
    wait_until(lambda: port_answers("127.0.0.1", mongo_port) and port_answers("127.0.0.1", s3_port), 30, "servers")
    yield mongo, s3, mongo_port, s3_port
    s3.kill()
    mongo.kill()


@pytest.fixture
def intake(infra, own_servers, tmp_path):
    mongo, s3, mongo_port, s3_port = own_servers
    env = {**infra.env(), "MONGODB_URL": f"mongodb://127.0.0.1:{mongo_port}",
           "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}", "DEMO_CAMPAIGN": "true",
           "DEMO_TOKENS_FILE": str(tmp_path / "tokens.txt")}
    port = free_port()
    process = service_process("intake", service_env("intake", env, port), tmp_path).start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _ready(url) == 200, 60, "intake ready")
    yield url
    assert process.terminate() == 0, "intake did not exit cleanly on SIGTERM"


def _ready(url: str) -> int | None:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code
    except httpx.HTTPError:
        return None


def letter() -> dict:
    return {"prisoner_id": "p_demo_01", "body": "Здравствуйте! Желаю вам здоровья.", "client_ref": str(uuid.uuid4()),
            "source": {"channel": "web"}}


async def test_database_outage_turns_readiness_and_submissions_into_503_until_it_returns(intake, own_servers):
    mongo = own_servers[0]
    mongo.kill()
    await eventually(lambda: _async(_ready(intake) == 503), 20, "readyz 503 with MongoDB down")
    answer = httpx.post(f"{intake}/api/v1/letters", json=letter(), timeout=30)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "retry" in answer.json()["detail"]

    mongo.start()
    await eventually(lambda: _async(_ready(intake) == 200), 30, "readyz 200 with MongoDB back")
    assert httpx.post(f"{intake}/api/v1/letters", json=letter(), timeout=30).status_code == 201


async def test_a_paused_database_gets_a_quick_503_instead_of_a_hung_request(intake, own_servers):
    # SIGSTOP: the port still accepts connections and nothing ever answers, the worst kind of outage.
    mongo = own_servers[0]
    mongo.pause()
    try:
        started = time.monotonic()
        answer = httpx.post(f"{intake}/api/v1/letters", json=letter(), timeout=60)
        waited = time.monotonic() - started
    finally:
        mongo.resume()
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    # MONGODB_TIMEOUT_MS (5 s) bounds the first operation that meets the pause; a little slack for a busy machine.
    assert waited < 8, f"the request took {waited:.1f}s"
    await eventually(lambda: _async(_ready(intake) == 200), 30, "readyz 200 with MongoDB back")
    assert httpx.post(f"{intake}/api/v1/letters", json=letter(), timeout=30).status_code == 201


async def test_object_store_outage_turns_readiness_503_until_it_returns(intake, own_servers):
    s3 = own_servers[1]
    s3.pause()
    try:
        await eventually(lambda: _async(_ready(intake) == 503), 20, "readyz 503 with S3 down")
    finally:
        s3.resume()
    await eventually(lambda: _async(_ready(intake) == 200), 30, "readyz 200 with S3 back")


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs the machine's own RabbitMQ to stop")
async def test_broker_outage_turns_readiness_503_and_the_service_reconnects_by_itself(infra, intake):
    if infra.sources["rabbitmq"] != "local rabbitmq-server":
        pytest.skip("only the machine's own RabbitMQ may be stopped")
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    try:
        await eventually(lambda: _async(_ready(intake) == 503), 30, "readyz 503 with RabbitMQ down")
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
    await eventually(lambda: _async(_ready(intake) == 200), 60, "readyz 200 with RabbitMQ back")


async def _async(value):
    return value
