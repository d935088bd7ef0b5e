"""Sorting's subscriber, through FastStream's in-memory test broker."""

from __future__ import annotations

import io
from functools import partial

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from pypdf import PdfReader

from services.sorting import handlers
from services.sorting.service import sort_letter
from shared.broker import letters_exchange
from shared.events import LetterReady, LetterReviewNeeded
from tests.support import squash
from tests.unit.sorting.conftest import SLOGAN_BODY, make_received


@pytest.fixture
def sorting(deps):
    broker = RabbitBroker()
    exchange = letters_exchange("unit")
    queue = handlers.received_queue("unit")
    broker.include_router(handlers.build_router(queue, exchange, partial(sort_letter, deps=deps)))
    return broker, exchange, deps


async def deliver(sorting, *events, times: int = 1) -> None:
    broker, exchange, _ = sorting
    async with TestRabbitBroker(broker) as test_broker:
        for event in events:
            for _ in range(times):
                await test_broker.publish(event.model_dump(mode="json"), exchange=exchange,
                                          routing_key="letter.received")


async def test_clean_typed_letter_is_scanned_and_announced_ready(sorting):
    _, _, deps = sorting
    event = make_received()
    await deliver(sorting, event)

    (ready,) = deps.outbox.of(LetterReady)
    assert ready.letter_id == event.letter_id and ready.moderation == "auto"
    text = squash("".join(p.extract_text() for p in PdfReader(io.BytesIO(deps.scans.objects[ready.scan_key])).pages))
    assert squash(event.body) in text
    assert "Ремзи Демо" in text and "Ayşe" in text
    assert [e["decision"] for e in await deps.decisions.history(event.letter_id)] == ["screened", "approved"]


async def test_redelivered_letter_changes_nothing_twice(sorting):
    _, _, deps = sorting
    await deliver(sorting, make_received(), times=3)

    assert deps.letters.transitions == [("l_test_1", "ready")]
    assert deps.scans.puts == 1 and len(deps.scans.objects) == 1
    assert len(deps.outbox.of(LetterReady)) == 1


async def test_letter_with_a_slogan_goes_to_review_not_to_a_scan(sorting):
    _, _, deps = sorting
    await deliver(sorting, make_received(body=SLOGAN_BODY))

    (review,) = deps.outbox.of(LetterReviewNeeded)
    assert "slogans" in review.categories
    assert deps.scans.objects == {}
    letter = deps.letters.letters["l_test_1"]
    assert letter["state"] == "review_needed" and letter["review_reasons"] == ["findings"]


async def test_handwritten_letter_always_goes_to_a_moderator(sorting):
    _, _, deps = sorting
    await deliver(sorting, make_received(body="", page_keys=["pages/a.jpg"], channel="paper"))

    assert len(deps.outbox.of(LetterReviewNeeded)) == 1
    assert deps.scans.objects == {}
    assert deps.letters.letters["l_test_1"]["review_reasons"] == ["handwritten"]


@pytest.mark.parametrize("status", ["released", "deceased"])
async def test_clean_letter_to_a_prisoner_who_cannot_receive_letters_is_held_for_a_moderator(sorting, status):
    _, _, deps = sorting
    await deliver(sorting, make_received(prisoner_status=status))

    (review,) = deps.outbox.of(LetterReviewNeeded)
    assert review.categories == []
    assert deps.letters.letters["l_test_1"]["review_reasons"] == [f"prisoner_{status}"]
    assert deps.scans.objects == {}


async def test_clean_letter_to_a_transferred_prisoner_goes_straight_on(sorting):
    _, _, deps = sorting
    await deliver(sorting, make_received(prisoner_status="transferred"))

    assert len(deps.outbox.of(LetterReady)) == 1


async def test_redelivered_flagged_letter_is_announced_once_and_not_screened_twice(sorting):
    _, _, deps = sorting
    await deliver(sorting, make_received(body=SLOGAN_BODY), times=3)

    assert deps.letters.transitions == [("l_test_1", "review_needed")]
    assert len(deps.outbox.of(LetterReviewNeeded)) == 1
    assert len(await deps.decisions.history("l_test_1")) == 1
