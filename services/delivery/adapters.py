"""MongoDB repositories for the outgoing queue, intermediaries and prisoners.

Only these classes know the documents: `_id` is the entity's id, everything else is the model's
fields. Times are dates, written and compared through the times codec (shared/mongo.py) and read
back with it; each collection's time fields are listed once here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.delivery.domain import WAITING_STATES, Movement, WaitingLetter
from services.delivery.model import DELIVERY_STATES, Intermediary, OutgoingLetter, Prisoner, RouteStep
from shared.events import LetterEvent, OverdueReport, utc_now
from shared.mongo import (
    bson_time,
    count_unchanged,
    missing_counts_as_unequal,
    read_time,
    read_times,
    stored_time,
    stored_times,
    upgrade_times,
)
from shared.outbox import WithEvents

# A letter's times: its last change, and the last move to each state (`MongoOutgoing.move`: `<state>_at`).
LETTER_TIMES = ("changed_at", *(f"{state}_at" for state in DELIVERY_STATES))
# The times a letter's move to each step of throughput is stamped with.
MOVEMENT_TIMES = ("queued_at", "sent_at", "handed_over_at", "held_at")
PRISONER_TIMES = ("updated_at", "status_changed_at")
# The names of the schema before times were dates (epoch seconds), and their dates now: converted at start.
OLD_LETTER_TIMES = {"changed_epoch": "changed_at", **{f"{state}_epoch": f"{state}_at" for state in DELIVERY_STATES}}
OLD_STEP_TIMES = {"at_epoch": "at"}
OLD_PRISONER_TIMES = {"updated_epoch": "updated_at", "status_changed_epoch": "status_changed_at"}
OLD_REPORT_TIMES = {"checked_epoch": "checked_at"}


def _doc(model: Any) -> dict[str, Any]:
    # Dumped as Python values, so that times stay datetimes for the codec (JSON would make them text).
    data = model.model_dump()
    return stored_times({"_id": data.pop("id"), **data})


def _fields(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


def _route_step(step: str | dict[str, Any]) -> dict[str, Any]:
    # nx-27017 turns a document pushed into an array into JSON text (tests/contract/test_mongodb_outbox.py).
    return read_times(json.loads(step) if isinstance(step, str) else step, ["at"])


def _letter(doc: dict[str, Any]) -> OutgoingLetter:
    fields = read_times(_fields(doc), LETTER_TIMES)
    fields["history"] = [_route_step(step) for step in fields.get("history") or []]
    return OutgoingLetter.model_validate(fields)


def _movement(doc: dict[str, Any]) -> Movement:
    times = read_times(doc, MOVEMENT_TIMES)
    return Movement(times.get("queued_at"), times.get("sent_at"), times.get("handed_over_at"), times.get("held_at"))


def _step(step: RouteStep) -> dict[str, Any]:
    return stored_times(step.model_dump())


def _with_history(update: dict[str, Any], history: RouteStep | None) -> dict[str, Any]:
    return {**update, "$push": {"history": _step(history)}} if history is not None else update


class MongoOutgoing:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["outgoing"]
        # Every announced move and its event are one write (shared/outbox.py).
        self._announced = WithEvents(self._letters)

    async def ensure_indexes(self) -> None:
        # The lines of history first: the letter's own old times mark the letters still to convert.
        await self._upgrade_histories()
        await upgrade_times(self._letters, OLD_LETTER_TIMES)
        await self._letters.create_index([("state", ASCENDING), ("queued_at", ASCENDING)])
        await self._letters.create_index([("prisoner_id", ASCENDING), ("state", ASCENDING)])
        await self._letters.create_index(
            [("intermediary_id", ASCENDING), ("state", ASCENDING), ("queued_at", ASCENDING)]
        )
        await self._letters.create_index([("bundle_id", ASCENDING)])
        # The monitor's throughput reads letters by any of these times since a moment (`movements_since`).
        for field in MOVEMENT_TIMES:
            await self._letters.create_index([(field, ASCENDING)])
        # The sweeper asks for letters unchanged in a state since before a time (`stalled`).
        await self._letters.create_index([("state", ASCENDING), ("changed_at", ASCENDING)])

    async def _upgrade_histories(self) -> None:
        """Lines of history written before times were dates keep their time as epoch seconds inside
        their JSON text, out of `upgrade_times`' reach: rewritten here, each letter once."""
        old = next(old for old, new in OLD_LETTER_TIMES.items() if new == "changed_at")  # every old letter has it
        async for doc in self._letters.find({old: {"$exists": True}, "history": {"$ne": []}}, {"history": 1, old: 1}):
            steps = [json.loads(step) if isinstance(step, str) else step for step in doc.get("history") or []]
            for step in steps:
                for before, after in OLD_STEP_TIMES.items():
                    if isinstance(step.get(before), int | float):
                        step[after] = stored_time(datetime.fromtimestamp(step.pop(before), UTC))
            await self._letters.update_one({"_id": doc["_id"], old: doc[old]}, {"$set": {"history": steps}})

    async def enqueue(self, letter: OutgoingLetter, announcing: Sequence[LetterEvent] = ()) -> bool:
        """Queue a letter once, with its events; the letter id is the key, so a redelivery adds nothing."""
        doc = _doc(letter)
        # A letter held on arrival (no route) is stamped as a move to hold would stamp it.
        if letter.state == "held":
            doc["held_at"] = stored_time(letter.changed_at)
        try:
            await self._announced.insert_one(doc, announcing)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, letter_id: str) -> OutgoingLetter | None:
        doc = await self._letters.find_one({"_id": letter_id})
        return _letter(doc) if doc else None

    async def move(self, letter_id: str, target: str, sources: Sequence[str], *,
                   only_if: dict[str, Any] | None = None, announcing: Sequence[LetterEvent] = (),
                   history: RouteStep | None = None, **facts: Any) -> bool:
        """Move a letter to `target` only from one of `sources`: a second, crossed or late move is a no-op.

        The events announcing the move, and the line of its history, are written with it, and only if it
        happened."""
        now = stored_time(utc_now())
        stamp = {"changed_at": now}
        # A letter's wait is counted from its first arrival: coming back from hold does not reset it.
        if target != "queued":
            stamp[f"{target}_at"] = now
        return await self._announced.update_one(
            {"_id": letter_id, "state": {"$in": list(sources)}, **missing_counts_as_unequal(only_if or {})},
            _with_history({"$set": {"state": target, **stamp, **stored_times(facts)}}, history), announcing,
        )

    async def note(self, letter_id: str, *, only_if: dict[str, Any], announcing: Sequence[LetterEvent] = (),
                   history: RouteStep | None = None, **facts: Any) -> bool:
        """Change a letter's facts without moving it, if `only_if` holds, with its events and history line."""
        return await self._announced.update_one(
            {"_id": letter_id, **missing_counts_as_unequal(only_if)}, _with_history({"$set": {"changed_at": stored_time(utc_now()), **stored_times(facts)}}, history),
            announcing,
        )

    async def assign(self, letter_id: str, intermediary_id: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "state": "queued"},
            {"$set": {"intermediary_id": intermediary_id, "changed_at": stored_time(utc_now())}},
        )
        return result.modified_count == 1

    async def queued_for(self, intermediary_id: str, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"intermediary_id": intermediary_id, "state": "queued"})
        return [_letter(doc) async for doc in cursor.sort("queued_at", ASCENDING).limit(limit)]

    async def load(self, intermediary_ids: Sequence[str]) -> dict[str, int]:
        return {
            i: await self._letters.count_documents({"intermediary_id": i, "state": "queued"})
            for i in intermediary_ids
        }

    async def intermediaries_with_queued(self) -> list[str]:
        return sorted(i for i in await self._letters.distinct("intermediary_id", {"state": "queued"}) if i)

    async def unrouted(self, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"state": "queued", "intermediary_id": None}).limit(limit)
        return [_letter(doc) async for doc in cursor]

    async def of_prisoner(self, prisoner_id: str, states: Sequence[str]) -> list[OutgoingLetter]:
        cursor = self._letters.find({"prisoner_id": prisoner_id, "state": {"$in": list(states)}})
        return [_letter(doc) async for doc in cursor.sort("queued_at", ASCENDING)]

    async def in_bundle(self, bundle_id: str) -> list[OutgoingLetter]:
        cursor = self._letters.find({"bundle_id": bundle_id}).sort("queued_at", ASCENDING)
        return [_letter(doc) async for doc in cursor]

    async def archive(self, letter_id: str, reason: str, announcing: Sequence[LetterEvent] = ()) -> bool:
        return await self._announced.update_one(
            {"_id": letter_id, "state": "held", "archived": False},
            {"$set": {"archived": True, "reason": reason, "changed_at": stored_time(utc_now())}}, announcing,
        )

    async def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in DELIVERY_STATES}
        async for row in await self._letters.aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = row["n"]
        return counts

    async def waiting(self, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"state": "queued"}).sort("queued_at", ASCENDING).limit(limit)
        return [_letter(doc) async for doc in cursor]

    async def waiting_letters(self) -> list[WaitingLetter]:
        cursor = self._letters.find(
            {"state": {"$in": list(WAITING_STATES)}},
            {"prisoner_id": 1, "intermediary_id": 1, "state": 1, "queued_at": 1},
        )
        return [
            WaitingLetter(d["_id"], d["prisoner_id"], d.get("intermediary_id"), d["state"], read_time(d["queued_at"]))
            async for d in cursor
        ]

    async def stalled(self, state: str, before: datetime, limit: int) -> tuple[int, list[OutgoingLetter]]:
        """Letters in `state`, unchanged since before `before`: how many, and the longest-unchanged first.
        An indexed range on the state and the time of the letter's last change."""
        query = {"state": state, "changed_at": {"$lt": stored_time(before)}}
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query).sort("changed_at", ASCENDING).limit(limit)
        return total, [_letter(doc) async for doc in cursor]

    async def held(self, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"state": "held", "archived": False}).sort("queued_at", ASCENDING)
        return [_letter(doc) async for doc in cursor.limit(limit)]

    async def movements_since(self, since: datetime) -> list[Movement]:
        """Letters that arrived, were sent, handed over or held at or after `since`, with only those times:
        one indexed range per time (a few hundred letters a month)."""
        query = {"$or": [{field: {"$gte": stored_time(since)}} for field in MOVEMENT_TIMES]}
        cursor = self._letters.find(query, {**dict.fromkeys(MOVEMENT_TIMES, 1), "state": 1})
        return [_movement(doc) async for doc in cursor]


class MongoIntermediaries:
    def __init__(self, db: AsyncDatabase) -> None:
        self._people = db["intermediaries"]

    async def ensure_indexes(self) -> None:
        await self._people.create_index([("prisoner_id", ASCENDING)])

    async def get(self, intermediary_id: str) -> Intermediary | None:
        doc = await self._people.find_one({"_id": intermediary_id})
        return Intermediary.model_validate(_fields(doc)) if doc else None

    async def of_prisoner(self, prisoner_id: str) -> list[Intermediary]:
        cursor = self._people.find({"prisoner_id": prisoner_id}).sort("_id", ASCENDING)
        return [Intermediary.model_validate(_fields(doc)) async for doc in cursor]

    async def all(self) -> list[Intermediary]:
        return [Intermediary.model_validate(_fields(doc)) async for doc in self._people.find({}).sort("_id", ASCENDING)]

    async def save(self, intermediary: Intermediary) -> None:
        doc = _doc(intermediary)
        try:
            await self._people.insert_one(doc)
        except DuplicateKeyError:
            await self._people.update_one({"_id": doc.pop("_id")}, {"$set": doc})

    async def is_empty(self) -> bool:
        return await self._people.count_documents({}, limit=1) == 0


def _prisoner(doc: dict[str, Any]) -> Prisoner:
    return Prisoner.model_validate(read_times(_fields(doc), PRISONER_TIMES))


# Counts the versions written by `_keep_if_later`: each is conditional on the count it read.
VERSION_WRITES = "version_writes"


async def _keep_if_later(collection: AsyncCollection, key: str, field: str, at: datetime, doc: dict[str, Any]) -> bool:
    """Store `doc` under `key` unless the stored one's `field` is as late as `at` or later.

    Which is later is decided here, on the times read back, and the document read is replaced only if
    nothing was written since (`count_unchanged`): nx-27017 compares times in an update's filter only
    to the second (tests/contract/test_mongodb_delivery.py), and versions a few milliseconds apart
    must not be lost."""
    while True:
        stored = await collection.find_one({"_id": key}, {field: 1, VERSION_WRITES: 1})
        if stored is None:
            try:
                await collection.insert_one({"_id": key, **doc})
                return True
            except DuplicateKeyError:
                continue  # another replica stored one first: compare with theirs
        if read_time(stored[field]) >= bson_time(at):
            return False
        written = await collection.update_one({"_id": key, **count_unchanged(stored, VERSION_WRITES)},
                                              {"$set": doc, "$inc": {VERSION_WRITES: 1}})
        if written.matched_count == 1:
            return True


class MongoPrisoners:
    def __init__(self, db: AsyncDatabase) -> None:
        self._prisoners = db["prisoners"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._prisoners, OLD_PRISONER_TIMES)

    async def get(self, prisoner_id: str) -> Prisoner | None:
        doc = await self._prisoners.find_one({"_id": prisoner_id})
        return _prisoner(doc) if doc else None

    async def all(self) -> list[Prisoner]:
        return [_prisoner(d) async for d in self._prisoners.find({}).sort("_id", ASCENDING)]

    async def save_if_newer(self, prisoner: Prisoner) -> bool:
        """Directory news can arrive out of order: only a newer version replaces the stored one."""
        doc = _doc(prisoner)
        return await _keep_if_later(self._prisoners, doc.pop("_id"), "updated_at", prisoner.updated_at, doc)

    async def seed(self, prisoner: Prisoner) -> None:
        try:
            await self._prisoners.insert_one(_doc(prisoner))
        except DuplicateKeyError:
            pass

    async def set_review(self, prisoner_id: str, reason: str | None) -> bool:
        result = await self._prisoners.update_one({"_id": prisoner_id}, {"$set": {"review_reason": reason}})
        return result.matched_count == 1


class MongoOverdueReports:
    """The latest overdue report of each service (its sweeper's), for the operators' monitor: one document
    per service. Kept as JSON text: nx-27017 turns documents inside an array into text anyway."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._reports = db["overdue_reports"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._reports, OLD_REPORT_TIMES)

    async def keep(self, report: OverdueReport) -> bool:
        """Keep the report unless a later one of the same service is kept already (reports may cross)."""
        doc = {"checked_at": stored_time(report.checked_at), "report": report.model_dump_json()}
        return await _keep_if_later(self._reports, report.service, "checked_at", report.checked_at, doc)

    async def latest(self) -> list[OverdueReport]:
        return [OverdueReport.model_validate_json(doc["report"])
                async for doc in self._reports.find({}).sort("_id", ASCENDING)]
