"""Staff routes of intake: the directory, campaign events, kiosks, live counts, staff tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from services.intake.kiosks import revoke_kiosk
from services.intake.service import prisoners_by_attention
from services.intake.staff import (
    CampaignEvent,
    PrisonerChange,
    PrisonerRecord,
    StatusChange,
    change_prisoner,
    change_status,
    issue_staff_token,
    revoke_staff_token,
    save_prisoner,
)
from shared.auth import Principal, hash_token, require_staff
from shared.facilities import Facility

router = APIRouter(prefix="/api/v1", tags=["staff"])
Operator = Annotated[Principal, Depends(require_staff("operator"))]
Admin = Annotated[Principal, Depends(require_staff("admin"))]
Staff = Annotated[Principal, Depends(require_staff("moderator", "operator"))]


def _intake(request: Request) -> Any:
    return request.app.state.intake


IntakeDep = Annotated[Any, Depends(_intake)]


class StaffPrisonerView(PrisonerRecord):
    letters_received: int = 0
    facility_id: str | None = Field(None, description="Where the prisoner is held (set through …/facility or "
                                                      "…/transfer)")
    facility: Facility | None = None


@router.get("/staff/prisoners", response_model=list[StaffPrisonerView], summary="Directory with non-public notes")
async def staff_prisoners(_: Operator, intake: IntakeDep) -> list[StaffPrisonerView]:
    """Role: operator or admin."""
    today = datetime.now(UTC).date()
    return [_staff_view(doc) for doc in await prisoners_by_attention(intake.prisoners, intake.letters, today)]


def _staff_view(doc: dict[str, Any]) -> StaffPrisonerView:
    # The stored document also holds the repository's bookkeeping (its revision, events waiting for
    # the relay): the view takes its own fields only.
    shown = StaffPrisonerView.model_fields
    return StaffPrisonerView.model_validate({k: v for k, v in doc.items() if k in shown} | {"id": doc["_id"]})


@router.post("/prisoners", status_code=201, response_model=PrisonerRecord, summary="Add a prisoner")
async def add_prisoner(record: PrisonerRecord, staff: Operator, intake: IntakeDep) -> PrisonerRecord:
    """Role: operator or admin."""
    if await intake.prisoners.get(record.id) is not None:
        raise HTTPException(409, f"a prisoner with id {record.id!r} already exists")
    await save_prisoner(record, intake.prisoners, intake.outbox)
    await intake.audit.record(staff.subject, "added prisoner", record.id, role=staff.role)
    return record


@router.patch("/prisoners/{prisoner_id}", response_model=StaffPrisonerView, summary="Edit a prisoner")
async def edit_prisoner(prisoner_id: str, change: PrisonerChange, staff: Operator, intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin."""
    fields = change.model_dump(mode="json", exclude_unset=True)
    # The edit and its prisoner.updated are one write; an empty edit changes and announces nothing.
    updated = (await change_prisoner(prisoner_id, fields, intake.prisoners, intake.outbox) if fields
               else await intake.prisoners.get(prisoner_id))
    if updated is None:
        raise HTTPException(404, "no such prisoner")
    await intake.audit.record(staff.subject, "edited prisoner", prisoner_id, role=staff.role, fields=sorted(fields))
    return _staff_view(updated)


@router.post("/prisoners/{prisoner_id}/status", response_model=StaffPrisonerView,
             summary="Change a prisoner's status (released, transferred…)")
async def set_status(prisoner_id: str, change: StatusChange, staff: Operator, intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin. Delivery holds or re-routes pending letters on this change."""
    updated = await change_status(prisoner_id, change, intake.prisoners, intake.outbox)
    if updated is None:
        raise HTTPException(404, "no such prisoner")
    await intake.audit.record(staff.subject, "changed prisoner status", prisoner_id, role=staff.role, status=change.status)
    return _staff_view(updated)


@router.post("/events", status_code=201, response_model=CampaignEvent, summary="Create a campaign event")
async def create_event(event: CampaignEvent, staff: Operator, intake: IntakeDep) -> CampaignEvent:
    """Role: operator or admin."""
    if event.ends_on < event.starts_on:
        raise HTTPException(422, "an event cannot end before it starts")
    if not await intake.campaign_events.insert(event.model_dump(mode="json")):
        raise HTTPException(409, f"an event with id {event.id!r} already exists")
    await intake.audit.record(staff.subject, "created event", event.id, role=staff.role)
    return event


@router.get("/events", response_model=list[CampaignEvent], tags=["events"], summary="Campaign events (public)")
async def list_events(intake: IntakeDep) -> list[CampaignEvent]:
    """Role: anyone."""
    return [CampaignEvent.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})
            for doc in await intake.campaign_events.list()]


class KioskCreated(BaseModel):
    kiosk_id: str
    event_id: str
    token: str = Field(description="Shown once: open /kiosk#token=<token> on the device")


class KioskRequest(BaseModel):
    kiosk_id: str = Field(pattern=r"^[a-z0-9_\-]{2,64}$")
    name: str = Field(min_length=1, max_length=120)


@router.post("/events/{event_id}/kiosks", status_code=201, response_model=KioskCreated,
             summary="Issue a kiosk token bound to this event")
async def add_kiosk(event_id: str, kiosk: KioskRequest, staff: Operator, intake: IntakeDep) -> KioskCreated:
    """Role: operator or admin. The token is shown once and stored hashed."""
    if await intake.campaign_events.get(event_id) is None:
        raise HTTPException(404, "no such event")
    token = await intake.tokens.issue("kiosk", subject=kiosk.kiosk_id, event_id=event_id, name=kiosk.name)
    await intake.audit.record(staff.subject, "issued kiosk token", kiosk.kiosk_id, role=staff.role, event_id=event_id)
    return KioskCreated(kiosk_id=kiosk.kiosk_id, event_id=event_id, token=token)


@router.delete("/events/{event_id}/kiosks/{kiosk_id}", status_code=204, responses={404: {}},
               summary="Unpair a kiosk: revoke its tokens at this event")
async def unpair_kiosk(event_id: str, kiosk_id: str, staff: Operator, intake: IntakeDep) -> None:
    """Role: operator or admin. Its next request is refused (403, `kiosk_refused: unpaired`); the kiosk says
    it was unpaired by the organisers and keeps its unsent letters for staff. Revoking again changes nothing."""
    if not await revoke_kiosk(event_id, kiosk_id, intake.tokens):
        raise HTTPException(404, "no such kiosk at this event")
    await intake.audit.record(staff.subject, "revoked kiosk token", kiosk_id, role=staff.role, event_id=event_id)


class LiveCounts(BaseModel):
    by_event: dict[str, int]
    by_city: dict[str, int]
    by_kiosk: dict[str, int]


@router.get("/stats/live", response_model=LiveCounts, summary="Letters per event, city and kiosk, now")
async def live_counts(_: Staff, intake: IntakeDep) -> LiveCounts:
    """Role: moderator, operator or admin."""
    return LiveCounts(
        by_event=await intake.letters.live_counts("campaign_event_id"),
        by_city=await intake.letters.live_counts("writer_city"),
        by_kiosk=await intake.letters.live_counts("kiosk_id"),
    )


class TokenRequest(BaseModel):
    subject: str = Field(pattern=r"^[\w.\-@]{1,64}$", examples=["anna.moderator"])
    role: str = Field(pattern=r"^(moderator|operator|admin|translator)$")
    days: int = Field(30, ge=1, le=366)


class TokenIssued(BaseModel):
    token: str = Field(description="Shown once")
    token_hash: str


@router.post("/staff/tokens", status_code=201, response_model=TokenIssued, summary="Issue a staff token")
async def issue_token(request: TokenRequest, staff: Admin, intake: IntakeDep) -> TokenIssued:
    """Role: admin. Every service learns the token's hash through the broker."""
    # intake.tokens writes intake's copy of the staff tokens with the signed announcement, in one write.
    token = await issue_staff_token(request.subject, request.role, request.days, intake.tokens, intake.outbox,
                                   intake.signer)
    await intake.audit.record(staff.subject, "issued staff token", request.subject, role=staff.role,
                              granted_role=request.role)
    return TokenIssued(token=token, token_hash=hash_token(token))


@router.delete("/staff/tokens/{token_hash}", status_code=204, summary="Revoke a staff token")
async def revoke_token(token_hash: str, staff: Admin, intake: IntakeDep) -> None:
    """Role: admin. Revocation reaches every service through the broker."""
    await revoke_staff_token(token_hash, intake.tokens, intake.outbox, intake.signer)
    await intake.audit.record(staff.subject, "revoked staff token", token_hash[:12], role=staff.role)


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    role: str | None = Field(None, description="The actor's role; empty for the service's own actions")
    action: str
    target: str
    details: dict[str, Any] = Field(default_factory=dict)


@router.get("/audit", response_model=list[AuditEntry], summary="The audit log, newest first")
async def audit_log(_: Admin, intake: IntakeDep, limit: int = 100) -> list[AuditEntry]:
    """Role: admin."""
    return [AuditEntry.model_validate(doc) for doc in await intake.audit.recent(min(max(limit, 1), 1000))]
