"""MongoDB repositories for bundles, hand-over confirmation links, prisoners' replies and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.delivery.adapters import _doc, _fields
from services.delivery.domain import LinkAnswer
from services.delivery.model import Bundle
from services.delivery.ports import Confirmation
from shared.events import LetterEvent
from shared.mongo import read_times, stored_time, stored_times, upgrade_times
from shared.outbox import WithEvents

# Bundles still in the hands of delivery: at most one per intermediary at a time.
OPEN_STATES = ("building", "ready", "failed")

BUNDLE_TIMES = ("created_at", "ready_at", "sent_at", "failed_at", "next_attempt_at", "leased_until")
LINK_TIMES = ("expires_at", "used_at")
ANSWER_TIMES = ("answered_at", "undoable_until")
REPLY_TIMES = ("uploaded_at",)
# The names of the schema before times were dates (epoch seconds), and their dates now: converted at start.
OLD_BUNDLE_TIMES = {"created_epoch": "created_at", "ready_epoch": "ready_at", "sent_epoch": "sent_at",
                    "failed_epoch": "failed_at", "next_attempt_epoch": "next_attempt_at", "lease_until": "leased_until"}
OLD_LINK_TIMES = {"expires_epoch": "expires_at", "used_epoch": "used_at"}
OLD_ANSWER_TIMES = {"answered_epoch": "answered_at", "undo_until": "undoable_until"}
OLD_REPLY_TIMES = {"uploaded_epoch": "uploaded_at"}


def _bundle(doc: dict[str, Any]) -> Bundle:
    return Bundle.model_validate(read_times(_fields(doc), BUNDLE_TIMES))


class MongoBundles:
    def __init__(self, db: AsyncDatabase) -> None:
        self._bundles = db["bundles"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._bundles, OLD_BUNDLE_TIMES)
        await self._bundles.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self._bundles.create_index([("intermediary_id", ASCENDING), ("state", ASCENDING)])
        await self._bundles.create_index([("prisoner_id", ASCENDING), ("state", ASCENDING)])

    async def create(self, bundle: Bundle) -> None:
        await self._bundles.insert_one(_doc(bundle))

    async def get(self, bundle_id: str) -> Bundle | None:
        doc = await self._bundles.find_one({"_id": bundle_id})
        return _bundle(doc) if doc else None

    async def claim(self, bundle_id: str, states: Sequence[str], now: datetime, lease_s: float) -> bool:
        """Take the bundle for `lease_s` seconds unless someone else holds it: one builder or sender at a time."""
        result = await self._bundles.update_one(
            {"_id": bundle_id, "state": {"$in": list(states)}, "leased_until": {"$lt": stored_time(now)}},
            {"$set": {"leased_until": stored_time(now + timedelta(seconds=lease_s))}},
        )
        return result.modified_count == 1

    async def update(self, bundle_id: str, states: Sequence[str], **facts: Any) -> bool:
        result = await self._bundles.update_one(
            {"_id": bundle_id, "state": {"$in": list(states)}}, {"$set": stored_times(facts)}
        )
        return result.modified_count == 1

    async def due(self, now: datetime, channels: Sequence[str], limit: int) -> list[Bundle]:
        cursor = self._bundles.find(
            {"state": "ready", "channel": {"$in": list(channels)}, "next_attempt_at": {"$lte": stored_time(now)},
             "leased_until": {"$lt": stored_time(now)}}
        )
        return [_bundle(doc) async for doc in cursor.sort("next_attempt_at", ASCENDING).limit(limit)]

    async def stale_building(self, now: datetime) -> list[Bundle]:
        cursor = self._bundles.find({"state": "building", "leased_until": {"$lt": stored_time(now)}})
        return [_bundle(doc) async for doc in cursor]

    async def open_for(self, intermediary_id: str) -> Bundle | None:
        doc = await self._bundles.find_one({"intermediary_id": intermediary_id, "state": {"$in": list(OPEN_STATES)}})
        return _bundle(doc) if doc else None

    async def of_prisoner(self, prisoner_id: str, states: Sequence[str]) -> list[Bundle]:
        cursor = self._bundles.find({"prisoner_id": prisoner_id, "state": {"$in": list(states)}})
        return [_bundle(doc) async for doc in cursor]

    async def listing(self, states: Sequence[str], limit: int) -> list[Bundle]:
        cursor = self._bundles.find({"state": {"$in": list(states)}}).sort("created_at", ASCENDING)
        return [_bundle(doc) async for doc in cursor.limit(limit)]


class MongoConfirmations:
    def __init__(self, db: AsyncDatabase) -> None:
        self._links = db["confirmations"]
        # One document per letter answered through a link: `_id` is the letter's id, so a letter has one answer.
        self._answers = db["handover_answers"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._links, OLD_LINK_TIMES)
        await upgrade_times(self._answers, OLD_ANSWER_TIMES)
        await self._links.create_index([("bundle_id", ASCENDING)])
        await self._answers.create_index([("bundle_id", ASCENDING)])
        await self._answers.create_index([("final", ASCENDING), ("undoable_until", ASCENDING)])

    async def create(self, token_hash: str, bundle_id: str, intermediary_id: str, expires_at: datetime) -> None:
        await self._links.insert_one({"_id": token_hash, "bundle_id": bundle_id, "intermediary_id": intermediary_id,
                                      "expires_at": stored_time(expires_at), "used_at": None, "outcome": None})

    async def find(self, token_hash: str) -> Confirmation | None:
        doc = await self._links.find_one({"_id": token_hash})
        if doc is None:
            return None
        doc = read_times(doc, LINK_TIMES)
        return Confirmation(doc["bundle_id"], doc["intermediary_id"], doc["expires_at"], doc.get("used_at"),
                            doc.get("outcome"))

    async def use(self, token_hash: str, outcome: str, now: datetime) -> bool:
        """Record the answer once: a second press of the button changes nothing."""
        result = await self._links.update_one(
            {"_id": token_hash, "used_at": None, "expires_at": {"$gt": stored_time(now)}},
            {"$set": {"used_at": stored_time(now), "outcome": outcome}},
        )
        return result.modified_count == 1

    async def delete(self, token_hash: str) -> None:
        await self._links.delete_one({"_id": token_hash})

    async def answer(self, answer: LinkAnswer) -> bool:
        doc = {"_id": answer.letter_id, "bundle_id": answer.bundle_id, "outcome": answer.outcome,
               "reason": answer.reason, "answered_at": stored_time(answer.answered_at),
               "undoable_until": stored_time(answer.undoable_until),
               "final": answer.final}
        try:
            await self._answers.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def answers(self, bundle_id: str) -> list[LinkAnswer]:
        cursor = self._answers.find({"bundle_id": bundle_id}).sort("answered_at", ASCENDING)
        return [_answer(doc) async for doc in cursor]

    async def undo(self, letter_id: str, now: datetime) -> bool:
        result = await self._answers.delete_one(
            {"_id": letter_id, "final": False, "undoable_until": {"$gt": stored_time(now)}})
        return result.deleted_count == 1

    async def due_answers(self, now: datetime, limit: int) -> list[LinkAnswer]:
        cursor = self._answers.find({"final": False, "undoable_until": {"$lte": stored_time(now)}}).sort(
            "undoable_until", ASCENDING)
        return [_answer(doc) async for doc in cursor.limit(limit)]

    async def finalise(self, letter_id: str) -> bool:
        result = await self._answers.update_one({"_id": letter_id, "final": False}, {"$set": {"final": True}})
        return result.modified_count == 1


def _answer(doc: dict[str, Any]) -> LinkAnswer:
    doc = read_times(doc, ANSWER_TIMES)
    return LinkAnswer(doc["_id"], doc["bundle_id"], doc["outcome"], doc.get("reason"), doc["answered_at"],
                      doc["undoable_until"], doc.get("final", False))


class MongoReplies:
    def __init__(self, db: AsyncDatabase) -> None:
        self._replies = db["replies"]
        # A reply and the events telling its letters' writers are one write (shared/outbox.py).
        self._announced = WithEvents(self._replies)

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._replies, OLD_REPLY_TIMES)

    async def insert(self, reply: dict[str, Any], announcing: Sequence[LetterEvent] = ()) -> bool:
        try:
            await self._announced.insert_one(stored_times(reply), announcing)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, reply_id: str) -> dict[str, Any] | None:
        doc = await self._replies.find_one({"_id": reply_id})
        return read_times(doc, REPLY_TIMES) if doc else None

