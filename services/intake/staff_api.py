"""Staff routes of intake: the directory, campaign events, kiosks, live counts, staff tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from services.intake import staff as cases
from services.intake.service import prisoners_by_attention
from services.intake.staff import CampaignEvent, PrisonerChange, PrisonerRecord, StatusChange
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
    try:
        await cases.add_prisoner(record, staff, intake.staff_desk)
    except cases.AlreadyExists as refused:
        raise HTTPException(409, str(refused)) from refused
    return record


@router.patch("/prisoners/{prisoner_id}", response_model=StaffPrisonerView, summary="Edit a prisoner")
async def edit_prisoner(prisoner_id: str, change: PrisonerChange, staff: Operator, intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin."""
    fields = change.model_dump(mode="json", exclude_unset=True)
    try:
        return _staff_view(await cases.edit_prisoner(prisoner_id, fields, staff, intake.staff_desk))
    except cases.NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


@router.post("/prisoners/{prisoner_id}/status", response_model=StaffPrisonerView,
             summary="Change a prisoner's status (released, transferred…)")
async def set_status(prisoner_id: str, change: StatusChange, staff: Operator, intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin. Delivery holds or re-routes pending letters on this change."""
    try:
        return _staff_view(await cases.set_prisoner_status(prisoner_id, change, staff, intake.staff_desk))
    except cases.NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


@router.post("/events", status_code=201, response_model=CampaignEvent, summary="Create a campaign event")
async def create_event(event: CampaignEvent, staff: Operator, intake: IntakeDep) -> CampaignEvent:
    """Role: operator or admin."""
    try:
        await cases.create_event(event, staff, intake.staff_desk)
    except cases.EventEndsBeforeItStarts as refused:
        raise HTTPException(422, str(refused)) from refused
    except cases.AlreadyExists as refused:
        raise HTTPException(409, str(refused)) from refused
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
    try:
        token = await cases.add_kiosk(event_id, kiosk.kiosk_id, kiosk.name, staff, intake.staff_desk)
    except cases.NotFound as missing:
        raise HTTPException(404, str(missing)) from missing
    return KioskCreated(kiosk_id=kiosk.kiosk_id, event_id=event_id, token=token)


@router.delete("/events/{event_id}/kiosks/{kiosk_id}", status_code=204, responses={404: {}},
               summary="Unpair a kiosk: revoke its tokens at this event")
async def unpair_kiosk(event_id: str, kiosk_id: str, staff: Operator, intake: IntakeDep) -> None:
    """Role: operator or admin. Its next request is refused (403, `kiosk_refused: unpaired`); the kiosk says
    it was unpaired by the organisers and keeps its unsent letters for staff. Revoking again changes nothing."""
    try:
        await cases.unpair_kiosk(event_id, kiosk_id, staff, intake.staff_desk)
    except cases.NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


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
    token = await cases.grant_staff_token(request.subject, request.role, request.days, staff, intake.staff_desk)
    return TokenIssued(token=token, token_hash=hash_token(token))


@router.delete("/staff/tokens/{token_hash}", status_code=204, summary="Revoke a staff token")
async def revoke_token(token_hash: str, staff: Admin, intake: IntakeDep) -> None:
    """Role: admin. Revocation reaches every service through the broker."""
    await cases.withdraw_staff_token(token_hash, staff, intake.staff_desk)


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
