"""Routing counts an intermediary's queue only when there is a choice to make."""

from __future__ import annotations

import pytest

from services.delivery import directory, service
from tests.unit.delivery.factories import make_intermediary, make_ready, scan_pdf
from tests.unit.delivery.fakes import make_delivery
from tests.unit.delivery.test_letters import news

pytestmark = pytest.mark.unit


async def queued_to(delivery, letter_id: str) -> str | None:
    event = make_ready(letter_id)
    await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
    await service.queue_letter(event, delivery=delivery)
    return (await delivery.letters.get(letter_id)).intermediary_id


async def routed(*intermediaries) -> tuple[list[str | None], list[list[str]]]:
    delivery = make_delivery()
    for intermediary in intermediaries:
        await delivery.intermediaries.save(intermediary)
    await directory.prisoner_updated(news(delivery, "detained"), delivery=delivery)
    asked: list[list[str]] = []
    count = delivery.letters.load

    async def counting(ids):
        asked.append(list(ids))
        return await count(ids)

    delivery.letters.load = counting
    return [await queued_to(delivery, f"l_{n}") for n in range(3)], asked


async def test_a_single_active_intermediary_takes_every_letter_without_its_queue_being_counted():
    routes, asked = await routed(make_intermediary(capacity_per_bundle=1),
                                 make_intermediary(id="i_friend", primary=False, active=False))
    assert routes == ["i_relative"] * 3 and asked == []


async def test_with_two_active_intermediaries_the_queues_are_counted_and_a_full_one_is_passed_over():
    routes, asked = await routed(make_intermediary(capacity_per_bundle=1),
                                 make_intermediary(id="i_friend", primary=False, capacity_per_bundle=5))
    assert routes == ["i_relative", "i_friend", "i_friend"] and len(asked) == 3
