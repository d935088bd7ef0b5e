"""The broker operations the services rely on, against the active RabbitMQ (shared/broker.py).

The delivery limit is a policy (it can change on a live broker), a queue an earlier release declared
with an `x-delivery-limit` argument still starts, and listing a parking lot spends no delivery
(RabbitMQ 4 drops a quorum queue's message past 20 deliveries by default).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from shared.broker import ConsumerQueue, apply_policies, declare_topology, make_broker
from shared.parking import _list as list_parked

pytestmark = pytest.mark.contract


@pytest.fixture
async def spec(infra):
    spec = ConsumerQueue("probe.letters", ("probe.sent",), f"{infra.namespace}p{secrets.token_hex(3)}")
    yield spec
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in (spec.full_name, spec.parking_name):
            await channel.queue_delete(queue)
        for exchange in (f"{spec.namespace}.letters", f"{spec.namespace}.letters.dead"):
            await channel.exchange_delete(exchange)
    _rabbitmqctl("clear_policy", spec.policy()["name"], check=False)


@pytest.fixture
async def broker(infra):
    broker = make_broker(infra.amqp_url)
    await broker.connect()
    yield broker
    await broker.stop()


def _local_broker(infra) -> bool:
    return infra.sources["rabbitmq"] == "local rabbitmq-server" and shutil.which("rabbitmqctl") is not None


def _rabbitmqctl(*args: str, check: bool = True) -> None:
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", *args], check=check, capture_output=True, timeout=60)


def _set_policy(policy: dict) -> None:
    """What loading the definitions (deploy/broker_users.py) or the management API does."""
    _rabbitmqctl("set_policy", "--apply-to", policy["apply-to"], "--priority", str(policy["priority"]),
                 policy["name"], policy["pattern"], json.dumps(policy["definition"]))


async def _publish(infra, exchange: str, routing_key: str, headers: dict | None = None) -> None:
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        target = await channel.get_exchange(exchange)
        await target.publish(aio_pika.Message(b'{"letter_id": "l_1"}', headers=headers or {}, message_id="m1",
                                              content_type="application/json"), routing_key=routing_key,
                             mandatory=True)


async def _deliveries_until_parked(infra, spec: ConsumerQueue, timeout: float = 30) -> int:
    """Reject (requeue) the one message each time it comes, until the broker dead-letters it."""
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue, parking = await channel.get_queue(spec.full_name), await channel.get_queue(spec.parking_name)
        deliveries, stop_at = 0, asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < stop_at:
            message = await queue.get(no_ack=False, fail=False)
            if message is not None:
                deliveries += 1
                await message.reject(requeue=True)
                continue
            if (await channel.declare_queue(spec.parking_name, passive=True)).declaration_result.message_count:
                parked = await parking.get(no_ack=True)
                assert parked is not None
                return deliveries
            await asyncio.sleep(0.1)
    raise AssertionError("the message was neither redelivered nor parked")


async def test_a_queue_an_earlier_release_declared_with_a_delivery_limit_still_starts(infra, spec, broker):
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel()
        # As the release before policies declared it.
        await channel.declare_queue(spec.full_name, durable=True, arguments={
            "x-queue-type": "quorum", **spec.parking_route, "x-delivery-limit": 10})
    await declare_topology(broker, [spec])  # no PRECONDITION_FAILED
    await broker.declare_queue(spec.queue())  # and the subscriber finds its queue
    await _publish(infra, f"{spec.namespace}.letters", "probe.sent")
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel()
        assert (await channel.declare_queue(spec.full_name, passive=True)).declaration_result.message_count == 1


async def test_the_policy_sets_the_delivery_limit_and_a_new_limit_applies_without_deleting_the_queue(
    infra, spec, broker
):
    if not _local_broker(infra):
        pytest.skip("sets policies with the machine's own rabbitmqctl")
    await declare_topology(broker, [spec])
    _set_policy(spec.policy(delivery_limit=1))
    await asyncio.sleep(1)  # a quorum queue takes its new policy on its next tick
    await _publish(infra, f"{spec.namespace}.letters", "probe.sent")
    strict = await _deliveries_until_parked(infra, spec)
    _set_policy(spec.policy(delivery_limit=4))
    await asyncio.sleep(1)
    await _publish(infra, f"{spec.namespace}.letters", "probe.sent")
    patient = await _deliveries_until_parked(infra, spec)
    assert strict < patient, (strict, patient)
    assert patient <= 6


async def test_listing_a_parking_lot_spends_no_delivery(infra, spec, broker, monkeypatch):
    await declare_topology(broker, [spec])
    await _publish(infra, f"{spec.namespace}.letters.dead", spec.full_name,
                   {"x-parked-reason": "KeyError: 'letter_id'", "x-original-routing-key": "probe.sent",
                    "x-original-exchange": f"{spec.namespace}.letters"})
    monkeypatch.setenv("AMQP_URL", infra.amqp_url)
    monkeypatch.setenv("NAMESPACE", spec.namespace)
    # More listings than RabbitMQ 4's default delivery limit of a quorum queue (20).
    for _ in range(25):
        [seen] = await list_parked("probe.letters", 10)
        assert seen["reason"] == "KeyError: 'letter_id'" and seen["routing_key"] == "probe.sent"
    connection = await aio_pika.connect(infra.amqp_url)
    async with connection:
        channel = await connection.channel()
        parking = await channel.declare_queue(spec.parking_name, passive=True)
        assert parking.declaration_result.message_count == 1
        message = await parking.get(no_ack=True)
        assert int((message.headers or {}).get("x-delivery-count", 0)) == 0


async def test_the_management_api_takes_the_policies(infra, spec):
    url = urlsplit(infra.amqp_url)
    management = f"http://{url.username}:{url.password}@{url.hostname}:15672"
    async with httpx.AsyncClient(base_url=f"http://{url.hostname}:15672", auth=(url.username, url.password),
                                 timeout=5) as client:
        try:
            await client.get("/api/overview")
        except httpx.HTTPError:
            pytest.skip("no management API on this broker (rabbitmq_management not enabled)")
        policy = spec.policy(delivery_limit=7)
        await apply_policies(management, [policy])
        answer = await client.get(f"/api/policies/%2F/{policy['name']}")
    assert answer.status_code == 200 and answer.json()["definition"]["delivery-limit"] == 7
