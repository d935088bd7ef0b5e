"""Every subscriber gives a failing message back to its queue; only the last allowed delivery parks it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from faststream import AckPolicy
from faststream.exceptions import AckMessage, RejectMessage
from faststream.rabbit import RabbitBroker, RabbitRouter
from prometheus_client import REGISTRY

from services.delivery.main import create_app as delivery_app
from services.intake.main import create_app as intake_app
from services.sorting.main import create_app as sorting_app
from shared.broker import DELIVERY_LIMIT, ConsumerQueue, letters_exchange, letters_router, require_ack_policy
from shared.reliability import parking_middleware

QUEUE = ConsumerQueue("unit.letters", ("letter.unit",), "ack")


@pytest.mark.parametrize("create_app", [intake_app, sorting_app, delivery_app], ids=["intake", "sorting", "delivery"])
def test_every_subscriber_of_every_service_gives_a_failing_message_back_to_its_queue(create_app):
    broker = create_app().state.runtime.broker
    assert broker.subscribers
    assert {s.queue.name: s.ack_policy for s in broker.subscribers} == {
        s.queue.name: AckPolicy.NACK_ON_ERROR for s in broker.subscribers}
    require_ack_policy(broker)


def test_a_service_refuses_to_consume_through_a_router_with_faststreams_default_policy():
    # FastStream's default for a router's subscriber is REJECT_ON_ERROR, whatever the broker says.
    broker, plain = RabbitBroker(ack_policy=AckPolicy.NACK_ON_ERROR), RabbitRouter()

    @plain.subscriber(QUEUE.queue(), letters_exchange("ack"))
    async def handle(body: dict) -> None: ...

    broker.include_router(plain)
    with pytest.raises(RuntimeError, match="letters_router"):
        require_ack_policy(broker)


def test_the_letters_router_carries_the_policy_into_the_broker():
    broker, router = RabbitBroker(), letters_router()

    @router.subscriber(QUEUE.queue(), letters_exchange("ack"))
    async def handle(body: dict) -> None: ...

    broker.include_router(router)
    require_ack_policy(broker)


# -- the parking middleware, with a recording broker -----------------------------------------------

@dataclass
class RecordingBroker:
    """What the middleware needs of a broker: its subscribers (to find the queue) and publish."""

    published: list[dict] = field(default_factory=list)

    @property
    def subscribers(self):
        return [SimpleNamespace(_consumer_tag="ctag", queue=QUEUE.queue())]

    async def publish(self, body, **options) -> None:
        self.published.append({"body": body, **options})


def delivery(number: int, body: bytes = b'{"letter_id": "l_1"}') -> SimpleNamespace:
    """The message as the middleware sees it on its `number`th delivery (RabbitMQ counts the earlier ones)."""
    headers = {"x-delivery-count": number - 1} if number > 1 else {}
    raw = SimpleNamespace(headers=headers, consumer_tag="ctag", body=body, message_id="m1", type="letter.unit",
                          content_type="application/json", exchange="ack.letters", routing_key="letter.unit")
    return SimpleNamespace(raw_message=raw)


async def run(broker: RecordingBroker, number: int, handler) -> BaseException | None:
    msg = delivery(number)
    middleware = parking_middleware(broker)(msg, context=None)
    try:
        await middleware.consume_scope(handler, msg)
    except (AckMessage, RejectMessage) as outcome:
        return outcome
    return None


async def jammed(_msg):
    raise RuntimeError("the scan renderer jammed")


def parked_total(cause: str) -> float:
    labels = {"queue": QUEUE.full_name, "cause": cause}
    return REGISTRY.get_sample_value("letters_messages_parked_total", labels) or 0.0


def requeued_total() -> float:
    return REGISTRY.get_sample_value("letters_messages_requeued_total", {"queue": QUEUE.full_name}) or 0.0


async def test_a_failure_before_the_last_delivery_gives_the_message_back_with_one_warning(caplog):
    broker, before = RecordingBroker(), requeued_total()
    outcome = await run(broker, 3, jammed)
    # basic.reject with requeue: the delivery counts as failed on RabbitMQ 3.x and 4.3+ alike.
    assert isinstance(outcome, RejectMessage) and outcome.extra_options == {"requeue": True}
    assert broker.published == []
    assert requeued_total() == before + 1
    [line] = [r for r in caplog.records if r.name == "reliability"]
    assert line.levelname == "WARNING" and line.delivery == 3 and line.limit == DELIVERY_LIMIT
    assert line.reason == "RuntimeError: the scan renderer jammed" and line.exc_info


async def test_a_failure_on_the_last_allowed_delivery_parks_the_message_with_its_reason(caplog):
    broker, before = RecordingBroker(), parked_total("delivery_limit")
    outcome = await run(broker, DELIVERY_LIMIT, jammed)
    assert isinstance(outcome, AckMessage)
    [parked] = broker.published
    assert parked["routing_key"] == QUEUE.full_name and parked["exchange"] == "ack.letters.dead"
    headers = parked["headers"]
    assert headers["x-parked-reason"] == "RuntimeError: the scan renderer jammed"
    assert headers["x-parked-cause"] == "delivery_limit"
    assert headers["x-parked-after-deliveries"] == DELIVERY_LIMIT
    assert "x-delivery-count" not in headers, "a replayed message must start with fresh deliveries"
    assert parked_total("delivery_limit") == before + 1
    assert [r.getMessage() for r in caplog.records if r.name == "reliability"] == ["message parked"]


async def test_a_message_that_cannot_parse_is_parked_on_its_first_delivery():
    broker = RecordingBroker()

    async def unreadable(_msg):
        json.loads(b"{not json")

    assert isinstance(await run(broker, 1, unreadable), AckMessage)
    assert broker.published[0]["headers"]["x-parked-cause"] == "unreadable"


async def test_a_message_the_handler_rejects_is_parked_with_that_said():
    broker = RecordingBroker()

    async def refuses(_msg):
        raise RejectMessage()

    assert isinstance(await run(broker, 1, refuses), AckMessage)
    headers = broker.published[0]["headers"]
    assert headers["x-parked-cause"] == "rejected" and "letter.unit" in headers["x-parked-reason"]


async def test_a_message_that_succeeds_is_left_to_the_acknowledgement():
    broker = RecordingBroker()

    async def fine(_msg):
        return "done"

    assert await run(broker, 4, fine) is None
    assert broker.published == []
