"""Sorting's subscriber, through FastStream's in-memory test broker."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import partial

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from pypdf import PdfReader

from services.sorting import handlers
from services.sorting.service import sort_letter
from shared.broker import letters_exchange
from shared.events import LetterReady, LetterReceived, LetterReviewNeeded
from tests.support import squash
from tests.unit.fakes import MemoryScans, MemorySortedLetters, RecordingOutbox

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_received(letter_id: str = "l_test_1", **overrides) -> LetterReceived:
    facts = {
        "prisoner_id": "p_1",
        "prisoner_name_ru": "Ремзи Демо",
        "body": "Здравствуйте, Ремзи! У нас выпал первый снег. Желаю вам здоровья и тёплых дней.",
        "channel": "web",
        "writer_first_name": "Ayşe",
        "writer_city": "Полтава",
        "submitted_at": datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    }
    return LetterReceived.for_letter(letter_id, **{**facts, **overrides})


@pytest.fixture
def sorting():
    letters, scans, outbox = MemorySortedLetters(), MemoryScans(), RecordingOutbox()
    broker = RabbitBroker()
    exchange = letters_exchange("unit")
    queue = handlers.received_queue("unit")
    sort = partial(sort_letter, letters=letters, scans=scans, outbox=outbox, font_path=FONT)
    broker.include_router(handlers.build_router(queue, exchange, sort))
    return broker, exchange, letters, scans, outbox


async def test_clean_typed_letter_is_scanned_and_announced_ready(sorting):
    broker, exchange, letters, scans, outbox = sorting
    event = make_received()
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(event.model_dump(mode="json"), exchange=exchange, routing_key="letter.received")

    (ready,) = outbox.of(LetterReady)
    assert ready.letter_id == event.letter_id
    text = squash("".join(p.extract_text() for p in PdfReader(io.BytesIO(scans.objects[ready.scan_key])).pages))
    assert squash(event.body) in text
    assert "Ремзи Демо" in text and "Ayşe" in text


async def test_redelivered_letter_changes_nothing_twice(sorting):
    broker, exchange, letters, scans, outbox = sorting
    body = make_received().model_dump(mode="json")
    async with TestRabbitBroker(broker) as test_broker:
        for _ in range(3):
            await test_broker.publish(body, exchange=exchange, routing_key="letter.received")

    assert letters.transitions == [("l_test_1", "ready")]
    assert scans.puts == 1 and len(scans.objects) == 1
    assert len(outbox.of(LetterReady)) == 1


async def test_letter_with_a_slogan_goes_to_review_not_to_a_scan(sorting):
    broker, exchange, letters, scans, outbox = sorting
    event = make_received(body="Здравствуйте! Держитесь, мы с вами. Слава Украине! Дмитрий")
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(event.model_dump(mode="json"), exchange=exchange, routing_key="letter.received")

    (review,) = outbox.of(LetterReviewNeeded)
    assert "slogans" in review.categories
    assert scans.objects == {}
    assert letters.letters["l_test_1"]["state"] == "review_needed"


async def test_handwritten_letter_always_goes_to_a_moderator(sorting):
    broker, exchange, letters, scans, outbox = sorting
    event = make_received(body="", page_keys=["pages/a.jpg"], channel="paper")
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(event.model_dump(mode="json"), exchange=exchange, routing_key="letter.received")

    assert len(outbox.of(LetterReviewNeeded)) == 1
    assert scans.objects == {}
