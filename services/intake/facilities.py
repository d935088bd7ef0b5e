"""Intake's facilities: where prisoners are held, and the use cases that place and move them.

The facility itself lives in intake's `facilities` collection. Each prisoner's document keeps a
copy of their facility, refreshed by every change here, so that the prisoner's announcement
(`prisoner.updated`), a letter's announcement (its page limit) and the public directory read it
without a second lookup; the copy is never edited by anything else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.intake.ports import AuditTrail, PrisonerDirectory
from services.intake.staff import AlreadyExists, NotFound, change_prisoner
from shared.auth import Principal
from shared.facilities import Facility, stale_rules
from shared.outbox import Outbox


class UnknownFacility(LookupError):
    pass


class MongoFacilities:
    def __init__(self, db: AsyncDatabase) -> None:
        self._facilities = db["facilities"]
        # Intake's own prisoners collection, read here only to find who is held at a facility.
        self._prisoners = db["prisoners"]

    async def ensure_indexes(self) -> None:
        await self._prisoners.create_index("facility_id")

    async def get(self, facility_id: str) -> Facility | None:
        doc = await self._facilities.find_one({"_id": facility_id})
        return None if doc is None else _facility(doc)

    async def list(self) -> list[Facility]:
        return [_facility(doc) async for doc in self._facilities.find({}).sort("_id", 1)]

    async def insert(self, facility: Facility) -> bool:
        try:
            await self._facilities.insert_one(_document(facility))
        except DuplicateKeyError:
            return False
        return True

    async def replace(self, facility: Facility) -> bool:
        result = await self._facilities.replace_one({"_id": facility.id}, _document(facility))
        return result.matched_count == 1

    async def holding(self, facility_id: str) -> list[str]:
        return [doc["_id"] async for doc in self._prisoners.find({"facility_id": facility_id}, {"_id": 1})]


def _document(facility: Facility) -> dict[str, Any]:
    return {"_id": facility.id, **facility.model_dump(mode="json", exclude={"id"})}


def _facility(doc: dict[str, Any]) -> Facility:
    return Facility.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})


def placement(facility: Facility) -> dict[str, Any]:
    """The fields a prisoner's document carries for the facility that holds them."""
    return {"facility_id": facility.id, "facility": facility.model_dump(mode="json")}


async def change_facility(facility: Facility, facilities: MongoFacilities, prisoners: PrisonerDirectory,
                          outbox: Outbox) -> int | None:
    """Store the facility's new details; every prisoner held there is announced again with them.

    Returns how many prisoners were announced, None if there is no such facility. Each prisoner's copy
    and its announcement are one write; the facility and its prisoners are not (a standalone MongoDB
    has no transaction over them), so saving the same facility again repairs copies a crash left behind.
    """
    if not await facilities.replace(facility):
        return None
    held = await facilities.holding(facility.id)
    for prisoner_id in held:
        await change_prisoner(prisoner_id, placement(facility), prisoners, outbox)
    return len(held)


async def place_prisoner(prisoner_id: str, facility_id: str, facilities: MongoFacilities,
                         prisoners: PrisonerDirectory, outbox: Outbox) -> dict[str, Any] | None:
    """Record where a prisoner is held (a correction, or the first time the directory knows it)."""
    facility = await facilities.get(facility_id)
    if facility is None:
        raise UnknownFacility(facility_id)
    return await change_prisoner(prisoner_id, placement(facility), prisoners, outbox)


async def transfer_prisoner(prisoner_id: str, facility_id: str, since: date, facilities: MongoFacilities,
                            prisoners: PrisonerDirectory, outbox: Outbox) -> dict[str, Any] | None:
    """A prisoner moved to another facility: status `transferred` and the new facility, in one announcement,
    so delivery learns the new route together with the move."""
    facility = await facilities.get(facility_id)
    if facility is None:
        raise UnknownFacility(facility_id)
    return await change_prisoner(
        prisoner_id, {"status": "transferred", "status_since": since.isoformat(), **placement(facility)},
        prisoners, outbox)


# The staff's use cases: each records its audit entry (the directory's imports place and move
# prisoners through the unaudited steps above and record their own, one per change applied).


async def add_facility(facility: Facility, by: Principal, facilities: MongoFacilities, audit: AuditTrail) -> None:
    if not await facilities.insert(facility):
        raise AlreadyExists(f"a facility with id {facility.id!r} already exists")
    await audit.record(by.subject, "added facility", facility.id, role=by.role)


async def edit_facility(facility: Facility, by: Principal, facilities: MongoFacilities, prisoners: PrisonerDirectory,
                        outbox: Outbox, audit: AuditTrail) -> int:
    """How many prisoners held there were announced again with the new details."""
    announced = await change_facility(facility, facilities, prisoners, outbox)
    if announced is None:
        raise NotFound("no such facility")
    await audit.record(by.subject, "changed facility", facility.id, role=by.role, prisoners_announced=announced)
    return announced


async def set_prisoner_facility(prisoner_id: str, facility_id: str, by: Principal, facilities: MongoFacilities,
                                prisoners: PrisonerDirectory, outbox: Outbox, audit: AuditTrail) -> dict[str, Any]:
    updated = await place_prisoner(prisoner_id, facility_id, facilities, prisoners, outbox)
    if updated is None:
        raise NotFound("no such prisoner")
    await audit.record(by.subject, "set prisoner facility", prisoner_id, role=by.role, facility_id=facility_id)
    return updated


async def move_prisoner(prisoner_id: str, facility_id: str, since: date, by: Principal, facilities: MongoFacilities,
                        prisoners: PrisonerDirectory, outbox: Outbox, audit: AuditTrail) -> dict[str, Any]:
    updated = await transfer_prisoner(prisoner_id, facility_id, since, facilities, prisoners, outbox)
    if updated is None:
        raise NotFound("no such prisoner")
    await audit.record(by.subject, "transferred prisoner", prisoner_id, role=by.role, facility_id=facility_id)
    return updated


class StaleFacility(BaseModel):
    id: str
    name: str
    stale_rules: list[str]
    verified_on: dict[str, date | None]


async def facilities_to_verify(facilities: MongoFacilities, today: date, max_age_days: int) -> list[StaleFacility]:
    """Facilities with rules nobody has checked for more than `max_age_days`, for the monitor."""
    found = []
    for facility in await facilities.list():
        if stale := stale_rules(facility, today, max_age_days):
            found.append(StaleFacility(id=facility.id, name=facility.name, stale_rules=stale,
                                       verified_on={name: getattr(facility.rules, name).verified_on
                                                    for name in stale}))
    return found
