"""On a real RabbitMQ: a failing message goes back to its queue, and only its tenth delivery parks it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
import pytest
from prometheus_client import REGISTRY

from deploy.local import remove_topology
from shared.broker import (
    DELIVERY_LIMIT,
    ConsumerQueue,
    dead_letter_exchange,
    declare_topology,
    letters_exchange,
    letters_router,
    make_broker,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration]


@dataclass
class FlakyConsumer:
    """A subscriber whose use case fails for the first `failures` deliveries of each letter."""

    failures: int
    attempts: dict[str, int] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    async def handle(self, body: dict) -> None:
        letter_id = body["letter_id"]
        self.attempts[letter_id] = self.attempts.get(letter_id, 0) + 1
        if self.attempts[letter_id] <= self.failures:
            raise RuntimeError(f"the scan renderer jammed on {letter_id}")
        self.done.append(letter_id)


@dataclass
class Running:
    queue: ConsumerQueue
    publish: Callable[[str], Awaitable[None]]
    amqp_url: str

    async def parked(self) -> list[aio_pika.abc.AbstractIncomingMessage]:
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            parking = await channel.get_queue(self.queue.parking_name)
            messages = []
            while (message := await parking.get(no_ack=True, fail=False)) is not None:
                messages.append(message)
            return messages


@pytest.fixture
async def consuming(infra) -> AsyncIterator[Callable[[FlakyConsumer], Awaitable[Running]]]:
    namespace = f"{infra.namespace}r{secrets.token_hex(3)}"
    queue = ConsumerQueue("test.redelivery", ("letter.redelivery",), namespace)
    brokers = []

    async def start(consumer: FlakyConsumer) -> Running:
        broker = make_broker(infra.amqp_url)
        router = letters_router()
        router.subscriber(queue.queue(), letters_exchange(namespace))(consumer.handle)
        broker.include_router(router)
        await broker.connect()
        await declare_topology(broker, [queue])
        await broker.start()
        brokers.append(broker)

        async def publish(letter_id: str) -> None:
            await broker.publish({"letter_id": letter_id}, exchange=letters_exchange(namespace),
                                 routing_key="letter.redelivery", message_id=letter_id, persist=True, mandatory=True)

        return Running(queue, publish, infra.amqp_url)

    yield start
    for broker in brokers:
        await broker.stop()
    await remove_topology(infra.amqp_url, [queue.full_name, queue.parking_name],
                          [letters_exchange(namespace).name, dead_letter_exchange(namespace).name])


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_letter_failing_three_deliveries_then_succeeding_is_processed_once_and_not_parked(consuming):
    consumer = FlakyConsumer(failures=3)
    running = await consuming(consumer)
    await running.publish("l_flaky")
    await eventually(lambda: _holds(consumer.done == ["l_flaky"]), 30, "the fourth delivery to succeed")
    # Nothing may come after the success: give a stray redelivery the time it would take.
    await asyncio.sleep(1.0)
    assert consumer.attempts == {"l_flaky": 4}
    assert consumer.done == ["l_flaky"]
    assert await running.parked() == []
    assert metric("letters_messages_requeued_total", queue=running.queue.full_name) == 3


async def test_a_letter_failing_every_delivery_is_parked_on_the_tenth_with_its_reason(consuming, caplog):
    consumer = FlakyConsumer(failures=10**6)
    running = await consuming(consumer)
    await running.publish("l_jammed")
    parked = []

    async def parked_once() -> bool:
        parked.extend(await running.parked())
        return bool(parked)

    await eventually(parked_once, 60, "the letter in the parking lot")
    await asyncio.sleep(1.0)
    assert consumer.attempts == {"l_jammed": DELIVERY_LIMIT}
    assert consumer.done == []
    [message] = parked
    assert message.message_id == "l_jammed"
    assert message.headers["x-parked-reason"] == "RuntimeError: the scan renderer jammed on l_jammed"
    assert message.headers["x-parked-cause"] == "delivery_limit"
    assert message.headers["x-parked-after-deliveries"] == DELIVERY_LIMIT
    assert metric("letters_messages_parked_total", queue=running.queue.full_name, cause="delivery_limit") == 1
    lines = [r for r in caplog.records if r.name == "reliability"]
    assert [r.getMessage() for r in lines if r.levelname == "ERROR"] == ["message parked"]
    assert len([r for r in lines if r.levelname == "WARNING"]) == DELIVERY_LIMIT - 1


async def _holds(value: bool) -> bool:
    return value
