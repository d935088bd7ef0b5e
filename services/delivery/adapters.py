"""MongoDB repositories for the outgoing queue, intermediaries and prisoners.

Only these classes know the documents: `_id` is the entity's id, everything else is the model's
fields. nx-27017 (the development stand-in) reads datetimes written by `$set` back as strings, so
every time that is queried or compared is stored as epoch seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.delivery.domain import WAITING_STATES, Movement, WaitingLetter
from services.delivery.model import DELIVERY_STATES, Intermediary, OutgoingLetter, Prisoner, RouteStep
from shared.events import LetterEvent, OverdueReport
from shared.mongo import missing_counts_as_unequal
from shared.outbox import WithEvents


def _doc(model: Any) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    return {"_id": data.pop("id"), **data}


def _fields(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


def _letter(doc: dict[str, Any]) -> OutgoingLetter:
    fields = _fields(doc)
    # Letters queued before epochs were kept carry only `queued_at`.
    if "queued_epoch" not in fields:
        queued_at = fields.get("queued_at")
        epoch = queued_at.timestamp() if isinstance(queued_at, datetime) else time.time()
        fields["queued_epoch"] = fields["changed_epoch"] = epoch
    fields["history"] = [json.loads(step) if isinstance(step, str) else step for step in fields.get("history") or []]
    return OutgoingLetter.model_validate(fields)


# The times a letter's move to each step of throughput is stamped with (`MongoOutgoing.move`).
MOVEMENT_TIMES = ("queued_epoch", "sent_epoch", "handed_over_epoch", "held_epoch")


def _movement(doc: dict[str, Any]) -> Movement:
    held = doc.get("held_epoch")
    # Letters held on arrival before that hold was stamped: held when they came.
    if held is None and doc.get("state") == "held":
        held = doc.get("queued_epoch")
    return Movement(doc.get("queued_epoch"), doc.get("sent_epoch"), doc.get("handed_over_epoch"), held)


def _step(step: RouteStep) -> str:
    # Kept as JSON text: nx-27017 turns a document pushed into an array into text anyway (see shared/outbox.py).
    return step.model_dump_json()


def _with_history(update: dict[str, Any], history: RouteStep | None) -> dict[str, Any]:
    return {**update, "$push": {"history": _step(history)}} if history is not None else update


class MongoOutgoing:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["outgoing"]
        # Every announced move and its event are one write (shared/outbox.py).
        self._announced = WithEvents(self._letters)

    async def ensure_indexes(self) -> None:
        await self._letters.create_index([("state", ASCENDING), ("queued_epoch", ASCENDING)])
        await self._letters.create_index([("prisoner_id", ASCENDING), ("state", ASCENDING)])
        await self._letters.create_index(
            [("intermediary_id", ASCENDING), ("state", ASCENDING), ("queued_epoch", ASCENDING)]
        )
        await self._letters.create_index([("bundle_id", ASCENDING)])
        # The monitor's throughput reads letters by any of these times since a moment (`movements_since`).
        for field in MOVEMENT_TIMES:
            await self._letters.create_index([(field, ASCENDING)])
        # The sweeper asks for letters unchanged in a state since before a time (`stalled`).
        await self._letters.create_index([("state", ASCENDING), ("changed_epoch", ASCENDING)])

    async def enqueue(self, letter: OutgoingLetter, announcing: Sequence[LetterEvent] = ()) -> bool:
        """Queue a letter once, with its events; the letter id is the key, so a redelivery adds nothing."""
        doc = _doc(letter)
        # A letter held on arrival (no route) is stamped as a move to hold would stamp it.
        if letter.state == "held":
            doc["held_epoch"] = letter.changed_epoch
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
        now = time.time()
        stamp = {"changed_epoch": now}
        # A letter's wait is counted from its first arrival: coming back from hold does not reset it.
        if target != "queued":
            stamp[f"{target}_epoch"] = now
        return await self._announced.update_one(
            {"_id": letter_id, "state": {"$in": list(sources)}, **missing_counts_as_unequal(only_if or {})},
            _with_history({"$set": {"state": target, **stamp, **facts}}, history), announcing,
        )

    async def note(self, letter_id: str, *, only_if: dict[str, Any], announcing: Sequence[LetterEvent] = (),
                   history: RouteStep | None = None, **facts: Any) -> bool:
        """Change a letter's facts without moving it, if `only_if` holds, with its events and history line."""
        return await self._announced.update_one(
            {"_id": letter_id, **missing_counts_as_unequal(only_if)}, _with_history({"$set": {"changed_epoch": time.time(), **facts}}, history),
            announcing,
        )

    async def assign(self, letter_id: str, intermediary_id: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "state": "queued"},
            {"$set": {"intermediary_id": intermediary_id, "changed_epoch": time.time()}},
        )
        return result.modified_count == 1

    async def queued_for(self, intermediary_id: str, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"intermediary_id": intermediary_id, "state": "queued"})
        return [_letter(doc) async for doc in cursor.sort("queued_epoch", ASCENDING).limit(limit)]

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
        return [_letter(doc) async for doc in cursor.sort("queued_epoch", ASCENDING)]

    async def in_bundle(self, bundle_id: str) -> list[OutgoingLetter]:
        cursor = self._letters.find({"bundle_id": bundle_id}).sort("queued_epoch", ASCENDING)
        return [_letter(doc) async for doc in cursor]

    async def archive(self, letter_id: str, reason: str, announcing: Sequence[LetterEvent] = ()) -> bool:
        return await self._announced.update_one(
            {"_id": letter_id, "state": "held", "archived": False},
            {"$set": {"archived": True, "reason": reason, "changed_epoch": time.time()}}, announcing,
        )

    async def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in DELIVERY_STATES}
        async for row in await self._letters.aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = row["n"]
        return counts

    async def waiting(self, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"state": "queued"}).sort("queued_epoch", ASCENDING).limit(limit)
        return [_letter(doc) async for doc in cursor]

    async def waiting_letters(self) -> list[WaitingLetter]:
        cursor = self._letters.find(
            {"state": {"$in": list(WAITING_STATES)}},
            {"prisoner_id": 1, "intermediary_id": 1, "state": 1, "queued_epoch": 1},
        )
        return [
            WaitingLetter(d["_id"], d["prisoner_id"], d.get("intermediary_id"), d["state"], d.get("queued_epoch", 0.0))
            async for d in cursor
        ]

    async def stalled(self, state: str, before_epoch: float, limit: int) -> tuple[int, list[OutgoingLetter]]:
        """Letters in `state`, unchanged since before `before_epoch`: how many, and the longest-unchanged first.
        An indexed range on the state and the time of the letter's last change."""
        query = {"state": state, "changed_epoch": {"$lt": before_epoch}}
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query).sort("changed_epoch", ASCENDING).limit(limit)
        return total, [_letter(doc) async for doc in cursor]

    async def held(self, limit: int) -> list[OutgoingLetter]:
        cursor = self._letters.find({"state": "held", "archived": False}).sort("queued_epoch", ASCENDING)
        return [_letter(doc) async for doc in cursor.limit(limit)]

    async def movements_since(self, epoch: float) -> list[Movement]:
        """Letters that arrived, were sent, handed over or held at or after `epoch`, with only those times:
        one indexed range per time (a few hundred letters a month)."""
        query = {"$or": [{field: {"$gte": epoch}} for field in MOVEMENT_TIMES]}
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


class MongoPrisoners:
    def __init__(self, db: AsyncDatabase) -> None:
        self._prisoners = db["prisoners"]

    async def get(self, prisoner_id: str) -> Prisoner | None:
        doc = await self._prisoners.find_one({"_id": prisoner_id})
        return Prisoner.model_validate(_fields(doc)) if doc else None

    async def all(self) -> list[Prisoner]:
        return [Prisoner.model_validate(_fields(d)) async for d in self._prisoners.find({}).sort("_id", ASCENDING)]

    async def save_if_newer(self, prisoner: Prisoner) -> bool:
        doc = _doc(prisoner)
        try:
            await self._prisoners.insert_one(doc)
            return True
        except DuplicateKeyError:
            prisoner_id = doc.pop("_id")
            # Directory news can arrive out of order: only a newer version replaces the stored one.
            result = await self._prisoners.update_one(
                {"_id": prisoner_id, "updated_epoch": {"$lt": prisoner.updated_epoch}}, {"$set": doc}
            )
            return result.modified_count == 1

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

    async def keep(self, report: OverdueReport) -> bool:
        """Keep the report unless a later one of the same service is kept already (reports may cross)."""
        doc = {"checked_epoch": report.checked_at.timestamp(), "report": report.model_dump_json()}
        try:
            await self._reports.insert_one({"_id": report.service, **doc})
            return True
        except DuplicateKeyError:
            result = await self._reports.update_one(
                {"_id": report.service, "checked_epoch": {"$lt": doc["checked_epoch"]}}, {"$set": doc})
            return result.modified_count == 1

    async def latest(self) -> list[OverdueReport]:
        return [OverdueReport.model_validate_json(doc["report"])
                async for doc in self._reports.find({}).sort("_id", ASCENDING)]
