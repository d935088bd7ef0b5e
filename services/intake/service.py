"""Intake's use cases: accept a letter exactly once, and follow it through the pipeline."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from services.intake import attention
from services.intake.contact import ContactSealer
from services.intake.domain import (
    MAX_VERSIONS,
    Author,
    Letter,
    LetterSubmission,
    Source,
    TimelineEntry,
    first_name,
    is_written,
    needs_fix,
    new_letter_id,
    plausible_written_at,
    receipt_token,
    version_client_ref,
    withdrawal_state,
)
from services.intake.pages import CleanPage
from services.intake.ports import DuplicateClientRef, LetterRepository, PageStore, PrisonerDirectory
from shared.events import LetterReceived, LetterWithdrawalRequested, utc_now
from shared.facilities import page_limit_of
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
    event_days: tuple[date, date] | None = None  # the event's first and last day: when its letters were written


@dataclass(frozen=True)
class LetterDesk:
    """What taking a letter in touches: the letters, the directory, the outbox that announces them,
    the sealer of writers' addresses, the receipts' secret and the store of photographed pages."""

    letters: LetterRepository
    prisoners: PrisonerDirectory
    outbox: Outbox
    sealer: ContactSealer
    receipt_secret: bytes
    page_store: PageStore | None = None


async def accept_letter(
    submission: LetterSubmission,
    submitter: Submitter,
    desk: LetterDesk,
    *,
    pages: Sequence[CleanPage] = (),
    lang: str = "en",
) -> Accepted:
    """Take a letter in: refused if empty or to someone the web cannot write to, else screened, stored
    with its announcement in one write, and answered with its receipt. A retry (same client_ref, same
    letter) answers the letter stored first; the same client_ref with another letter is refused."""
    letters, prisoners, sealer, page_store = desk.letters, desk.prisoners, desk.sealer, desk.page_store
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
    letter = _new_letter(submission, submitter, sealer)
    letter.page_keys = await _store_pages(pages, page_store)
    announcement = _announcement(letter, prisoner)
    try:
        # The letter and its announcement are one write: stored means announced, now or by the relay.
        await letters.insert(letter, [announcement])
    except DuplicateClientRef:
        # The unique client_ref answers a retry: the letter stored first, announced with it.
        await _discard_pages(letter.page_keys, page_store)
        stored = await _same_letter(submission, letters)
        return Accepted(stored, False, receipt_token(desk.receipt_secret, stored.id), screening)
    except BaseException:
        # Nothing half-written: pages without their letter are removed.
        await _discard_pages(letter.page_keys, page_store)
        raise
    await desk.outbox.publish(announcement)
    await prisoners.count_letter(letter.prisoner_id)
    return Accepted(letter, True, receipt_token(desk.receipt_secret, letter.id), screening)


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
        written_at=plausible_written_at(submission.written_at, received, submitter.event_days),
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
        facility_page_limit=page_limit_of(prisoner.get("facility")),
    )


# A receipt is polled every few seconds and a writer's page re-checks an unchanged draft: the same
# text under the same rules (loaded once per process) always screens the same, so it is screened once.
SCREENINGS_KEPT = 512


@lru_cache(maxsize=SCREENINGS_KEPT)
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


# ---------------------------------------------------------------- the receipt: versions and withdrawal


class NothingToFix(Exception):
    """The letter's latest version does not need a fix (or was sent again already): nothing is resent."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Receipt:
    """What a receipt link opens: the latest version of the letter, and the versions before it."""

    letter: Letter
    timeline: list[TimelineEntry]
    earlier: list[Letter]


async def latest_version(letters: LetterRepository, letter_id: str) -> Letter | None:
    """The receipt link's letter, followed to the newest version sent again from it."""
    letter = await letters.get(letter_id)
    for _ in range(MAX_VERSIONS):
        following = await letters.get(letter.next_version) if letter and letter.next_version else None
        if following is None:
            break
        letter = following
    return letter


async def open_receipt(letter_id: str, letters: LetterRepository) -> Receipt | None:
    latest = await latest_version(letters, letter_id)
    if latest is None:
        return None
    earlier: list[Letter] = []
    previous = latest.previous_version
    while previous and len(earlier) < MAX_VERSIONS:
        letter = await letters.get(previous)
        if letter is None:
            break
        earlier.append(letter)
        previous = letter.previous_version
    return Receipt(latest, await letters.timeline(latest.id), earlier)


async def resend_letter(letter_id: str, body: str, translation_requested: bool, desk: LetterDesk, *,
                        lang: str = "en") -> Accepted:
    """Send an edited letter again from its receipt: a new version, screened and moderated like any letter,
    linked to the one before so the same receipt link shows it. Each version is sent again at most once."""
    letters = desk.letters
    latest = await latest_version(letters, letter_id)
    if latest is None:
        raise UnknownLetter(letter_id)
    if not needs_fix(latest):
        return await _same_version(latest, body, letters, desk.receipt_secret, lang)
    submission = await _next_version(latest, body, translation_requested, letters, desk.sealer)
    accepted = await accept_letter(
        submission, Submitter(channel="web", campaign_event_id=latest.campaign_event_id), desk, lang=lang)
    # After the letter is stored: a retry after a crash finds it by its client_ref and links it then.
    await letters.link_version(latest.id, accepted.letter.id, latest.version + 1)
    return Accepted(await letters.get(accepted.letter.id), accepted.created, accepted.receipt_token,
                    accepted.screening)


async def _same_version(latest: Letter, body: str, letters: LetterRepository, receipt_secret: bytes,
                        lang: str) -> Accepted:
    """A second click on "send again": the version it made, if it has this text; otherwise nothing to fix."""
    previous = await letters.get(latest.previous_version) if latest.previous_version else None
    if previous is None or latest.client_ref != str(version_client_ref(previous.id)) or latest.body != body:
        raise NothingToFix(latest.status)
    screening = screen_letter(latest.body, latest.writer_display_name, latest.writer_city, lang)
    return Accepted(latest, False, receipt_token(receipt_secret, latest.id), screening)


async def _next_version(latest: Letter, body: str, translation_requested: bool, letters: LetterRepository,
                        sealer: ContactSealer) -> LetterSubmission:
    # The writer's address (only kept with consent) follows the letter, sealed anew for the new version.
    sealed = await letters.sealed_contact(latest.id)
    email = sealer.open(sealed, latest.id) if sealed else None
    return LetterSubmission(
        prisoner_id=latest.prisoner_id, body=body, client_ref=version_client_ref(latest.id),
        author=Author(display_name=latest.writer_display_name, city=latest.writer_city,
                      country=latest.writer_country, email=email, contact_consent=email is not None),
        source=Source(channel="web"), translation_requested=translation_requested)


class UnknownLetter(Exception):
    pass


async def request_withdrawal(letter_id: str, *, letters: LetterRepository, outbox: Outbox) -> Letter:
    """Ask sorting to withdraw the latest version; it withdraws it unless it was scanned already, and the
    receipt shows "withdrawal requested" until sorting answers. Asking twice asks once."""
    latest = await latest_version(letters, letter_id)
    if latest is None:
        raise UnknownLetter(letter_id)
    if withdrawal_state(latest) in ("withdrawn", "refused"):
        return latest
    at, request = utc_now(), LetterWithdrawalRequested.for_letter(latest.id)
    # The request and the event that asks sorting are one write; the timeline entry after it is history.
    if await letters.request_withdrawal(latest.id, at, [request]):
        await outbox.publish(request)
    await letters.record_status(latest.id, "withdrawal_requested", at, {})
    return await letters.get(latest.id)


# ---------------------------------------------------------------- the directory in the fair-attention order


async def prisoners_by_attention(prisoners: PrisonerDirectory, letters: LetterRepository,
                                 today: date) -> list[dict[str, Any]]:
    """Every prisoner, those most in need of a letter first (attention.py); the writer's page, the
    kiosk and the staff list show them in this order."""
    recent = await letters.submitted_since(datetime.combine(today, time(), UTC) - attention.LOOKBACK)
    facts = attention.letter_facts(recent, today)
    return list(attention.attention_order(await prisoners.list_public(), facts, today, attention.campaign_holidays()))
