"""What delivery works with: intermediaries, prisoners, letters on the outgoing queue, bundles.

Plain values. Only the repositories (adapters.py) turn them into MongoDB documents and back.
Every point in time is an aware UTC datetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.prisoners import PrisonerStatus

DeliveryState = Literal[
    "queued", "bundled", "sent", "handed_over", "returned", "blocked", "held", "failed"
]
DELIVERY_STATES: tuple[str, ...] = DeliveryState.__args__  # type: ignore[attr-defined]
# building: letters claimed, PDF being made · ready: waiting to be sent (by e-mail, or by an
# operator for a manual hand-off) · sent · failed: the channel gave up · cancelled: never sent.
BundleState = Literal["building", "ready", "sent", "failed", "cancelled"]
ChannelName = Literal["email", "manual"]
IntermediaryKind = Literal["relative", "lawyer", "defender"]
# prisoner_moving: the prisoner was transferred and nobody reaches them at the new facility yet.
HoldKind = Literal["no_route", "prisoner_released", "prisoner_deceased", "prisoner_moving"]
# Who received letters an operator handed over on a release: the person themselves, or their family.
ReleaseRecipient = Literal["person", "family"]
# What a letter's history records: it followed the prisoner to another facility (transfer, or the
# facility became known), it was already out when they moved, a held letter found a route (an
# intermediary was added), or it was handed over on release.
RouteChange = Literal["transfer", "placement", "not_recalled", "route_found", "release_hand_over"]
Outcome = Literal["handed_over", "returned", "blocked"]

# Before any time delivery deals in: a prisoner seeded before any news of them, a lease nobody holds.
# A date rather than None, so that one range (`leased_until < now`) finds it on every MongoDB.
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)

ID_PATTERN = r"^[a-z0-9_\-]{2,64}$"
FACILITY_ID_PATTERN = r"^[a-z0-9_\-]{2,64}$"


class Intermediary(BaseModel):
    """A relative, lawyer or human-rights defender who passes letters to one prisoner."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN, examples=["i_demo_01"])
    prisoner_id: str = Field(pattern=ID_PATTERN, examples=["p_demo_01"])
    name: str = Field(min_length=1, max_length=120)
    kind: IntermediaryKind
    channel: ChannelName
    address: str = Field(min_length=1, max_length=254, description="E-mail address, or how an operator reaches them")
    capacity_per_bundle: int = Field(20, ge=1, le=500, description="Most letters they take in one bundle")
    active: bool = True
    primary: bool = False
    facility_id: str | None = Field(
        None, pattern=FACILITY_ID_PATTERN,
        description="Reaches the prisoner only while they are held at this facility (a lawyer admitted to one "
                    "pre-trial centre, a defender who visits one colony); empty: wherever they are held (a relative "
                    "who posts letters on)", examples=["sizo_1_simferopol"])


class Prisoner(BaseModel):
    """What delivery knows of a prisoner, learnt from intake's `prisoner.updated`."""

    model_config = ConfigDict(frozen=True)

    id: str
    name_ru: str
    status: PrisonerStatus = "detained"
    status_since: str | None = None
    # When intake's directory last changed it: older news is ignored.
    updated_at: datetime = LONG_AGO
    # When the status last changed: a bundle made before a release is not sent.
    status_changed_at: datetime = LONG_AGO
    review_reason: str | None = Field(None, description="Why an operator should check this prisoner's route")
    facility_id: str | None = Field(None, description="Where they are held, from intake's directory (None: unknown)")
    facility_name: str | None = None


class RouteStep(BaseModel):
    """One line of a letter's history: where it went when the prisoner moved or was released."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    change: RouteChange
    state: str = Field(description="The letter's state after the change")
    from_facility_id: str | None = None
    to_facility_id: str | None = None
    from_intermediary_id: str | None = None
    to_intermediary_id: str | None = None
    bundle_id: str | None = Field(None, description="The bundle concerned: cancelled, already sent, or handed over")
    note: str = ""


class OutgoingLetter(BaseModel):
    """A letter on the outgoing queue. It carries no writer data at all: only ids and its scan."""

    model_config = ConfigDict(extra="ignore")

    id: str
    prisoner_id: str
    scan_key: str
    scan_sha256: str
    pages: int
    state: DeliveryState = "queued"
    intermediary_id: str | None = None
    bundle_id: str | None = None
    reason: str | None = Field(None, description="Why the letter is held, returned, blocked or failed")
    hold_kind: HoldKind | None = None
    archived: bool = False
    # An operator chose the intermediary on purpose (after a release, say): no automatic hold undoes it.
    redirected: bool = False
    queued_at: datetime
    changed_at: datetime
    sent_at: datetime | None = None
    handed_over_at: datetime | None = None
    # The facility the prisoner was held at when the letter was routed: a transfer moves letters
    # routed for another facility (services/delivery/transfers.py).
    facility_id: str | None = None
    history: list[RouteStep] = Field(default_factory=list, description="Where the letter went, oldest first")
    # A hand-over on release under way claims the letter for its bundle (services/delivery/release.py).
    release_bundle_id: str | None = None


class Bundle(BaseModel):
    """Letters for one intermediary, packed into one PDF and sent together."""

    model_config = ConfigDict(extra="ignore")

    id: str
    # A release bundle has no intermediary: an operator hands it to the person or their family.
    intermediary_id: str | None
    prisoner_id: str
    channel: ChannelName
    state: BundleState = "building"
    letter_ids: list[str] = Field(default_factory=list)
    pages: int = 0
    pdf_key: str
    manifest_key: str
    pdf_sha256: str | None = None
    pdf_bytes: int = 0
    created_at: datetime
    ready_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    attempts: int = 0
    # When a ready bundle is (next) sent by the scheduler; None until it is ready.
    next_attempt_at: datetime | None = None
    # Whoever holds an unexpired lease is building or sending the bundle; others keep off.
    leased_until: datetime = LONG_AGO
    last_error: str | None = None
    sent_by: str | None = None
    purpose: Literal["route", "release"] = "route"
    recipient: ReleaseRecipient | None = Field(None, description="Whom a release bundle was handed to")


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a staff member, an intermediary through their link, or delivery itself."""

    who: str
    role: str


SCHEDULER = Actor("delivery", "system")
