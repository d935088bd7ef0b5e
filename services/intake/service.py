"""Intake's use cases: accept a letter exactly once, and follow it through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.intake.contact import ContactSealer
from services.intake.domain import Letter, LetterSubmission, new_letter_id, receipt_token
from services.intake.ports import DuplicateClientRef, LetterRepository, PrisonerDirectory
from shared.events import LetterReceived
from shared.outbox import Outbox
from shared.screening import ScreeningResult, screen


class UnknownPrisoner(Exception):
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
    lang: str = "en",
) -> Accepted:
    prisoner = await prisoners.get(submission.prisoner_id)
    if prisoner is None:
        raise UnknownPrisoner(submission.prisoner_id)
    screening = screen(submission.body, lang=lang)
    letter = _new_letter(submission, submitter, sealer)
    try:
        await letters.insert(letter)
    except DuplicateClientRef:
        letter = await _same_letter(submission, letters)
        # Announce again: the first attempt may have died between storing and announcing.
        await outbox.add_and_publish(_announcement(letter, prisoner))
        return Accepted(letter, False, receipt_token(receipt_secret, letter.id), screening)
    await prisoners.count_letter(letter.prisoner_id)
    await outbox.add_and_publish(_announcement(letter, prisoner))
    return Accepted(letter, True, receipt_token(receipt_secret, letter.id), screening)


async def _same_letter(submission: LetterSubmission, letters: LetterRepository) -> Letter:
    existing = await letters.by_client_ref(str(submission.client_ref))
    if existing is None or existing.fingerprint != submission.fingerprint():
        raise ClientRefReused(str(submission.client_ref))
    return existing


def _new_letter(submission: LetterSubmission, submitter: Submitter, sealer: ContactSealer) -> Letter:
    letter_id = new_letter_id()
    author = submission.author
    contact = None
    if author.email and author.contact_consent:
        contact = sealer.seal(author.email, letter_id)
    return Letter(
        id=letter_id,
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
        contact_ciphertext=contact,
    )


def _announcement(letter: Letter, prisoner: dict) -> LetterReceived:
    return LetterReceived.for_letter(
        letter.id,
        prisoner_id=letter.prisoner_id,
        prisoner_name_ru=prisoner["names"]["ru"],
        body=letter.body,
        channel=letter.channel,
        campaign_event_id=letter.campaign_event_id,
        writer_first_name=_first_name(letter.writer_display_name),
        writer_city=letter.writer_city,
        submitted_at=letter.submitted_at,
    )


def _first_name(display_name: str | None) -> str | None:
    return display_name.split()[0] if display_name else None


async def follow_letter(letters: LetterRepository, letter_id: str, status: str, at: datetime) -> bool:
    """Record a status reported by sorting or delivery; a repeated report changes nothing."""
    return await letters.record_status(letter_id, status, at)
