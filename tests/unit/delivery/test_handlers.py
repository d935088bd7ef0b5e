"""Delivery's subscribers, through FastStream's in-memory test broker."""

from __future__ import annotations

from functools import partial

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker

from services.delivery import handlers, prisoner_handlers
from services.delivery.directory import prisoner_updated
from services.delivery.service import queue_letter
from shared.broker import letters_exchange
from shared.events import LetterDeliveryUpdated, LetterQueued
from tests.unit.delivery.factories import make_intermediary, make_ready, prisoner_news
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit


@pytest.fixture
def wired():
    delivery = make_delivery()
    broker, exchange = RabbitBroker(), letters_exchange("unit")
    broker.include_router(handlers.build_router(
        handlers.ready_queue("unit"), exchange, partial(queue_letter, delivery=delivery)))
    broker.include_router(prisoner_handlers.build_prisoner_router(
        prisoner_handlers.prisoner_queue("unit"), exchange, partial(prisoner_updated, delivery=delivery)))
    return delivery, broker, exchange


async def test_ready_letter_is_queued_once_for_its_primary_intermediary_however_often_it_arrives(wired):
    delivery, broker, exchange = wired
    await delivery.intermediaries.save(make_intermediary())
    async with TestRabbitBroker(broker) as test_broker:
        for _ in range(3):
            await test_broker.publish(make_ready().model_dump(mode="json"), exchange=exchange, routing_key="letter.ready")

    letter = await delivery.letters.get("l_test_1")
    assert (letter.state, letter.intermediary_id) == ("queued", "i_relative")
    assert list(delivery.letters.docs) == ["l_test_1"]
    (queued,) = delivery.outbox.of(LetterQueued)
    assert queued.letter_id == "l_test_1"


async def test_ready_letter_without_a_route_is_held_and_the_writer_learns_why(wired):
    delivery, broker, exchange = wired
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(make_ready().model_dump(mode="json"), exchange=exchange, routing_key="letter.ready")

    letter = await delivery.letters.get("l_test_1")
    assert (letter.state, letter.hold_kind) == ("held", "no_route")
    (held,) = delivery.outbox.of(LetterDeliveryUpdated)
    assert (held.state, held.reason) == ("held", letter.reason)
    assert "no active intermediary" in held.reason


async def test_a_prisoner_released_through_the_directory_has_their_waiting_letters_held(wired):
    delivery, broker, exchange = wired
    await delivery.intermediaries.save(make_intermediary())
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(make_ready().model_dump(mode="json"), exchange=exchange, routing_key="letter.ready")
        await test_broker.publish(prisoner_news("released").model_dump(mode="json"), exchange=exchange,
                                  routing_key="prisoner.updated")

    letter = await delivery.letters.get("l_test_1")
    assert (letter.state, letter.hold_kind) == ("held", "prisoner_released")
    assert "released on 2026-12-01" in letter.reason
    assert (await delivery.prisoners.get("p_1")).status == "released"
