"""Intake's use cases: accept a letter exactly once, and follow it through the pipeline."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.intake.contact import ContactSealer
from services.intake.domain import (
    Letter,
    LetterSubmission,
    first_name,
    is_written,
    new_letter_id,
    plausible_written_at,
    receipt_token,
)
from services.intake.pages import CleanPage
from services.intake.ports import DuplicateClientRef, LetterRepository, PageStore, PrisonerDirectory
from shared.events import LetterReceived, utc_now
from shared.outbox import Outbox
from shared.prisoners import can_receive_letters
from shared.screening import ScreeningResult, screen


class UnknownPrisoner(Exception):
    pass


class PrisonerNotWritable(Exception):
    """The prisoner was released, died or is otherwise not receiving letters: a writer must be told."""

    def __init__(self, prisoner_id: str, status: str) -> None:
        super().__init__(prisoner_id, status)
        self.prisoner_id, self.status = prisoner_id, status


class EmptyLetter(Exception):
    pass


class ClientRefReused(Exception):
    """The client_ref belongs to a different letter: a client bug, never silently merged."""


@dataclass(frozen=True)
class Accepted:
    letter: Letter
    created: bool
    receipt_token: str
    screening: ScreeningResult


@dataclass(frozen=True)
class Submitter:
    """Where the letter came from: the web (anonymous) or a kiosk bound to a campaign event."""

    channel: str
    campaign_event_id: str | None = None
    kiosk_id: str | None = None


async def accept_letter(
    submission: LetterSubmission,
    submitter: Submitter,
    *,
    letters: LetterRepository,
    prisoners: PrisonerDirectory,
    outbox: Outbox,
    sealer: ContactSealer,
    receipt_secret: bytes,
    pages: Sequence[CleanPage] = (),
    page_store: PageStore | None = None,
    lang: str = "en",
) -> Accepted:
    if not is_written(submission.body, len(pages)):
        raise EmptyLetter()
    prisoner = await prisoners.get(submission.prisoner_id)
    if prisoner is None:
        raise UnknownPrisoner(submission.prisoner_id)
    # A web writer chooses from today's directory, so a stale choice is refused and explained. A kiosk's
    # letter may have been written offline before the news: it is taken and held like any letter in flight.
    if submitter.channel == "web" and not can_receive_letters(prisoner.get("status")):
        raise PrisonerNotWritable(submission.prisoner_id, prisoner.get("status"))
    screening = screen_letter(submission.body, submission.author.display_name, submission.author.city, lang)
    if await letters.by_client_ref(str(submission.client_ref)) is not None:
        return await _again(submission, prisoner, letters, outbox, receipt_secret, screening)
    letter = _new_letter(submission, submitter, sealer)
    letter.page_keys = await _store_pages(pages, page_store)
    try:
        await letters.insert(letter)
    except DuplicateClientRef:
        await _discard_pages(letter.page_keys, page_store)
        return await _again(submission, prisoner, letters, outbox, receipt_secret, screening)
    except BaseException:
        # Nothing half-written: pages without their letter are removed.
        await _discard_pages(letter.page_keys, page_store)
        raise
    await prisoners.count_letter(letter.prisoner_id)
    await outbox.add_and_publish(_announcement(letter, prisoner))
    return Accepted(letter, True, receipt_token(receipt_secret, letter.id), screening)


async def _again(submission, prisoner, letters, outbox, receipt_secret: bytes, screening) -> Accepted:
    """The same client_ref again: answer with the stored letter, and make sure it was announced."""
    letter = await _same_letter(submission, letters)
    # The first attempt may have died between storing and announcing.
    await outbox.add_and_publish(_announcement(letter, prisoner))
    return Accepted(letter, False, receipt_token(receipt_secret, letter.id), screening)


async def _store_pages(pages: Sequence[CleanPage], page_store: PageStore | None) -> list[str]:
    keys: list[str] = []
    try:
        for page in pages:
            key = f"pages/{secrets.token_urlsafe(24)}.{page.extension}"
            await page_store.put(key, page.data, page.content_type)
            keys.append(key)
    except BaseException:
        await _discard_pages(keys, page_store)
        raise
    return keys


async def _discard_pages(keys: list[str], page_store: PageStore | None) -> None:
    for key in keys:
        with contextlib.suppress(Exception):
            await page_store.delete(key)


async def _same_letter(submission: LetterSubmission, letters: LetterRepository) -> Letter:
    existing = await letters.by_client_ref(str(submission.client_ref))
    if existing is None or existing.fingerprint != submission.fingerprint():
        raise ClientRefReused(str(submission.client_ref))
    return existing


def _new_letter(submission: LetterSubmission, submitter: Submitter, sealer: ContactSealer) -> Letter:
    letter_id = new_letter_id()
    author = submission.author
    contact = lookup = None
    # Without consent the address is not kept at all: it could only ever be a risk.
    if author.email and author.contact_consent:
        contact, lookup = sealer.seal(author.email, letter_id), sealer.lookup(author.email)
    received = utc_now()
    return Letter(
        id=letter_id,
        submitted_at=received,
        written_at=plausible_written_at(submission.written_at, received),
        client_ref=str(submission.client_ref),
        fingerprint=submission.fingerprint(),
        prisoner_id=submission.prisoner_id,
        body=submission.body,
        channel=submitter.channel,
        campaign_event_id=submitter.campaign_event_id,
        kiosk_id=submitter.kiosk_id,
        writer_display_name=author.display_name,
        writer_city=author.city,
        writer_country=author.country,
        translation_requested=submission.translation_requested,
        contact_ciphertext=contact,
        contact_lookup=lookup,
    )


def _announcement(letter: Letter, prisoner: dict) -> LetterReceived:
    return LetterReceived.for_letter(
        letter.id,
        prisoner_id=letter.prisoner_id,
        prisoner_name_ru=prisoner["names"]["ru"],
        prisoner_status=prisoner.get("status", "detained"),
        body=letter.body,
        page_keys=letter.page_keys,
        # A photographed handwritten letter counts as paper, wherever it was photographed.
        channel="paper" if letter.page_keys else letter.channel,
        campaign_event_id=letter.campaign_event_id,
        writer_first_name=first_name(letter.writer_display_name),
        writer_city=letter.writer_city,
        submitted_at=letter.submitted_at,
        translation_requested=letter.translation_requested,
    )


def screen_letter(body: str, display_name: str | None, city: str | None, lang: str) -> ScreeningResult:
    """Everything the scan prints, screened as the moderator will screen it: the text, and the
    writer's first name and city (a slogan signed as a "name" reaches the censor all the same)."""
    return screen(body, lang=lang, fields={"writer_first_name": first_name(display_name), "writer_city": city})


async def follow_letter(
    letters: LetterRepository, letter_id: str, status: str, at: datetime, facts: dict | None = None, notify=None
) -> bool:
    """Record a status reported by sorting or delivery; a repeated report changes nothing.

    A writer who consented hears when their letter reached the prisoner or was answered.
    """
    changed = await letters.record_status(letter_id, status, at, facts or {})
    if notify is not None and status in NOTICE_STATUSES:
        await notify(letter_id, status)
    return changed


NOTICE_STATUSES = ("handed_over", "answered")
