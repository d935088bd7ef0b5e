"""Taking a letter in (services/intake/service.py `accept_letter`), on in-memory ports: what is refused,
what is stored and announced, and what a retry or a reused client_ref gets."""

from __future__ import annotations

import base64
import uuid

import pytest

from services.intake.contact import ContactSealer
from services.intake.domain import Author, Letter, LetterSubmission, Source
from services.intake.pages import CleanPage
from services.intake.ports import DuplicateClientRef
from services.intake.service import (
    ClientRefReused,
    EmptyLetter,
    LetterDesk,
    PrisonerNotWritable,
    Submitter,
    UnknownPrisoner,
    accept_letter,
)
from shared.events import LetterReceived
from tests.unit.fakes import RecordingOutbox

WEB = Submitter(channel="web")
KIOSK = Submitter(channel="kiosk", campaign_event_id="e_berlin", kiosk_id="k_1")
BODY = "Здравствуйте! У нас в саду поспели яблоки. Желаю вам здоровья и терпения."


class MemoryLetters:
    def __init__(self, fail_insert: bool = False) -> None:
        self.letters: dict[str, Letter] = {}
        self.announced: list[LetterReceived] = []
        self._fail = fail_insert

    async def insert(self, letter: Letter, announcing) -> None:
        if self._fail:
            raise ConnectionError("the database went away")
        if any(stored.client_ref == letter.client_ref for stored in self.letters.values()):
            raise DuplicateClientRef(letter.client_ref)
        self.letters[letter.id] = letter
        self.announced += announcing

    async def get(self, letter_id: str) -> Letter | None:
        return self.letters.get(letter_id)

    async def by_client_ref(self, client_ref: str) -> Letter | None:
        return next((letter for letter in self.letters.values() if letter.client_ref == client_ref), None)


class MemoryPrisoners:
    def __init__(self, **statuses: str) -> None:
        self.prisoners = {pid: {"_id": pid, "status": status, "names": {"ru": "Эмир Тестов"}}
                          for pid, status in statuses.items()}
        self.counted: list[str] = []

    async def get(self, prisoner_id: str) -> dict | None:
        return self.prisoners.get(prisoner_id)

    async def count_letter(self, prisoner_id: str) -> None:
        self.counted.append(prisoner_id)


class MemoryPages:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def submission(prisoner_id: str = "p_1", body: str = BODY, client_ref: uuid.UUID | None = None,
               **author) -> LetterSubmission:
    return LetterSubmission(prisoner_id=prisoner_id, body=body, client_ref=client_ref or uuid.uuid4(),
                            author=Author(**author), source=Source(channel="web"))


@pytest.fixture
def desk() -> LetterDesk:
    return LetterDesk(letters=MemoryLetters(), prisoners=MemoryPrisoners(p_1="detained", p_free="released"),
                      outbox=RecordingOutbox(), sealer=ContactSealer(base64.b64encode(b"k" * 32).decode()),
                      receipt_secret=b"r" * 32, page_store=MemoryPages())


async def test_a_letter_is_stored_announced_once_counted_and_answered_with_its_receipt(desk):
    accepted = await accept_letter(submission(display_name="Оля", city="Київ"), WEB, desk, lang="uk")
    assert accepted.created and accepted.receipt_token
    stored = desk.letters.letters[accepted.letter.id]
    assert stored.status == "received" and stored.writer_display_name == "Оля" and stored.channel == "web"
    (announced,) = desk.letters.announced  # written with the letter, in one write
    assert announced.letter_id == stored.id and announced.prisoner_id == "p_1"
    assert [e.letter_id for e in desk.outbox.of(LetterReceived)] == [stored.id]
    assert desk.prisoners.counted == ["p_1"]
    assert accepted.screening.verdict == "ok"


async def test_the_same_letter_sent_again_is_the_letter_stored_first(desk):
    ref = uuid.uuid4()
    first = await accept_letter(submission(client_ref=ref), WEB, desk)
    again = await accept_letter(submission(client_ref=ref), WEB, desk)
    assert not again.created and again.letter.id == first.letter.id and again.receipt_token == first.receipt_token
    assert len(desk.letters.letters) == 1 and desk.prisoners.counted == ["p_1"]


async def test_a_reused_client_ref_with_another_letter_is_refused_and_its_pages_removed(desk):
    ref = uuid.uuid4()
    await accept_letter(submission(client_ref=ref), WEB, desk)
    with pytest.raises(ClientRefReused):
        await accept_letter(submission(client_ref=ref, body="Совсем другое письмо."), WEB, desk,
                            pages=[CleanPage(b"\xff\xd8\xff page", "image/jpeg", "jpg")])
    assert desk.page_store.objects == {}


async def test_refused_letters_leave_nothing_behind(desk):
    with pytest.raises(EmptyLetter):
        await accept_letter(submission(body="   "), WEB, desk)
    with pytest.raises(UnknownPrisoner):
        await accept_letter(submission(prisoner_id="p_nobody"), WEB, desk)
    with pytest.raises(PrisonerNotWritable):
        await accept_letter(submission(prisoner_id="p_free"), WEB, desk)
    assert desk.letters.letters == {} and desk.outbox.events == {} and desk.prisoners.counted == []


async def test_a_kiosk_letter_written_before_the_news_of_a_release_is_taken(desk):
    # Written offline before the news: taken, and held like any letter in flight (not refused at the kiosk).
    accepted = await accept_letter(submission(prisoner_id="p_free"), KIOSK, desk)
    assert accepted.created and accepted.letter.campaign_event_id == "e_berlin"


async def test_photographed_pages_are_stored_and_removed_again_if_the_letter_cannot_be(desk):
    page = CleanPage(b"\xff\xd8\xff page", "image/jpeg", "jpg")
    accepted = await accept_letter(submission(body=""), WEB, desk, pages=[page, page])
    assert len(accepted.letter.page_keys) == 2 and set(accepted.letter.page_keys) == set(desk.page_store.objects)
    failing = LetterDesk(**{**desk.__dict__, "letters": MemoryLetters(fail_insert=True), "page_store": MemoryPages()})
    with pytest.raises(ConnectionError):
        await accept_letter(submission(body=""), WEB, failing, pages=[page])
    assert failing.page_store.objects == {}  # nothing half-written


async def test_an_address_is_kept_only_with_consent_and_only_sealed(desk):
    without = await accept_letter(submission(email="olya@example.org"), WEB, desk)
    assert without.letter.contact_ciphertext is None and without.letter.contact_lookup is None
    consented = await accept_letter(submission(email="olya@example.org", contact_consent=True), WEB, desk)
    sealed = consented.letter.contact_ciphertext
    assert sealed and "olya" not in sealed
    assert desk.sealer.open(sealed, consented.letter.id) == "olya@example.org"
