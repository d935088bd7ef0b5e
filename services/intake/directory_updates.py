"""Directory updates from outside lists, as use cases: propose a change set, then apply what an operator confirms.

A proposal is stored with an id and is never applied as a whole: the operator picks changes, and
each one is applied at most once, through the same use cases as the operator's own edits (so it
is audited and announced like them). A change whose prisoner changed since the proposal was made
is refused, not applied over the newer news.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.directory_import import (
    ChangeSet,
    ProposedChange,
    Situation,
    new_person_names,
    propose,
    read_list,
)
from services.intake.facilities import MongoFacilities, place_prisoner, transfer_prisoner
from services.intake.ports import AuditTrail
from services.intake.staff import Names, PrisonerRecord, StatusChange, change_status, save_prisoner
from shared.audit import AuditLog
from shared.auth import Principal
from shared.events import utc_now
from shared.mongo import read_times, stored_time, upgrade_times
from shared.outbox import Outbox


class Proposal(ChangeSet):
    id: str
    source: str = Field("", description="What the list is, as the operator named it")
    proposed_by: str
    proposed_at: datetime
    applied: dict[str, str] = Field(default_factory=dict, description="Change id → who applied it")


class Outcome(BaseModel):
    change_id: str
    result: Literal["applied", "already_applied", "changed_since", "gone", "unknown_change"]
    prisoner_id: str | None = None


# The name of a proposal's time in the schema before dates (epoch seconds), converted at start.
PROPOSAL_EPOCHS = {"proposed_epoch": "proposed_at"}


class MongoProposals:
    def __init__(self, db: AsyncDatabase) -> None:
        self._proposals = db["directory_imports"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._proposals, PROPOSAL_EPOCHS)

    async def insert(self, proposal: Proposal) -> None:
        # The changes as JSON, since BSON has no plain day (birthdays stay ISO text); the proposal's time a date.
        changes = proposal.model_dump(mode="json", exclude={"id", "proposed_at"})
        await self._proposals.insert_one({"_id": proposal.id, **changes, "proposed_at": stored_time(proposal.proposed_at)})

    async def get(self, proposal_id: str) -> Proposal | None:
        doc = await self._proposals.find_one({"_id": proposal_id})
        return None if doc is None else Proposal.model_validate({**read_times(doc, ("proposed_at",)), "id": doc["_id"]})

    async def claim(self, proposal_id: str, change_id: str, by: str) -> bool:
        """Mark one change applied; False if someone applied it already (two operators confirming at once)."""
        result = await self._proposals.update_one(
            {"_id": proposal_id, f"applied.{change_id}": {"$exists": False}}, {"$set": {f"applied.{change_id}": by}})
        return result.modified_count == 1

    async def release(self, proposal_id: str, change_id: str) -> None:
        await self._proposals.update_one({"_id": proposal_id}, {"$unset": {f"applied.{change_id}": ""}})


async def propose_update(text: str, source: str, by: Principal, prisoners, facilities: MongoFacilities,
                         proposals: MongoProposals, audit: AuditTrail, today: date) -> Proposal:
    """Read the list and store its differences from the directory as a proposal; nothing changes yet."""
    rows, problems = read_list(text)
    found = propose(rows, await prisoners.list_public(), await facilities.list(), today)
    proposal = Proposal(id=f"imp_{secrets.token_hex(6)}", source=source, proposed_by=by.subject,
                        proposed_at=utc_now(), changes=found.changes, problems=problems + found.problems,
                        unchanged=found.unchanged)
    await proposals.insert(proposal)
    await audit.record(by.subject, "proposed directory update", proposal.id, role=by.role,
                       changes=len(proposal.changes), problems=len(proposal.problems), source=source)
    return proposal


async def apply_changes(proposal: Proposal, change_ids: list[str], by: str, role: str, *, prisoners,
                        facilities: MongoFacilities, proposals: MongoProposals, outbox: Outbox,
                        audit: AuditLog) -> list[Outcome]:
    """Apply the chosen changes, each at most once, each audited and announced."""
    changes = {change.id: change for change in proposal.changes}
    outcomes = []
    for change_id in dict.fromkeys(change_ids):
        change = changes.get(change_id)
        if change is None:
            outcomes.append(Outcome(change_id=change_id, result="unknown_change"))
        elif not await proposals.claim(proposal.id, change_id, by):
            outcomes.append(Outcome(change_id=change_id, result="already_applied", prisoner_id=change.prisoner_id))
        else:
            try:
                result = await _apply(change, prisoners, facilities, outbox)
            except BaseException:
                await proposals.release(proposal.id, change_id)
                raise
            if result != "applied":
                await proposals.release(proposal.id, change_id)
            else:
                await audit.record(by, f"applied directory change ({change.kind})", change.prisoner_id, role=role,
                                   proposal=proposal.id, change=change_id, source=proposal.source,
                                   status=change.after.status, facility_id=change.after.facility_id)
            outcomes.append(Outcome(change_id=change_id, result=result, prisoner_id=change.prisoner_id))
    return outcomes


async def _apply(change: ProposedChange, prisoners, facilities: MongoFacilities, outbox: Outbox) -> str:
    current = await prisoners.get(change.prisoner_id)
    if change.kind == "new":
        if current is not None:
            return "changed_since"
        await save_prisoner(_new_record(change), prisoners, outbox)
        if change.after.facility_id:
            await place_prisoner(change.prisoner_id, change.after.facility_id, facilities, prisoners, outbox)
        return "applied"
    if current is None:
        return "gone"
    if _situation(current) != change.before:
        return "changed_since"
    await _move(change.prisoner_id, change.before, change.after, prisoners, facilities, outbox)
    return "applied"


async def _move(prisoner_id: str, before: Situation, after: Situation, prisoners, facilities: MongoFacilities,
                outbox: Outbox) -> None:
    since = date.fromisoformat(after.status_since) if after.status_since else date.today()
    if after.facility_id != before.facility_id and after.status == "transferred":
        await transfer_prisoner(prisoner_id, after.facility_id, since, facilities, prisoners, outbox)
        return
    if after.facility_id and after.facility_id != before.facility_id:
        await place_prisoner(prisoner_id, after.facility_id, facilities, prisoners, outbox)
    if after.status != before.status:
        await change_status(prisoner_id, StatusChange(status=after.status, since=since), prisoners, outbox)


def _situation(doc: dict[str, Any]) -> Situation:
    return Situation(status=doc.get("status") or "detained", status_since=doc.get("status_since"),
                     facility_id=doc.get("facility_id"))


def _new_record(change: ProposedChange) -> PrisonerRecord:
    return PrisonerRecord(id=change.prisoner_id, names=Names(**new_person_names(change)), status=change.after.status,
                          status_since=change.after.status_since, birthday=change.birthday)
