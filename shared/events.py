"""Versioned letter events: the only contract between intake, sorting and delivery.

Events carry ids and facts about a letter, never a writer's contact data (e-mail, phone,
address): the bus is read by every stage and by operators, so what is not on it cannot leak.
Events change additively; a breaking change gets a new name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.facilities import Facility
from shared.prisoners import PrisonerStatus

# Fixed namespace so that the same letter and transition always give the same event id:
# a re-published or redelivered event is then recognisable as the same one.
_EVENT_NAMESPACE = uuid.UUID("6f1c0d2e-7a4b-4c55-9d8e-2b7f0c1a9e31")

Channel = Literal["web", "kiosk", "paper"]


def event_id_for(letter_id: str, transition: str) -> uuid.UUID:
    return uuid.uuid5(_EVENT_NAMESPACE, f"{transition}:{letter_id}")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """The envelope every event carries: its id, when it happened, its schema's version."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    routing_key: ClassVar[str]

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utc_now)
    schema_version: int = 1


class LetterEvent(Event):
    """Fields every letter event carries."""

    event_id: uuid.UUID = Field(description="Unique per letter and transition; redeliveries repeat it")
    occurred_at: datetime = Field(default_factory=utc_now, description="When the transition happened (UTC)")
    schema_version: int = Field(1, description="Bumped only by additive changes")
    letter_id: str = Field(description="The letter's id, as issued by intake", examples=["l_4f9c2a7d1e8b"])

    @classmethod
    def for_letter(cls, letter_id: str, **facts: object):
        return cls(event_id=event_id_for(letter_id, cls.routing_key), letter_id=letter_id, **facts)


# The longest letter, in characters: what a writer may send, and what a translator or a moderator's
# transcription of photographed pages may be (a letter's text in another form).
MAX_LETTER_CHARS = 20_000
# The longest name, city or country a writer gives: what intake accepts, what the scan prints, and
# what a moderator's correction of a printed field may be.
MAX_WRITER_FIELD_CHARS = 80


class LetterReceived(LetterEvent):
    """Intake accepted a letter and stored it; sorting screens and scans it."""

    routing_key: ClassVar[str] = "letter.received"

    prisoner_id: str = Field(examples=["p_demo_ametov"])
    prisoner_name_ru: str = Field(description="The prisoner's name in Russian, for the scan's header")
    prisoner_status: str = Field("detained", description="The prisoner's status when the letter was accepted")
    body: str = Field("", description="Typed text; empty for a handwritten letter")
    page_keys: list[str] = Field(
        default_factory=list, description="S3 keys of the photographed pages of a handwritten letter, in order"
    )
    channel: Channel = Field(description="How the letter came in")
    campaign_event_id: str | None = Field(None, description="The public event where it was written")
    writer_first_name: str | None = Field(None, description="Only a first name: it is printed on the scan")
    writer_city: str | None = None
    submitted_at: datetime
    translation_requested: bool = Field(
        False, description="The writer asked for a volunteer to translate the letter into Russian")
    facility_page_limit: int | None = Field(
        None, description="The page limit of the prisoner's facility when the letter was accepted "
                          "(shared/facilities.py); a longer letter goes to a moderator", examples=[2])


class LetterReviewNeeded(LetterEvent):
    """Screening flagged the letter, or it is handwritten: a moderator must read it."""

    routing_key: ClassVar[str] = "letter.review_needed"

    prisoner_id: str
    categories: list[str] = Field(default_factory=list, description="Finding categories, e.g. slogans")


class LetterTranslationNeeded(LetterEvent):
    """The letter waits for a volunteer to write its Russian version: the writer asked for it, its
    text is not in Russian, or a moderator sent it to translation."""

    routing_key: ClassVar[str] = "letter.translation_needed"

    prisoner_id: str
    source_language: str | None = Field(
        None, description="The language screening found (uk, crh, de, pl, …), if it could tell", examples=["de"])
    requested_by: Literal["writer", "screening", "moderator"] = Field(
        description="Who sent it to translation", examples=["screening"])


class LetterRejected(LetterEvent):
    """A moderator rejected the letter; it will not be sent."""

    routing_key: ClassVar[str] = "letter.rejected"

    prisoner_id: str
    reason: str = Field(description="For readers of older events: the note, or else the preset's English label")
    reason_code: str = Field(
        "other", description="The preset the moderator chose (shared/rejection_reasons.yaml); the writer's receipt "
                             "shows its text in the writer's language. Events from before the presets have none: "
                             "they count as `other`", examples=["not_in_russian"])
    note: str | None = Field(
        None, description="The moderator's note the writer sees: plain text, screened for personal data "
                          "(shared/rejection_reasons.py)")


class LetterWithdrawalRequested(LetterEvent):
    """The writer asked, from the receipt, to withdraw a letter; sorting decides, since only it knows whether
    the letter was scanned already."""

    routing_key: ClassVar[str] = "letter.withdrawal_requested"


class LetterWithdrawn(LetterEvent):
    """Sorting withdrew the letter at its writer's request before it was scanned: it will never be sent."""

    routing_key: ClassVar[str] = "letter.withdrawn"

    prisoner_id: str


class LetterWithdrawalRefused(LetterEvent):
    """Sorting could not withdraw the letter: it was scanned (and went to delivery) or rejected already."""

    routing_key: ClassVar[str] = "letter.withdrawal_refused"

    prisoner_id: str
    reason: Literal["already_scanned", "already_rejected"] = Field(examples=["already_scanned"])


class LetterReady(LetterEvent):
    """The letter is approved and its scan is stored; delivery routes it."""

    routing_key: ClassVar[str] = "letter.ready"

    prisoner_id: str
    scan_key: str = Field(description="S3 key of the scan PDF (not guessable)")
    scan_sha256: str = Field(description="Checksum of the stored scan")
    scan_bytes: int
    pages: int
    moderation: Literal["auto", "approved", "redacted", "translated"] = Field(
        "auto", description="Approved by screening alone, by a moderator as written, after a redaction, or "
                            "as translated into Russian by a volunteer"
    )
    printed_text: str | None = Field(
        None, description="The text as the scan prints it (after any translation or redaction); the writer's "
                          "receipt shows it beside the original")
    translated: bool = Field(False, description="The printed text is a volunteer's Russian translation")
    redacted: bool = Field(False, description="A moderator changed the text, the printed name or the city")


class LetterQueued(LetterEvent):
    """Delivery put the letter on the outgoing queue."""

    routing_key: ClassVar[str] = "letter.queued"

    prisoner_id: str


# Events that move a letter's public status forward, in the order a writer sees them.
STATUS_EVENTS: dict[str, type[LetterEvent]] = {
    cls.routing_key: cls
    for cls in (LetterTranslationNeeded, LetterReviewNeeded, LetterRejected, LetterReady, LetterQueued,
                LetterWithdrawn, LetterWithdrawalRefused)
}


class LetterDeliveryUpdated(LetterEvent):
    """Delivery moved a letter: bundled, sent, handed over, returned, blocked, held or failed."""

    routing_key: ClassVar[str] = "letter.delivery_updated"

    prisoner_id: str
    state: Literal["bundled", "sent", "handed_over", "returned", "blocked", "held", "failed", "queued"]
    reason: str | None = Field(None, description="Why a letter was held, returned, blocked or failed")
    hold_kind: str | None = Field(
        None, description="Why a held letter is held, as a kind: no_route, prisoner_released, prisoner_deceased, "
                          "prisoner_moving (transferred, and nobody reaches them at the new facility yet: the "
                          "letter waits while the prisoner is moved), or archived (an operator decided it will "
                          "not be sent)",
        examples=["prisoner_released"])
    handed_over_to: Literal["intermediary", "person", "family"] | None = Field(
        None, description="For handed_over: kept for a released prisoner, the letter was handed to the person "
                          "themselves or their family, in one bundle with the others; empty: an intermediary "
                          "passed it on", examples=["person"])

    @classmethod
    def for_state(cls, letter_id: str, state: str, **facts: object) -> LetterDeliveryUpdated:
        # One event per letter and state: a second hand-over report of the same letter is the same event.
        return cls(event_id=event_id_for(letter_id, f"{cls.routing_key}:{state}"), letter_id=letter_id,
                   state=state, **facts)


class LetterAnswered(LetterEvent):
    """A prisoner's reply was received and linked to this letter."""

    routing_key: ClassVar[str] = "letter.answered"

    prisoner_id: str
    reply_id: str


class PrisonerUpdated(Event):
    """Intake's directory changed a prisoner (new, edited, released, transferred…)."""

    routing_key: ClassVar[str] = "prisoner.updated"

    prisoner_id: str
    name_ru: str
    status: PrisonerStatus
    status_since: str | None = Field(None, description="ISO date of the status change")
    facility_id: str | None = Field(None, description="Where the prisoner is held, if the directory knows")
    facility: Facility | None = Field(
        None, description="That facility as the directory knows it now: address and rules (shared/facilities.py)")


class StaffTokenChanged(BaseModel):
    """A staff token was issued or revoked; every service keeps its own copy of the hashes.

    It grants rights, so only intake may announce it: signed with intake's private key, checked by
    every consumer (shared/signing.py), refused when unsigned, wrongly signed, replayed or stale.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    routing_key: ClassVar[str] = "staff.token_changed"

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utc_now)
    schema_version: int = 1
    token_hash: str = Field(description="SHA-256 of the token; the token itself never travels")
    subject: str = Field(description="Who the token belongs to, e.g. a staff member's handle")
    role: Literal["moderator", "operator", "admin", "translator"]
    expires_at: datetime
    revoked: bool = False
    signature: str | None = Field(
        None, description="Ed25519 signature by intake (base64) over the routing key and the rest of the body; "
                          "services refuse the event without a valid one"
    )


STATUS_EVENTS[LetterDeliveryUpdated.routing_key] = LetterDeliveryUpdated
STATUS_EVENTS[LetterAnswered.routing_key] = LetterAnswered


# A report lists at most this many letters, the longest-waiting first; its counts cover them all.
OVERDUE_REPORT_LIMIT = 100
OverdueService = Literal["intake", "sorting", "delivery"]


class OverdueLetter(BaseModel):
    """One letter (or a prisoner's record) waiting in a non-final state for longer than its deadline."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    letter_id: str = Field(description="The letter's id; for a prisoner's record, the prisoner's id",
                           examples=["l_4f9c2a7d1e8b"])
    state: str = Field(description="Where it waits, in the reporting service's words", examples=["received"])
    since: datetime = Field(description="Since when it has waited there (UTC)")
    note: str = Field("", description="What is known of why, and who can act; never a writer's data")


class OverdueReport(Event):
    """A service's sweep found these letters past their deadline (those it could not heal), for the operators'
    monitor; the latest report of each service replaces its previous one."""

    # One key per service (`overdue.reported.intake`): each broker user may publish only its own.
    routing_key: ClassVar[str] = "overdue.reported"

    service: OverdueService
    checked_at: datetime = Field(description="When the sweep looked")
    overdue: list[OverdueLetter] = Field(default_factory=list, max_length=OVERDUE_REPORT_LIMIT,
                                         description="The longest-waiting overdue letters, oldest first")
    counts: dict[str, int] = Field(default_factory=dict, description="How many are overdue in all, by state")

    @staticmethod
    def routing_key_of(service: OverdueService) -> str:
        return f"{OverdueReport.routing_key}.{service}"

    @classmethod
    def of(cls, service: OverdueService, checked_at: datetime, found: list[OverdueLetter],
           counts: dict[str, int] | None = None) -> OverdueReport:
        """The report of one sweep: the oldest first, within the limit; `counts` default to what was found."""
        if counts is None:
            counts = {}
            for letter in found:
                counts[letter.state] = counts.get(letter.state, 0) + 1
        ordered = sorted(found, key=lambda letter: (letter.since, letter.letter_id))
        return cls(service=service, checked_at=checked_at, overdue=ordered[:OVERDUE_REPORT_LIMIT],
                   counts=dict(sorted(counts.items())))
