"""A service's output is one JSON object per line: ours, FastStream's, uvicorn's, and tracebacks too."""

from __future__ import annotations

import json
import uuid

import aio_pika
import pytest

from deploy.local import free_port, service_env, service_process, wait_ready
from shared.broker import DELIVERY_LIMIT
from shared.events import LetterReceived, utc_now
from tests.faults.pipeline import parked_count
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _publish(amqp_url: str, namespace: str, event: LetterReceived) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{namespace}.letters")
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), type=event.routing_key, message_id=str(event.event_id),
                             content_type="application/json"),
            routing_key=event.routing_key,
        )


async def test_every_line_a_failing_handler_makes_a_service_write_is_one_json_object(infra, tmp_path):
    namespace = f"{infra.namespace}log"
    env = {
        **infra.env(), "NAMESPACE": namespace, "S3_BUCKET": f"letters-{namespace}",
        # Debug: FastStream's own per-message lines are written too.
        "LOG_LEVEL": "DEBUG",
        # Clean typed letters go straight to their scan, and the scan's font is missing: every
        # delivery fails with a traceback until the tenth parks the letter.
        "SORTING_AUTO_APPROVE": "true", "SORTING_UNDO_WINDOW_S": "0",
        "SORTING_FONT_PATH": str(tmp_path / "missing-font.ttf"),
    }
    port = free_port()
    sorting = service_process("sorting", service_env("sorting", env, port), tmp_path).start()
    try:
        wait_ready(f"http://127.0.0.1:{port}", timeout=90)
        letter = LetterReceived.for_letter(
            f"l_{uuid.uuid4().hex[:12]}", prisoner_id="p_demo_01", prisoner_name_ru="Иван Иванов",
            body="Здравствуйте! У нас выпал снег. Желаю вам здоровья.", channel="web", submitted_at=utc_now())
        await _publish(infra.amqp_url, namespace, letter)
        parking = f"{namespace}.sorting.letter-received.parking"
        await eventually(lambda: _at_least_one(infra.amqp_url, parking), 90, "the letter in the parking lot")
    finally:
        exit_code = sorting.terminate()
    assert exit_code == 0

    lines = (tmp_path / "sorting.log").read_text().splitlines()
    not_json = [line for line in lines if not _is_json_object(line)]
    assert not not_json, f"{len(not_json)} of {len(lines)} lines are not JSON, e.g. {not_json[:5]}"
    records = [json.loads(line) for line in lines]
    loggers = {r.get("logger") for r in records}
    assert {"uvicorn.error", "faststream.broker", "reliability"} <= loggers, loggers
    retries = [r for r in records if r["event"] == "handler failed, message goes back to its queue"]
    assert len(retries) == DELIVERY_LIMIT - 1
    assert all(r["level"] == "warning" and "FileNotFoundError" in r["exception"] for r in retries)
    [parked] = [r for r in records if r["event"] == "message parked"]
    assert parked["level"] == "error" and "FileNotFoundError" in parked["reason"]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


async def _at_least_one(amqp_url: str, queue: str) -> bool:
    return await parked_count(amqp_url, queue) >= 1
