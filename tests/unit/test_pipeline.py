"""The three services' subscribers chained in one process on FastStream's in-memory test broker, with
in-memory ports: a letter taken in by intake is screened and scanned by sorting, queued by delivery,
and its writer's timeline follows, each event announced once. No server is needed; the same journey
against the real servers and processes is tests/e2e/test_letter_journey.py."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import datetime
from functools import partial

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker

from services.delivery import handlers as delivery_handlers
from services.delivery.service import queue_letter
from services.intake import handlers as intake_handlers
from services.intake.contact import ContactSealer
from services.intake.domain import Author, Letter, LetterSubmission, Source
from services.intake.ports import DuplicateClientRef
from services.intake.service import LetterDesk, Submitter, accept_letter, follow_letter
from services.sorting import handlers as sorting_handlers
from services.sorting.domain import ModerationPolicy
from services.sorting.service import sort_letter
from shared.broker import letters_exchange
from shared.events import LetterEvent, LetterQueued, LetterReady, LetterReceived, LetterReviewNeeded
from shared.topology import CATALOGUE
from tests.unit.delivery.factories import make_intermediary
from tests.unit.delivery.fakes import make_delivery
from tests.unit.fakes import RecordingOutbox
from tests.unit.sorting.conftest import CLEAN_BODY, SLOGAN_BODY, make_deps

pytestmark = pytest.mark.unit

NAMESPACE = "pipeline"
EXCHANGE = letters_exchange(NAMESPACE)
# The queues whose subscribers this test wires: the letter's way from intake to delivery and back.
WIRED = ("sorting.letter-received", "delivery.letter-ready", "intake.letter-progress")


class Announcer(RecordingOutbox):
    """An outbox that, as the real one does, announces each event on the letters exchange, once.

    The test broker routes a queue by one binding key only (the real broker has them all), so the
    event goes to each wired queue the catalogue binds it to, under that queue's first key, typed with
    its own routing key as the outbox types it."""

    def __init__(self) -> None:
        super().__init__()
        self.broker: TestRabbitBroker | None = None

    async def add_and_publish(self, event: LetterEvent) -> bool:
        first = str(event.event_id) not in self.events
        await super().add_and_publish(event)
        if first:
            for entry in CATALOGUE:
                if entry.queue in WIRED and event.routing_key in entry.events:
                    await self.broker.publish(event.model_dump(mode="json"), exchange=EXCHANGE,
                                              routing_key=entry.consumer_queue(NAMESPACE).routing_keys[0],
                                              message_type=event.routing_key)
        return True

    publish = add_and_publish


class IntakeLetters:
    """Intake's letters in memory: stored with their announcement, and their timeline."""

    def __init__(self) -> None:
        self.letters: dict[str, Letter] = {}
        self.timeline: dict[str, list[str]] = {}

    async def insert(self, letter: Letter, announcing) -> None:
        if any(stored.client_ref == letter.client_ref for stored in self.letters.values()):
            raise DuplicateClientRef(letter.client_ref)
        self.letters[letter.id] = letter
        self.timeline[letter.id] = [letter.status]

    async def get(self, letter_id: str) -> Letter | None:
        return self.letters.get(letter_id)

    async def by_client_ref(self, client_ref: str) -> Letter | None:
        return next((letter for letter in self.letters.values() if letter.client_ref == client_ref), None)

    async def record_status(self, letter_id: str, status: str, at: datetime, facts: dict) -> bool:
        if status in self.timeline[letter_id]:
            return False
        self.timeline[letter_id].append(status)
        self.letters[letter_id] = self.letters[letter_id].model_copy(update={"status": status})
        return True


class IntakeDirectory:
    async def get(self, prisoner_id: str) -> dict | None:
        return {"_id": "p_1", "status": "detained", "names": {"ru": "Ремзи Демо", "uk": "Ремзі Демо"}} \
            if prisoner_id == "p_1" else None

    async def count_letter(self, prisoner_id: str) -> None:
        pass


@pytest.fixture
async def campaign():
    announcer = Announcer()
    desk = LetterDesk(letters=IntakeLetters(), prisoners=IntakeDirectory(), outbox=announcer,
                      sealer=ContactSealer(base64.b64encode(b"k" * 32).decode()), receipt_secret=b"r" * 32)
    sorting = dataclasses.replace(make_deps(ModerationPolicy(auto_approve=True, undo_window_s=0)), outbox=announcer)
    delivery = dataclasses.replace(make_delivery(), outbox=announcer)
    await delivery.intermediaries.save(make_intermediary())
    broker = RabbitBroker()
    broker.include_router(sorting_handlers.build_router(
        sorting_handlers.received_queue(NAMESPACE), EXCHANGE, partial(sort_letter, deps=sorting)))
    broker.include_router(delivery_handlers.build_router(
        delivery_handlers.ready_queue(NAMESPACE), EXCHANGE, partial(queue_letter, delivery=delivery)))
    broker.include_router(intake_handlers.build_router(
        intake_handlers.progress_queue(NAMESPACE), EXCHANGE, partial(follow_letter, desk.letters)))
    async with TestRabbitBroker(broker) as test_broker:
        announcer.broker = test_broker
        yield desk, sorting, delivery, announcer


def submission(body: str) -> LetterSubmission:
    return LetterSubmission(prisoner_id="p_1", body=body, client_ref=uuid.uuid4(),
                            author=Author(display_name="Оля", city="Полтава"), source=Source(channel="web"))


async def test_a_clean_letter_goes_from_intake_to_the_outgoing_queue_and_its_writer_sees_it(campaign):
    desk, sorting, delivery, announcer = campaign
    accepted = await accept_letter(submission(CLEAN_BODY), Submitter(channel="web"), desk)
    letter_id = accepted.letter.id

    assert (await sorting.letters.get(letter_id))["state"] == "ready"
    (ready,) = announcer.of(LetterReady)
    assert ready.scan_key in sorting.scans.objects
    queued_letter = await delivery.letters.get(letter_id)
    assert (queued_letter.state, queued_letter.intermediary_id, queued_letter.scan_key) == (
        "queued", "i_relative", ready.scan_key)
    assert desk.letters.timeline[letter_id] == ["received", "ready", "queued"]
    assert (await desk.letters.get(letter_id)).status == "queued"
    assert [len(announcer.of(kind)) for kind in (LetterReceived, LetterReady, LetterQueued)] == [1, 1, 1]


async def test_a_letter_with_a_slogan_stops_in_front_of_a_moderator_and_nothing_reaches_delivery(campaign):
    desk, sorting, delivery, announcer = campaign
    accepted = await accept_letter(submission(SLOGAN_BODY), Submitter(channel="web"), desk)
    letter_id = accepted.letter.id

    assert accepted.screening.verdict == "review"
    (review,) = announcer.of(LetterReviewNeeded)
    assert review.letter_id == letter_id and "slogans" in review.categories
    assert sorting.scans.objects == {} and await delivery.letters.get(letter_id) is None
    assert desk.letters.timeline[letter_id] == ["received", "review_needed"]
    assert announcer.of(LetterReady) == []
