"""Operator routes of intake for the directory's facilities, transfers and updates from outside lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from services.intake import facilities, web
from services.intake.directory_import import UnreadableList
from services.intake.directory_updates import MongoProposals, Outcome, Proposal, apply_changes, propose_update
from services.intake.facilities import (
    MongoFacilities,
    StaleFacility,
    UnknownFacility,
    facilities_to_verify,
    move_prisoner,
    set_prisoner_facility,
)
from services.intake.staff import AlreadyExists, NotFound
from services.intake.staff_api import Operator, StaffPrisonerView, _staff_view
from shared.auth import Principal, require_staff
from shared.facilities import FACILITY_ID_PATTERN, Facility
from shared.pages import mount_staff_kit

router = APIRouter(prefix="/api/v1", tags=["directory"])
pages = APIRouter(include_in_schema=False)
# Intake's staff pages (this one and the results page) import the kit from here: one mount per service.
mount_staff_kit(pages, web.SECURITY_HEADERS)
Monitor = Annotated[Principal, Depends(require_staff("moderator", "operator"))]
MAX_LIST_CHARS = 2_000_000  # a list of a few thousand rows; anything larger is not a list of prisoners


@dataclass
class DirectoryContext:
    facilities: MongoFacilities
    proposals: MongoProposals
    rules_max_age_days: int


def _directory(request: Request) -> DirectoryContext:
    return request.app.state.directory


def _intake(request: Request) -> Any:
    return request.app.state.intake


DirectoryDep = Annotated[DirectoryContext, Depends(_directory)]
IntakeDep = Annotated[Any, Depends(_intake)]


@router.get("/staff/facilities", response_model=list[Facility], summary="Facilities and their rules")
async def list_facilities(_: Monitor, directory: DirectoryDep) -> list[Facility]:
    """Role: moderator, operator or admin."""
    return await directory.facilities.list()


@router.post("/facilities", status_code=201, response_model=Facility, summary="Add a facility")
async def add_facility(facility: Facility, staff: Operator, directory: DirectoryDep, intake: IntakeDep) -> Facility:
    """Role: operator or admin."""
    try:
        await facilities.add_facility(facility, staff, directory.facilities, intake.audit)
    except AlreadyExists as refused:
        raise HTTPException(409, str(refused)) from refused
    return facility


class FacilitySaved(BaseModel):
    facility: Facility
    prisoners_announced: int = Field(description="Prisoners held there, announced again with the new details")


@router.put("/facilities/{facility_id}", response_model=FacilitySaved, summary="Change a facility or its rules")
async def edit_facility(facility_id: str, facility: Facility, staff: Operator, directory: DirectoryDep,
                        intake: IntakeDep) -> FacilitySaved:
    """Role: operator or admin. Every service learns the new rules with the prisoners held there."""
    if facility.id != facility_id:
        raise HTTPException(422, "the facility's id cannot change; add a new facility instead")
    try:
        announced = await facilities.edit_facility(facility, staff, directory.facilities, intake.prisoners, intake.outbox,
                                        intake.audit)
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing
    return FacilitySaved(facility=facility, prisoners_announced=announced)


@router.get("/staff/facilities/to-verify", response_model=list[StaleFacility],
            summary="Facilities whose rules nobody has checked for too long")
async def rules_to_verify(_: Monitor, directory: DirectoryDep,
                          days: Annotated[int | None, Query(ge=0, le=3650)] = None) -> list[StaleFacility]:
    """Role: moderator, operator or admin. `days` defaults to INTAKE_FACILITY_RULES_MAX_AGE_DAYS."""
    max_age = directory.rules_max_age_days if days is None else days
    return await facilities_to_verify(directory.facilities, date.today(), max_age)


class Placement(BaseModel):
    facility_id: str = Field(pattern=FACILITY_ID_PATTERN)


class Transfer(Placement):
    since: date = Field(default_factory=date.today)


@router.post("/prisoners/{prisoner_id}/facility", response_model=StaffPrisonerView,
             summary="Record where a prisoner is held (a correction; a move is a transfer)")
async def set_facility(prisoner_id: str, placement: Placement, staff: Operator, directory: DirectoryDep,
                       intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin."""
    try:
        return _staff_view(await set_prisoner_facility(prisoner_id, placement.facility_id, staff,
                                                       directory.facilities, intake.prisoners, intake.outbox,
                                                       intake.audit))
    except UnknownFacility as error:
        raise HTTPException(422, f"no facility {error.args[0]!r}") from None
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


@router.post("/prisoners/{prisoner_id}/transfer", response_model=StaffPrisonerView,
             summary="A prisoner was moved to another facility")
async def transfer(prisoner_id: str, move: Transfer, staff: Operator, directory: DirectoryDep,
                   intake: IntakeDep) -> StaffPrisonerView:
    """Role: operator or admin. Status becomes `transferred` with the new facility, announced together."""
    try:
        return _staff_view(await move_prisoner(prisoner_id, move.facility_id, move.since, staff,
                                               directory.facilities, intake.prisoners, intake.outbox, intake.audit))
    except UnknownFacility as error:
        raise HTTPException(422, f"no facility {error.args[0]!r}") from None
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


class ListUpload(BaseModel):
    csv: str = Field(min_length=1, max_length=MAX_LIST_CHARS, description="The list's CSV export, UTF-8 text")
    source: str = Field("", max_length=200, examples=["Crimean Human Rights Group, list of 2026-11-30"])


@router.post("/directory/imports", status_code=201, response_model=Proposal,
             summary="Compare an outside list with the directory: a proposed change set")
async def propose_import(upload: ListUpload, staff: Operator, directory: DirectoryDep, intake: IntakeDep) -> Proposal:
    """Role: operator or admin. Nothing changes until changes are confirmed (…/apply)."""
    try:
        return await propose_update(upload.csv, upload.source, staff, intake.prisoners, directory.facilities,
                                    directory.proposals, intake.audit, date.today())
    except UnreadableList as error:
        raise HTTPException(422, str(error)) from None


@router.get("/directory/imports/{proposal_id}", response_model=Proposal, summary="A proposed change set")
async def show_import(proposal_id: str, _: Operator, directory: DirectoryDep) -> Proposal:
    """Role: operator or admin."""
    return await _proposal(proposal_id, directory)


class Confirmation(BaseModel):
    change_ids: list[str] = Field(min_length=1, max_length=5000, description="The changes the operator chose")


class Applied(BaseModel):
    outcomes: list[Outcome]
    proposal: Proposal


@router.post("/directory/imports/{proposal_id}/apply", response_model=Applied,
             summary="Apply the confirmed changes of a proposal")
async def apply_import(proposal_id: str, confirmation: Confirmation, staff: Operator, directory: DirectoryDep,
                       intake: IntakeDep) -> Applied:
    """Role: operator or admin. Only the chosen changes, each once; one that no longer fits the directory
    (changed since the proposal) is refused and reported."""
    proposal = await _proposal(proposal_id, directory)
    outcomes = await apply_changes(proposal, confirmation.change_ids, staff.subject, staff.role,
                                   prisoners=intake.prisoners, facilities=directory.facilities,
                                   proposals=directory.proposals, outbox=intake.outbox, audit=intake.audit)
    return Applied(outcomes=outcomes, proposal=await _proposal(proposal_id, directory))


async def _proposal(proposal_id: str, directory: DirectoryContext) -> Proposal:
    proposal = await directory.proposals.get(proposal_id)
    if proposal is None:
        raise HTTPException(404, "no such proposal")
    return proposal


@pages.get("/staff/directory-import")
async def import_page(request: Request) -> Response:
    """The operators' page for updates from outside lists: upload, read the diff, confirm changes."""
    return web.TEMPLATES.response(request, "directory-import.html")
