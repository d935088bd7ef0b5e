"""Duplicates from clients and from the broker, poison messages, and crashes inside the outbox."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid

import aio_pika
import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.parking import _list as list_parked
from tests.faults.pipeline import Pipeline

pytestmark = [pytest.mark.faults, pytest.mark.slow]
needs_local_broker = pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="reads queue depths")


async def _publish(infra, namespace: str, routing_key: str, body: bytes, message_type: str | None = None) -> None:
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{namespace}.letters")
        await exchange.publish(aio_pika.Message(body, type=message_type, message_id=str(uuid.uuid4()),
                                                content_type="application/json"), routing_key=routing_key)


async def _outbox_body(pipeline: Pipeline, service: str, routing_key: str) -> bytes:
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        doc = await client[f"{pipeline.namespace}-{service}"]["outbox"].find_one({"routing_key": routing_key})
    finally:
        await client.close()
    return json.dumps(doc["body"]).encode()


@needs_local_broker
async def test_one_letter_sent_ten_times_at_once_and_its_events_redelivered_has_its_effects_once(
    infra, tmp_path, record
):
    pipeline = Pipeline(infra, "fdup", tmp_path).start()
    try:
        payload = {"prisoner_id": "p_demo_01", "body": "Здравствуйте! Желаю вам здоровья.",
                   "client_ref": str(uuid.uuid4()), "source": {"channel": "web"}}
        async with httpx.AsyncClient(base_url=pipeline.urls["intake"], timeout=30) as client:
            answers = await asyncio.gather(*(client.post("/api/v1/letters", json=payload) for _ in range(10)))
        assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
        accepted = [{**answers[0].json()}]
        await pipeline.wait_delivered({accepted[0]["id"]})

        # The same events again, three times each, after the originals were processed and acked.
        for service, key in (("intake", "letter.received"), ("sorting", "letter.ready"), ("delivery", "letter.queued")):
            body = await _outbox_body(pipeline, service, key)
            for _ in range(3):
                await _publish(infra, pipeline.namespace, key, body, message_type=key)
        await pipeline.drained()
        tally = await pipeline.tally(accepted)
        record("same client_ref ×10, events ×3", tally)
        assert (tally.accepted, tally.delivered) == (1, 1)
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
        assert tally.details["scans"] == 1 and tally.details["intake_letters"] == 1
    finally:
        await pipeline.stop()


@needs_local_broker
async def test_malformed_and_schema_invalid_messages_are_parked_with_a_reason_and_letters_flow_on(
    infra, tmp_path, record, monkeypatch
):
    pipeline = Pipeline(infra, "fpoison", tmp_path).start()
    try:
        poison = [("letter.received", "sorting.letter-received"), ("letter.ready", "delivery.letter-ready"),
                  ("letter.queued", "intake.letter-progress")]
        submitting = asyncio.create_task(pipeline.submit(40))
        for key, _ in poison:
            await _publish(infra, pipeline.namespace, key, b"{not json", message_type=key)
            await _publish(infra, pipeline.namespace, key, json.dumps({"letter_id": 5}).encode(), message_type=key)
        accepted, _ = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted})
        await pipeline.drained()
        monkeypatch.setenv("AMQP_URL", infra.amqp_url)
        monkeypatch.setenv("NAMESPACE", pipeline.namespace)
        # intake follows letter.ready too, so it parks the two bad letter.ready messages as well.
        expected = {"sorting.letter-received": 2, "delivery.letter-ready": 2, "intake.letter-progress": 4}
        for _, queue in poison:
            parked = await list_parked(queue, 10)
            assert len(parked) == expected[queue], f"{queue}: {parked}"
            assert all(entry["reason"] and entry["reason"] != "unknown" for entry in parked)
        tally = await pipeline.tally(accepted)
        record("poison messages on every queue", tally)
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    finally:
        await pipeline.stop()


@pytest.mark.parametrize(
    ("service", "point"),
    # after_change: the change and its event written, not yet published; after_publish: published, not marked.
    [("intake", "outbox.after_change"), ("intake", "outbox.after_publish"),
     ("sorting", "outbox.after_change"), ("sorting", "outbox.after_publish")],
)
async def test_a_crash_inside_the_outbox_publishes_at_least_once_with_effects_exactly_once(
    infra, tmp_path, record, service, point
):
    # Crash on the 60th event: after the demo campaign's events, in the middle of the letters.
    name = f"fo{service[0]}{point.rsplit('_', 1)[1][:3]}"
    pipeline = Pipeline(infra, name, tmp_path, env={service: {"FAILPOINTS": f"{point}=60"}}).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(150, deadline_s=240))
        process = pipeline.services[service]
        while process.running:
            await asyncio.sleep(0.05)
        assert process.process.returncode == 137, "the failpoint did not fire"
        pipeline.restart_service(service, {"FAILPOINTS": ""})
        accepted, _ = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted})
        tally = await pipeline.tally(accepted)
        record(f"{service} crash at {point}", tally)
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    finally:
        await pipeline.stop()
