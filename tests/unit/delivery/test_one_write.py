"""Every event delivery publishes was first written with the change it announces (shared/outbox.py
`WithEvents`): a crash between the change and the publish leaves the event for the relay, never lost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from services.delivery import bundling, directory, handover, release, sending, service
from services.delivery.model import Actor
from shared.events import LetterAnswered, LetterEvent
from shared.facilities import Facility
from tests.unit.delivery.factories import make_intermediary, make_ready, prisoner_news, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")


class Carried:
    """The events the repositories were handed with a change, by id."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def keep(self, events: Sequence[LetterEvent]) -> None:
        self.ids.update(str(event.event_id) for event in events)


class Carrying:
    """A repository that notes the events each change is written with, then makes the change."""

    def __init__(self, inner: Any, carried: Carried) -> None:
        self._inner, self._carried = inner, carried

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in ("enqueue", "move", "note", "archive", "insert"):
            return method

        async def write(*args: Any, announcing: Sequence[LetterEvent] = (), **kwargs: Any) -> Any:
            self._carried.keep(announcing)
            return await method(*args, announcing=announcing, **kwargs)
        return write


def carrying(delivery, carried: Carried) -> None:
    delivery.letters, delivery.replies = Carrying(delivery.letters, carried), Carrying(delivery.replies, carried)


def news(delivery, status: str, **facts):
    return prisoner_news(status, at=delivery.clock(), **facts)


async def test_nothing_is_published_that_was_not_written_with_its_change():
    delivery, carried = make_delivery(), Carried()
    carrying(delivery, carried)
    await delivery.intermediaries.save(make_intermediary())
    await directory.prisoner_updated(news(delivery, "detained"), delivery=delivery)
    delivery.clock.advance(10)
    for letter_id in ("l_1", "l_2", "l_3"):
        event = make_ready(letter_id)
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)
    await bundling.build_bundles(delivery)  # l_1..l_3 bundled, then sent
    await sending.send_due(delivery)
    await service.record_outcome(delivery, "l_1", "handed_over", None, OPERATOR)
    await handover.record_reply(delivery, "p_1", ["l_1"], b"%PDF-1.4 reply", OPERATOR)
    event = make_ready("l_4")
    await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
    await service.queue_letter(event, delivery=delivery)
    delivery.clock.advance(10)
    far = Facility.model_validate({"id": "colony_far", "name": "ИК-9", "kind": "colony", "region": "Крым",
                                   "address": {"lines": ["ул. Дальняя, 9"], "city": "Керчь"}})
    await delivery.intermediaries.save(make_intermediary(id="i_near", primary=False, facility_id="sizo_near"))
    await directory.prisoner_updated(news(delivery, "transferred", facility_id="colony_far", facility=far),
                                     delivery=delivery)
    delivery.clock.advance(10)
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)
    await release.hand_over_on_release(delivery, "p_1", "person", OPERATOR)

    published = set(delivery.outbox.events)
    assert len(published) >= 10 and any(isinstance(e, LetterAnswered) for e in delivery.outbox.events.values())
    assert published <= carried.ids, "published without being written with its change"
