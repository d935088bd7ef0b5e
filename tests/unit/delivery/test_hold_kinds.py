"""Held letters tell intake why they are held, so the campaign's results can count them by reason."""

from __future__ import annotations

import pytest

from services.delivery import directory, service
from services.delivery.model import Actor
from shared.events import LetterDeliveryUpdated
from tests.unit.delivery.factories import make_intermediary, make_ready, prisoner_news, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")


async def queue(delivery, letter_id: str) -> None:
    event = make_ready(letter_id)
    await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
    await service.queue_letter(event, delivery=delivery)


def held_events(delivery) -> list[LetterDeliveryUpdated]:
    return [e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state == "held"]


async def test_a_letter_without_an_intermediary_is_announced_as_held_for_no_route():
    delivery = make_delivery()
    await queue(delivery, "l_1")
    assert {e.hold_kind for e in held_events(delivery)} == {"no_route"}


async def test_a_released_prisoners_letters_are_announced_with_that_kind_and_archiving_is_announced_too():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary())
    at = delivery.clock()
    await directory.prisoner_updated(prisoner_news("detained", at=at), delivery=delivery)
    delivery.clock.advance(10)
    await queue(delivery, "l_1")
    await directory.prisoner_updated(prisoner_news("released", at=delivery.clock()),
                                     delivery=delivery)
    assert [e.hold_kind for e in held_events(delivery)] == ["prisoner_released"]
    await service.archive(delivery, "l_1", "prisoner free; writer told", OPERATOR)
    await service.archive(delivery, "l_1", "again", OPERATOR)  # a second click announces nothing new
    events = held_events(delivery)
    assert [e.hold_kind for e in events] == ["prisoner_released", "archived"]
    assert events[0].event_id != events[1].event_id and events[1].reason == "prisoner free; writer told"


async def test_other_states_carry_no_hold_kind():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary())
    await queue(delivery, "l_1")
    assert all(e.hold_kind is None for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state != "held")
