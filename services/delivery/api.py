"""Delivery's HTTP API for operators: the queue, letters, prisoners, intermediaries, the audit log.

Thin routes: check the role, call one use case, shape the answer. Every change is recorded in
the append-only audit log by the use case, with who did it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.delivery import directory, release, service
from services.delivery.context import Delivery
from services.delivery.errors import NotFound
from services.delivery.model import Actor, Intermediary, OutgoingLetter, RouteStep
from services.delivery.monitor import MonitorView, snapshot, throughput_over_time
from services.delivery.throughput import ThroughputOverTime, ThroughputRange
from shared.auth import Principal, require_staff


def _delivery(request: Request) -> Delivery:
    return request.app.state.delivery


DeliveryDep = Annotated[Delivery, Depends(_delivery)]
Operator = Annotated[Principal, Depends(require_staff("operator"))]
Admin = Annotated[Principal, Depends(require_staff("admin"))]


def actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.role)


router = APIRouter(prefix="/api/v1", tags=["outgoing"])


class WaitingLetterView(BaseModel):
    letter_id: str
    prisoner_id: str
    state: str
    pages: int
    queued_at: datetime


class OutgoingView(BaseModel):
    counts: dict[str, int]
    waiting: list[WaitingLetterView]


@router.get("/outgoing", response_model=OutgoingView, summary="The outgoing queue: counts and oldest waiting")
async def outgoing(
    _: Operator, delivery: DeliveryDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> OutgoingView:
    """Role: operator or admin. Which letters wait for which prisoner is not for strangers to see."""
    waiting = [
        WaitingLetterView(letter_id=letter.id, prisoner_id=letter.prisoner_id, state=letter.state, pages=letter.pages,
                          queued_at=letter.queued_at)
        for letter in await delivery.letters.waiting(limit)
    ]
    return OutgoingView(counts=await delivery.letters.counts(), waiting=waiting)


@router.get("/monitor", response_model=MonitorView, tags=["monitor"],
            summary="Everything operators watch: counts, backlogs, bundles, failures, held letters, throughput")
async def monitor(_: Operator, delivery: DeliveryDep) -> MonitorView:
    """Role: operator or admin. The page at `/monitor` polls this every few seconds."""
    return await snapshot(delivery)


@router.get("/monitor/throughput", response_model=ThroughputOverTime, tags=["monitor"],
            summary="Letters arrived, sent, handed over and held, per UTC hour or day")
async def throughput(
    _: Operator, delivery: DeliveryDep,
    range_: Annotated[ThroughputRange, Query(
        alias="range", description="`48h`: 48 buckets of one UTC hour; `30d`: 30 buckets of one UTC day. "
                                   "The newest bucket holds the present moment and is still filling")] = "48h",
) -> ThroughputOverTime:
    """Role: operator or admin. The monitor's throughput chart reads it with its other panels."""
    return await throughput_over_time(delivery, range_)


class LetterView(BaseModel):
    letter_id: str
    prisoner_id: str
    state: str
    intermediary_id: str | None
    bundle_id: str | None
    reason: str | None
    hold_kind: str | None
    archived: bool
    redirected: bool
    pages: int
    queued_at: datetime
    changed_at: datetime
    sent_at: datetime | None
    handed_over_at: datetime | None
    facility_id: str | None = Field(None, description="The facility the letter is routed for")
    history: list[RouteStep] = Field(
        default_factory=list, description="Where the letter went when its prisoner was moved or released, oldest "
                                          "first: the route before and after, a bundle cancelled, sent or handed over")

    @classmethod
    def of(cls, letter: OutgoingLetter) -> LetterView:
        return cls(letter_id=letter.id, prisoner_id=letter.prisoner_id, state=letter.state,
                   intermediary_id=letter.intermediary_id, bundle_id=letter.bundle_id, reason=letter.reason,
                   hold_kind=letter.hold_kind, archived=letter.archived, redirected=letter.redirected,
                   pages=letter.pages, queued_at=letter.queued_at, changed_at=letter.changed_at,
                   sent_at=letter.sent_at, handed_over_at=letter.handed_over_at,
                   facility_id=letter.facility_id, history=letter.history)


letters = APIRouter(prefix="/api/v1/letters", tags=["letters"])


@letters.get("/{letter_id}", response_model=LetterView, summary="One letter's delivery state and why")
async def letter(letter_id: str, _: Operator, delivery: DeliveryDep) -> LetterView:
    """Role: operator or admin."""
    found = await delivery.letters.get(letter_id)
    if found is None:
        raise NotFound(f"no letter {letter_id!r} on the outgoing queue")
    return LetterView.of(found)


class OutcomeRequest(BaseModel):
    outcome: Literal["handed_over", "returned", "blocked"]
    reason: str | None = Field(None, max_length=500, description="Required for returned and blocked")


@letters.post("/{letter_id}/outcome", response_model=LetterView, summary="Record a hand-over, return or block")
async def letter_outcome(letter_id: str, request: OutcomeRequest, who: Operator, delivery: DeliveryDep) -> LetterView:
    """Role: operator or admin. Repeating the same outcome changes nothing; 409 if the letter has not been sent."""
    return LetterView.of(await service.record_outcome(delivery, letter_id, request.outcome, request.reason, actor(who)))


class RedirectRequest(BaseModel):
    intermediary_id: str


@letters.post("/{letter_id}/redirect", response_model=LetterView,
              summary="Send a held letter through a chosen intermediary")
async def redirect(letter_id: str, request: RedirectRequest, who: Operator, delivery: DeliveryDep) -> LetterView:
    """Role: operator or admin. Only a held letter; the intermediary must be an active one of its prisoner."""
    return LetterView.of(await service.redirect(delivery, letter_id, request.intermediary_id, actor(who)))


class ArchiveRequest(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="Why the letter will never be sent or handed over",
                        examples=["the family asked us not to pass on letters from strangers"])


@letters.post("/{letter_id}/archive", response_model=LetterView, summary="Decide a held letter will not be sent")
async def archive(letter_id: str, request: ArchiveRequest, who: Operator, delivery: DeliveryDep) -> LetterView:
    """Role: operator or admin. Only a held letter, with a reason (422 without one), written to the audit log.
    It leaves the operators' list and the letters kept for release, and stays held for good."""
    return LetterView.of(await service.archive(delivery, letter_id, request.reason, actor(who)))


people = APIRouter(prefix="/api/v1", tags=["directory"])


@people.get("/intermediaries", response_model=list[Intermediary], summary="Intermediaries, with their addresses")
async def intermediaries(_: Operator, delivery: DeliveryDep, prisoner_id: str | None = None) -> list[Intermediary]:
    """Role: operator or admin (addresses are personal data)."""
    if prisoner_id:
        return await delivery.intermediaries.of_prisoner(prisoner_id)
    return await delivery.intermediaries.all()


@people.put("/intermediaries/{intermediary_id}", response_model=Intermediary, summary="Add or change an intermediary")
async def save_intermediary(intermediary_id: str, intermediary: Intermediary, who: Operator,
                            delivery: DeliveryDep) -> Intermediary:
    """Role: operator or admin. Letters without a usable route are routed again; withdrawing one
    (`active: false`) undoes their unsent bundle and routes its letters to another."""
    if intermediary.id != intermediary_id:
        raise service.Invalid("the id in the path and in the body differ")
    return await directory.save_intermediary(delivery, intermediary, actor(who))


class PrisonerView(BaseModel):
    prisoner_id: str
    name_ru: str
    status: str
    status_since: str | None
    review_reason: str | None
    facility_id: str | None = None
    facility_name: str | None = None


@people.get("/prisoners", response_model=list[PrisonerView], summary="Prisoners as delivery knows them")
async def prisoners(_: Operator, delivery: DeliveryDep) -> list[PrisonerView]:
    """Role: operator or admin."""
    return [PrisonerView(prisoner_id=p.id, name_ru=p.name_ru, status=p.status, status_since=p.status_since,
                         review_reason=p.review_reason, facility_id=p.facility_id, facility_name=p.facility_name)
            for p in await delivery.prisoners.all()]


@people.get("/prisoners/{prisoner_id}/kept-letters", response_model=list[LetterView],
            summary="The held letters kept for a prisoner (released, unreachable, being moved)")
async def kept_letters(prisoner_id: str, _: Operator, delivery: DeliveryDep) -> list[LetterView]:
    """Role: operator or admin. Held and not archived, oldest first: what a hand-over on release would take."""
    return [LetterView.of(letter) for letter in await release.kept_letters(delivery, prisoner_id)]


@people.post("/prisoners/{prisoner_id}/reviewed", status_code=204, summary="Clear a prisoner's review flag")
async def reviewed(prisoner_id: str, who: Operator, delivery: DeliveryDep) -> None:
    """Role: operator or admin: the route was checked after a transfer."""
    await directory.mark_reviewed(delivery, prisoner_id, actor(who))


class AuditEntry(BaseModel):
    id: str
    who: str
    role: str
    action: str
    target: str
    details: dict
    at: datetime


@people.get("/audit", response_model=list[AuditEntry], tags=["audit"], summary="Who did what, when (newest first)")
async def audit(_: Admin, delivery: DeliveryDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditEntry]:
    """Role: admin."""
    return [AuditEntry(id=entry["id"], who=entry["actor"], role=entry["role"] or "", action=entry["action"],
                       target=entry["target"], details=entry["details"], at=entry["at"])
            for entry in await delivery.audit.recent(limit)]


routers = [router, letters, people]
