"""Letters as intake sees them: pure values and rules, no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events import MAX_LETTER_CHARS, MAX_WRITER_FIELD_CHARS, Channel, utc_now
from shared.rejection_reasons import OTHER as OTHER_REASON
from shared.rejection_reasons import note_or_none, rejection_reasons
from shared.screening.symbols import direction_controls_in

# A writer's status only moves forward: a late or redelivered event must not move it back.
# Every report still lands in the timeline; only the headline status is ranked.
STATUS_RANK: dict[str, int] = {
    "received": 0,
    "awaiting_translation": 1,
    "review_needed": 1,
    "rejected": 2,
    "ready": 2,
    "queued": 3,
    "held": 4,
    "bundled": 5,
    "sent": 6,
    "failed": 6,
    "handed_over": 7,
    "returned": 7,
    "blocked": 7,
    "answered": 8,
    # Withdrawal: a request and a refusal are steps in the history, never the headline (rank 0 never
    # advances); a withdrawn letter is final like a rejected one.
    "withdrawal_requested": 0,
    "withdrawal_refused": 0,
    "withdrawn": 2,
}
# A letter reached its prisoner once an intermediary handed it over; a reply proves it too.
REACHED_STATUSES = ("handed_over", "answered")
# Delivery's states, in which a letter can move back and forth.
DELIVERY_PHASE = ("queued", "held", "bundled", "sent", "failed", "handed_over", "returned", "blocked")
# Before a moderator decides, a letter may go to a translator and back (and a moderator may send
# it to translation again): within that phase the latest report wins, as in delivery's.
REVIEW_PHASE = ("awaiting_translation", "review_needed")


def phase_of(status: str) -> tuple[str, ...] | None:
    """The phase whose statuses a letter moves between back and forth, if the status is in one."""
    return next((phase for phase in (DELIVERY_PHASE, REVIEW_PHASE) if status in phase), None)


# Progress events intake follows; delivery's updates carry their state in the event.
EVENT_TO_STATUS: dict[str, str | None] = {
    "letter.translation_needed": "awaiting_translation",
    "letter.review_needed": "review_needed",
    "letter.rejected": "rejected",
    "letter.ready": "ready",
    "letter.queued": "queued",
    "letter.delivery_updated": None,
    "letter.answered": "answered",
    "letter.withdrawn": "withdrawn",
    "letter.withdrawal_refused": "withdrawal_refused",
}


def status_of(event_type: str, body: dict) -> str | None:
    status = EVENT_TO_STATUS.get(event_type, "")
    if status is None:
        status = body.get("state")
    return status if status in STATUS_RANK else None


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(None, max_length=MAX_WRITER_FIELD_CHARS,
                                     description="Printed on the scan (first name only)")
    city: str | None = Field(None, max_length=MAX_WRITER_FIELD_CHARS)
    country: str | None = Field(None, max_length=MAX_WRITER_FIELD_CHARS)
    email: str | None = Field(
        None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Only for notices the writer consents to; stored encrypted, never sent on",
    )
    contact_consent: bool = False

    @field_validator("display_name", "city", "country")
    @classmethod
    def without_direction_controls(cls, value: str | None) -> str | None:
        if value and direction_controls_in(value):
            raise ValueError("contains invisible right-to-left control characters")
        return value


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["web", "kiosk"]
    event_id: str | None = Field(None, max_length=64)
    kiosk_id: str | None = Field(None, max_length=64)


class LetterSubmission(BaseModel):
    """What a web page or kiosk sends."""

    model_config = ConfigDict(extra="forbid")

    prisoner_id: str = Field(min_length=1, max_length=64, examples=["p_demo_01"])
    body: str = Field(
        "",
        max_length=MAX_LETTER_CHARS,
        description="The letter, in Russian; may be empty only when photographed pages come with it",
        examples=["Здравствуйте! Пишу вам из Полтавы."],
    )
    client_ref: uuid.UUID = Field(description="Made by the client; the same value sent again is the same letter")
    author: Author = Field(default_factory=Author)
    source: Source
    translation_requested: bool = Field(
        False,
        description="The writer cannot write in Russian and asks a volunteer to translate the letter (it takes "
                    "longer); a letter not in Russian goes to a translator anyway",
    )
    written_at: datetime | None = Field(
        None,
        description="When the letter was written, by the device's clock (a kiosk that was offline sends it "
                    "later); the server keeps it within the last 30 days and never after its own clock",
        examples=["2026-12-05T14:30:00+02:00"],
    )

    def fingerprint(self) -> str:
        """Identifies the content, so a reused client_ref with a different letter is caught."""
        return hashlib.sha256(f"{self.prisoner_id}\x00{self.body}".encode()).hexdigest()


class TimelineEntry(BaseModel):
    status: str
    at: datetime


class Letter(BaseModel):
    """A stored letter, as intake keeps it."""

    id: str
    client_ref: str
    fingerprint: str
    prisoner_id: str
    body: str
    channel: Channel
    campaign_event_id: str | None = None
    kiosk_id: str | None = None
    writer_display_name: str | None = None
    writer_city: str | None = None
    writer_country: str | None = None
    contact_ciphertext: str | None = None
    contact_lookup: str | None = None
    page_keys: list[str] = Field(default_factory=list)
    status: str = "received"
    submitted_at: datetime = Field(default_factory=utc_now)
    written_at: datetime | None = None
    translation_requested: bool = False
    # The letter as the scan prints it, once sorting has announced it ready.
    printed_text: str | None = None
    translated: bool = False
    redacted: bool = False
    source_language: str | None = None
    # Why a moderator rejected it: a preset (shared/rejection_reasons.yaml) and the note the writer sees;
    # `rejected_reason` is the free text of older events.
    reason_code: str | None = None
    reason_note: str | None = None
    rejected_reason: str | None = None
    # Versions: a letter edited and sent again from its receipt is a new letter linked to the one before.
    version: int = 1
    previous_version: str | None = None
    next_version: str | None = None
    withdrawal_requested_at: datetime | None = None
    withdrawal_refused_reason: str | None = None
    # Why delivery holds it (shared/events.py LetterHeld kinds), and to whom it was handed over.
    held_kind: str | None = None
    handed_over_to: str | None = None


def first_name(display_name: str | None) -> str | None:
    """What the scan prints of the writer's name: the first word only, never a surname."""
    words = display_name.split() if display_name else []
    return words[0] if words else None


# A kiosk keeps letters while offline for days at most; an older or future claim is a wrong clock.
MAX_WRITTEN_BEFORE_RECEIPT = timedelta(days=30)


# A letter written at an event is written on its days; a day either side allows for time zones and a kiosk
# set up the evening before or packed up the morning after.
EVENT_MARGIN = timedelta(days=1)


def plausible_written_at(claimed: datetime | None, received: datetime,
                         event_days: tuple[date, date] | None = None) -> datetime:
    """When a letter counts as written: the client's time, kept between 30 days before receipt and receipt,
    and, for a letter of a campaign event (`event_days`: its first and last day), within the event's days
    ± EVENT_MARGIN. A wrong kiosk clock thus cannot move a letter out of its event.

    A time without a zone is read as UTC. Without a claim the letter was written when it arrived. An event
    window that cannot hold the letter (it arrived before the event began) is ignored.
    """
    if claimed is None:
        return received
    if claimed.tzinfo is None:
        claimed = claimed.replace(tzinfo=UTC)
    earliest, latest = received - MAX_WRITTEN_BEFORE_RECEIPT, received
    if event_days is not None:
        first, last = event_days
        opens = _midnight(first) - EVENT_MARGIN
        closes = _midnight(last + timedelta(days=1)) + EVENT_MARGIN
        if max(earliest, opens) <= min(latest, closes):
            earliest, latest = max(earliest, opens), min(latest, closes)
    return min(max(claimed.astimezone(UTC), earliest), latest)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def is_written(body: str, pages: int) -> bool:
    return bool(body.strip()) or pages > 0


def new_letter_id() -> str:
    return "l_" + secrets.token_hex(10)


def receipt_token(secret: bytes, letter_id: str) -> str:
    """Derived, not stored: a retried submission can be answered with the same token."""
    digest = hmac.new(secret, letter_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def receipt_matches(secret: bytes, letter_id: str, token: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str, and a token is whatever a stranger sends.
    offered = token.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(receipt_token(secret, letter_id).encode(), offered)


def advances(current: str, new: str) -> bool:
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, -1)


# ---------------------------------------------------------------- the receipt: reasons, versions, withdrawal

# A receipt link follows a letter through its versions; a chain this long is a loop or abuse, not a writer.
MAX_VERSIONS = 10
# Statuses in which intake offers a withdrawal; sorting decides (it alone knows whether a scan exists).
WITHDRAWABLE_STATUSES = ("received", "awaiting_translation", "review_needed")
_VERSION_NAMESPACE = uuid.UUID("0b7d3f52-51c4-4c8e-9a0e-5f2f8a4c7d19")


class WriterReason(BaseModel):
    """Why a letter was rejected, as its writer reads it."""

    code: str = Field(examples=["not_in_russian"])
    text: str = Field(description="The preset's text in the writer's language")
    note: str | None = Field(None, description="The moderator's note for the writer, if any")
    fixable: bool = Field(description="The writer may edit the letter and send it again")


def writer_reason(letter: Letter, lang: str) -> WriterReason | None:
    """The reason in the writer's language; an older event's free text is shown as the note, if it passes
    the note's screen (shared/rejection_reasons.py)."""
    if letter.status != "rejected":
        return None
    reason = rejection_reasons().get(letter.reason_code)
    note = letter.reason_note
    if note is None and letter.reason_code in (None, OTHER_REASON) and letter.rejected_reason != reason.label.en:
        note = note_or_none(letter.rejected_reason)
    return WriterReason(code=reason.code, text=reason.writer.in_(lang), note=note, fixable=reason.fixable)


def needs_fix(letter: Letter) -> bool:
    """Whether the writer may edit this version and send it again: rejected for a fixable reason."""
    return letter.status == "rejected" and rejection_reasons().get(letter.reason_code).fixable \
        and letter.next_version is None and letter.version < MAX_VERSIONS


def withdrawal_state(letter: Letter) -> Literal["requested", "withdrawn", "refused"] | None:
    if letter.status == "withdrawn":
        return "withdrawn"
    if letter.withdrawal_refused_reason:
        return "refused"
    return "requested" if letter.withdrawal_requested_at else None


def may_withdraw(letter: Letter) -> bool:
    return letter.status in WITHDRAWABLE_STATUSES and withdrawal_state(letter) is None


def version_client_ref(previous_id: str) -> uuid.UUID:
    """The client_ref of the version that follows this one: fixed, so a double click sends it once."""
    return uuid.uuid5(_VERSION_NAMESPACE, previous_id)
