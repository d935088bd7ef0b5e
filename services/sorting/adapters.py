"""MongoDB repositories for sorting's own view of each letter and its decision history.

Times are dates, written and compared through the times codec (shared/mongo.py): every time in a
document and in a query goes through `stored_time(s)`, and every letter or decision read is given
back with its times as aware UTC datetimes (`read_times`), so the use cases never see how the
development stand-in keeps them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bson import decode, encode
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.sorting.domain import LANES, STALLED_APPROVAL_S
from services.sorting.ports import QueueFilter
from shared.events import LetterEvent, utc_now
from shared.mongo import read_times, stored_time, stored_times, upgrade_times
from shared.outbox import PENDING_SINCE, WithEvents
from shared.s3 import StoredObject

# A parked release is not retried by the sweep ($nin rather than $ne: the same in MongoDB, and it also
# matches a letter without the field on nx-27017).
NOT_PARKED = {"release_parked": {"$nin": [True]}}

# Since when a letter waits in each state the sweeper looks at: an approved one from the end of its
# undo window (the release sweep's own field); the others from their move into the state.
STALLED_SINCE = {"received": "received_at", "approved": "release_at",
                 "review_needed": "review_needed_at", "awaiting_translation": "awaiting_translation_at"}

# Every point in time a letter keeps: when the writer sent it and sorting received it, its last move
# into each state (`_move` stamps `{state}_at`), the decision with its undo window and release, the
# translation, and since when it carries unpublished events (shared/outbox.py).
LETTER_TIMES = ("submitted_at", "received_at", "review_needed_at", "awaiting_translation_at", "approved_at",
                "rejected_at", "withdrawn_at", "ready_at", "decided_at", "release_at", "undo_until", "translation.at",
                PENDING_SINCE)
DECISION_TIMES = ("at",)

# The letters' time fields as they were named when they were epoch seconds, and their names as dates:
# `upgrade_times` converts a deployment's older letters at the next start.
LETTER_TIMES_BEFORE_DATES = {
    "received_epoch": "received_at", "review_needed_epoch": "review_needed_at",
    "awaiting_translation_epoch": "awaiting_translation_at", "approved_epoch": "approved_at",
    "rejected_epoch": "rejected_at", "withdrawn_epoch": "withdrawn_at", "ready_epoch": "ready_at",
    "decided_epoch": "decided_at", "release_epoch": "release_at", "undo_until_epoch": "undo_until",
}


# The states whose letters the moderators' page shows (the queue, and the translation backlog in its header).
QUEUE_STATES = ("review_needed", "awaiting_translation")


def queue_fingerprint(rows: list[str]) -> str:
    """Sixteen hex digits over the sorted rows: equal exactly when the same letters wait as they were."""
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def new_scan_key() -> str:
    # Random, so a scan's address cannot be guessed from a letter or prisoner id.
    return f"scans/{secrets.token_urlsafe(24)}.pdf"


class MongoSortedLetters:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["letters"]
        # A move and the event announcing it are one write (shared/outbox.py).
        self._announced = WithEvents(self._letters)

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._letters, LETTER_TIMES_BEFORE_DATES)
        await self._letters.create_index([("state", ASCENDING), ("received_at", ASCENDING)])
        await self._letters.create_index([("state", ASCENDING), ("prisoner_id", ASCENDING)])
        # The release sweep asks every few seconds; the agreement figures read the latest decisions.
        await self._letters.create_index([("state", ASCENDING), ("release_at", ASCENDING)])
        await self._letters.create_index([("decided_comparable", ASCENDING), ("decided_at", DESCENDING)])
        # The sweeper asks for letters waiting in a state since before a time (`stalled`).
        for state in ("review_needed", "awaiting_translation"):
            await self._letters.create_index([("state", ASCENDING), (STALLED_SINCE[state], ASCENDING)])

    async def register(self, facts: dict[str, Any]) -> dict[str, Any]:
        """Store the letter once; a redelivery gets the stored record back, scan key included."""
        letter_id = facts["letter_id"]
        doc = stored_times({
            **{k: v for k, v in facts.items() if k != "letter_id"},
            "_id": letter_id,
            "state": "received",
            "revision": 0,
            "round": 0,
            "scan_key": new_scan_key(),
            "received_at": utc_now(),
        })
        try:
            await self._letters.insert_one(doc)
        except DuplicateKeyError:
            return await self.get(letter_id)
        # No read-back: the document as the store holds it (BSON types, datetimes to the millisecond).
        options = self._letters.codec_options
        return _letter(decode(encode(doc, codec_options=options), codec_options=options))

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        return _letter(await self._letters.find_one({"_id": letter_id}))

    async def mark_review_needed(self, letter_id: str, announcing: Sequence[LetterEvent] = ()) -> bool:
        return await self._move({"_id": letter_id, "state": "received"}, "review_needed", {}, announcing)

    async def mark_approved(
        self, letter_id: str, by: str, revision: int | None = None, facts: dict[str, Any] | None = None
    ) -> bool:
        where: dict[str, Any] = {"_id": letter_id, "state": "review_needed"}
        if revision is not None:
            # The moderator approves the text they read, not one redacted meanwhile by someone else.
            where["revision"] = revision
        return await self._move(where, "approved", {"decided_by": by, "decided_at": utc_now(), **(facts or {})})

    async def mark_first_approval(self, letter_id: str, by: str, revision: int, round_: int) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "state": "review_needed", "revision": revision},
            {"$set": {"first_approved_by": by, "first_approved_revision": revision, "first_approved_round": round_}},
        )
        return result.modified_count == 1

    async def mark_rejected(self, letter_id: str, by: str, reason: str, facts: dict[str, Any] | None = None,
                            announcing: Sequence[LetterEvent] = ()) -> bool:
        facts = {"decided_by": by, "decided_at": utc_now(), "reason": reason, **(facts or {})}
        return await self._move({"_id": letter_id, "state": "review_needed"}, "rejected", facts, announcing)

    async def mark_withdrawn(self, letter_id: str, from_states: tuple[str, ...],
                             announcing: Sequence[LetterEvent] = ()) -> bool:
        # One conditional change, exclusive with mark_ready: a letter is either scanned or withdrawn.
        letter = await self._letters.find_one({"_id": letter_id}, {"state": 1})
        if letter is None or letter["state"] not in from_states:
            return False
        return await self._move({"_id": letter_id, "state": letter["state"]}, "withdrawn",
                                {"withdrawn_from": letter["state"]}, announcing)

    async def mark_redacted(self, letter_id: str, revision: int, changes: dict[str, Any], by: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "state": "review_needed", "revision": revision},
            {"$set": {**stored_times(changes), "revision": revision + 1, "redacted_by": by}},
        )
        return result.modified_count == 1

    async def mark_undone(self, letter_id: str, by: str, round_: int, now: datetime) -> bool:
        # Only inside the window, and a new scan key: a rendering of the undone approval that is
        # still running can only write to the old key, never to the scan this letter will send.
        return await self._move(
            {"_id": letter_id, "state": "approved", "round": round_, "undo_until": {"$gt": stored_time(now)}},
            "review_needed", {"round": round_ + 1, "undone_by": by, "scan_key": new_scan_key()},
        )

    async def mark_ready(self, letter_id: str, from_state: str, scan: StoredObject, pages: int,
                         announcing: Sequence[LetterEvent] = ()) -> bool:
        facts = {"scan_sha256": scan.sha256, "scan_bytes": scan.size, "pages": pages}
        return await self._move({"_id": letter_id, "state": from_state, "scan_key": scan.key}, "ready", facts,
                                announcing)

    async def _move(self, where: dict[str, Any], to_state: str, facts: dict[str, Any],
                    announcing: Sequence[LetterEvent] = ()) -> bool:
        # Conditional on the current state: a redelivered message or a second click changes nothing,
        # and announces nothing (the events are written only with the change).
        return await self._announced.update_one(
            where, {"$set": stored_times({**facts, "state": to_state, f"{to_state}_at": utc_now()})}, announcing
        )

    async def queue(self, where: QueueFilter, limit: int) -> tuple[int, list[dict[str, Any]]]:
        query = self._queue_query(where, where.lane)
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query).sort([("received_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return total, [_letter(doc) async for doc in cursor]

    async def lane_counts(self, where: QueueFilter) -> dict[str, int]:
        return {lane: await self._letters.count_documents(self._queue_query(where, lane)) for lane in LANES}

    async def queue_version(self) -> tuple[str, int]:
        # Only ids, states, revisions and lanes (the (state, …) index answers which): no letter's text.
        cursor = self._letters.find({"state": {"$in": list(QUEUE_STATES)}}, {"state": 1, "revision": 1, "lane": 1})
        docs = [doc async for doc in cursor]
        rows = sorted(f"{doc['_id']}:{doc['state']}:{doc.get('revision', 0)}:{doc.get('lane')}" for doc in docs)
        return queue_fingerprint(rows), sum(doc["state"] == "review_needed" for doc in docs)

    @staticmethod
    def _queue_query(where: QueueFilter, lane: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"state": "review_needed"}
        if where.prisoner_id:
            query["prisoner_id"] = where.prisoner_id
        if where.campaign_event_id:
            query["campaign_event_id"] = where.campaign_event_id
        if where.language_flag is not None:
            query["language_flag"] = where.language_flag
        if lane:
            # A letter registered before the lanes existed has none: it counts as careful.
            query["lane"] = "fast" if lane == "fast" else {"$ne": "fast"}
        return query

    async def queue_facets(self) -> dict[str, list[dict[str, Any]]]:
        waiting = {"$match": {"state": "review_needed"}}
        prisoners = await self._letters.aggregate(
            [waiting, {"$group": {"_id": "$prisoner_id", "count": {"$sum": 1}, "name": {"$max": "$prisoner_name_ru"}}}]
        )
        events = await self._letters.aggregate(
            [waiting, {"$group": {"_id": "$campaign_event_id", "count": {"$sum": 1}}}]
        )
        return {
            "prisoners": sorted([{"id": r["_id"], "name": r["name"], "count": r["count"]} async for r in prisoners],
                                key=lambda r: r["name"] or ""),
            # Letters written on the web have no campaign event; they are not a filter value.
            "campaign_events": sorted([{"id": r["_id"], "count": r["count"]} async for r in events if r["_id"]],
                                      key=lambda r: r["id"]),
        }

    async def due_releases(self, now: datetime, limit: int) -> list[str]:
        due = self._letters.find(
            {"state": "approved", "release_at": {"$lt": stored_time(now)}, **NOT_PARKED}, {"_id": 1}
        ).sort("release_at", ASCENDING).limit(limit)
        found = [doc["_id"] async for doc in due]
        # Approved before approvals had a release time (an older version, the store down then).
        stalled_since = now - timedelta(seconds=STALLED_APPROVAL_S)
        older = self._letters.find(
            {"state": "approved", "release_at": {"$exists": False}, "decided_at": {"$lt": stored_time(stalled_since)},
             **NOT_PARKED},
            {"_id": 1},
        ).limit(limit)
        return found + [doc["_id"] async for doc in older]

    async def release_failed(self, letter_id: str, error: str, park_after: int) -> bool:
        counted = await self._letters.update_one(
            {"_id": letter_id, "state": "approved"},
            {"$inc": {"release_failures": 1}, "$set": {"release_error": error[:500]}},
        )
        doc = await self._letters.find_one({"_id": letter_id, "state": "approved"}, {"release_failures": 1})
        if not counted.modified_count or doc is None or doc.get("release_failures", 0) < park_after:
            return False
        parked = await self._letters.update_one({"_id": letter_id, "state": "approved", **NOT_PARKED},
                                                {"$set": {"release_parked": True}})
        return parked.modified_count == 1

    async def stuck_releases(self, limit: int) -> list[dict[str, Any]]:
        cursor = self._letters.find({"state": "approved", "release_parked": True}).sort("decided_at", ASCENDING)
        return [_letter(doc) async for doc in cursor.limit(limit)]

    async def unpark_release(self, letter_id: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "state": "approved", "release_parked": True},
            {"$set": {"release_parked": False, "release_failures": 0}},
        )
        return result.modified_count == 1

    async def awaiting_release(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        cursor = self._letters.find(
            {"state": "approved", "undo_until": {"$gt": stored_time(now)}}
        ).sort("undo_until", ASCENDING).limit(limit)
        return [_letter(doc) async for doc in cursor]

    async def stalled(self, state: str, before: datetime, limit: int) -> tuple[int, list[tuple[str, datetime]]]:
        """Letters waiting in `state` since before `before`: how many, and the longest-waiting
        (letter id, since when) first. An indexed range on the state and the time it counts from."""
        field = STALLED_SINCE[state]
        query = {"state": state, field: {"$lt": stored_time(before)}}
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query, {field: 1}).sort(field, ASCENDING).limit(limit)
        return total, [(doc["_id"], _letter(doc)[field]) async for doc in cursor]

    async def recent_decisions(self, limit: int) -> list[dict[str, Any]]:
        cursor = self._letters.find(
            {"decided_comparable": True, "state": {"$in": ["approved", "ready", "rejected"]}},
            {"decided_flagged": 1, "decided_outcome": 1, "decided_at": 1},
        ).sort("decided_at", DESCENDING).limit(limit)
        return [_letter(doc) async for doc in cursor]


    async def mark_awaiting_translation(self, letter_id: str, from_state: str, facts: dict[str, Any],
                                        revision: int | None = None, announcing: Sequence[LetterEvent] = ()) -> bool:
        where: dict[str, Any] = {"_id": letter_id, "state": from_state}
        if revision is not None:
            where["revision"] = revision
        return await self._move(where, "awaiting_translation", facts, announcing)

    async def mark_translated(self, letter_id: str, round_: int, changes: dict[str, Any],
                              announcing: Sequence[LetterEvent] = ()) -> bool:
        # Only the round the translator read: a second translator's text, or a retry, changes nothing.
        return await self._move({"_id": letter_id, "state": "awaiting_translation", "translation_round": round_},
                                "review_needed", changes, announcing)

    async def translation_queue(self, language: str | None, limit: int) -> tuple[int, list[dict[str, Any]]]:
        query: dict[str, Any] = {"state": "awaiting_translation"}
        if language:
            query["source_language"] = language
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query).sort([("received_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return total, [_letter(doc) async for doc in cursor]

    async def translation_counts(self) -> dict[str, int]:
        rows = await self._letters.aggregate([
            {"$match": {"state": "awaiting_translation"}},
            {"$group": {"_id": "$source_language", "count": {"$sum": 1}}},
        ])
        return {(row["_id"] or "und"): row["count"] async for row in rows}

    async def translation_oldest_received_at(self) -> datetime | None:
        """When the longest-waiting letter for a translator was received, if any waits."""
        oldest = await self._letters.find_one({"state": "awaiting_translation"}, {"received_at": 1},
                                              sort=[("received_at", ASCENDING)])
        return _letter(oldest)["received_at"] if oldest else None


def _letter(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """A letter as read, with its times as datetimes whichever form the server kept them in."""
    return None if doc is None else read_times(doc, LETTER_TIMES)


class MongoDecisions:
    """Insert-only: a decision is never updated, so the history cannot be rewritten by a bug."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._decisions = db["decisions"]

    async def ensure_indexes(self) -> None:
        await self._decisions.create_index([("letter_id", ASCENDING), ("seq", ASCENDING)])

    async def record(self, letter_id: str, decision: str, facts: dict[str, Any]) -> bool:
        try:
            # `seq` orders the history: finer than a date's millisecond, so the entries one settling
            # writes in the same millisecond keep the order they were written in.
            await self._decisions.insert_one(stored_times(
                {"_id": f"{letter_id}:{decision}", "letter_id": letter_id, "decision": decision.split(":")[0],
                 "at": utc_now(), "seq": time.time(), **facts}
            ))
        except DuplicateKeyError:
            return False
        return True

    async def history(self, letter_id: str) -> list[dict[str, Any]]:
        cursor = self._decisions.find({"letter_id": letter_id}).sort("seq", ASCENDING)
        return [read_times(doc, DECISION_TIMES) async for doc in cursor]
