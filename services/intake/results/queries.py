"""The results' reads from intake's collections: one aggregation per figure, each served by an index.

Every pipeline uses only what nx-27017 (the embedded stand-in) evaluates like MongoDB, pinned in
tests/contract/test_mongodb_results.py: `$match` (equality, `$regex`, `$size: 0`, `$gte`), `$group`
on ONE field with `{$sum: 1}`, and `find` with sort/skip/limit. Not used, because nx-27017 gets
them wrong or reads every document: `$group` on a compound `_id`, `$median`/`$percentile`,
`$sum` of a `$cond`, `$unwind` after a `$match`, `$facet`, `$project` of computed values.

Each dimension has a compound index (dimension, written_day): MongoDB answers the group from
the index keys alone, and so does SQLite under nx-27017, which scans that index in group order
and tests the period pattern on its keys without opening a letter.

The period is the day a letter was written (`written_day`, from the kiosk's clock, clamped at
intake), not the day it reached the server: an offline kiosk's letters count on the event's day.
Letters stored before `written_day` existed get it (and `place`) from their receipt once, in
`ensure_indexes`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.domain import REACHED_STATUSES
from services.intake.results.places import stored_place

# The day a letter counts on: when it was written.
DAY = "written_day"
# One index per dimension the report groups by; the day second, for the period pattern.
DIMENSIONS = (DAY, "campaign_event_id", "place", "prisoner_id", "reached_prisoner", "moderation", "status",
              "finding_categories", "blocked_reason", "returned_reason", "failed_reason", "held_kind", "failed_epoch")
# Written by note_handover_delays; the percentiles sort on it.
DELAY = "handed_over_after_s"
# A request adds at most this many delays, so a report never waits long for a backlog.
DELAYS_PER_CALL = 2000


class ResultsQueries:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["letters"]
        self._replies = db["letter_replies"]
        self._prisoners = db["prisoners"]
        self._events = db["campaign_events"]

    async def ensure_indexes(self) -> None:
        for field in DIMENSIONS:
            keys = [(field, ASCENDING)] + ([(DAY, ASCENDING)] if field != DAY else [])
            await self._letters.create_index(keys)
        # Channel with page_keys: typed letters per channel without opening a letter.
        await self._letters.create_index([("channel", ASCENDING), ("page_keys", ASCENDING), (DAY, ASCENDING)])
        # One index serves both finding letters whose delay is not noted yet and the sorted delays.
        await self._letters.create_index([(DELAY, ASCENDING), ("handed_over_epoch", ASCENDING), (DAY, ASCENDING)])
        # No other index may start with `status`: SQLite under nx-27017 then picks it for the count by status
        # and reads every letter (measured: 0.03 s → 0.8 s over 20,000 letters).
        await self._replies.create_index([("reply_id", ASCENDING), (DAY, ASCENDING)])
        await self._replies.create_index([("letter_id", ASCENDING)])
        while await self.note_written_days() or await self.note_reached_prisoners():
            pass

    async def note_reached_prisoners(self, limit: int = DELAYS_PER_CALL) -> int:
        """Name the prisoner on letters that reached them before intake kept `reached_prisoner` with the status."""
        cursor = self._letters.find({"reached_prisoner": None, "status": {"$in": list(REACHED_STATUSES)}},
                                    {"prisoner_id": 1}).limit(limit)
        updates = [UpdateOne({"_id": doc["_id"]}, {"$set": {"reached_prisoner": doc.get("prisoner_id") or ""}})
                   async for doc in cursor]
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def note_written_days(self, limit: int = DELAYS_PER_CALL) -> int:
        """Give letters stored before the written day existed their day and place, from their receipt."""
        fields = {"submitted_day": 1, "submitted_epoch": 1, "writer_city": 1, "writer_country": 1,
                  "campaign_event_id": 1}
        updates = [UpdateOne({"_id": doc["_id"]}, {"$set": {
            DAY: doc.get("submitted_day") or "", "written_epoch": doc.get("submitted_epoch") or 0.0,
            "place": stored_place(doc.get("writer_city"), doc.get("writer_country"), doc.get("campaign_event_id"))}})
            async for doc in self._letters.find({DAY: None}, fields).limit(limit)]
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def count_by(self, field: str, match: dict[str, Any]) -> dict[Any, int]:
        """Letters per value of one field (None for letters without it)."""
        pipeline = [{"$match": match}] if match else []
        pipeline.append({"$group": {"_id": f"${field}", "letters": {"$sum": 1}}})
        return {row["_id"]: row["letters"] async for row in await self._letters.aggregate(pipeline)}

    async def count_present(self, field: str, match: dict[str, Any]) -> dict[Any, int]:
        """Letters per value of a field that most letters lack (a reason, an event): only those are read.

        `$gte: ""` selects the letters that have a text there; the index range then skips the rest.
        """
        if field in match:
            return await self.count_by(field, match)
        return await self.count_by(field, {**match, field: {"$gte": ""}})

    async def typed_by_channel(self, match: dict[str, Any]) -> dict[Any, int]:
        """Letters without photographed pages, per channel (the rest are paper)."""
        return await self.count_by("channel", {**match, "page_keys": {"$size": 0}})

    async def by_category_combination(self, match: dict[str, Any]) -> dict[tuple[str, ...], int]:
        """Letters per combination of finding categories, grouped on the list as a whole.

        $unwind after $match would copy every letter on nx-27017; combinations are few. Only letters
        with categories are read (nx-27017 also reads those with an empty list, which add nothing).
        """
        rows = await self.count_present("finding_categories", match)
        combinations: dict[tuple[str, ...], int] = {}
        for value, letters in rows.items():
            key = tuple(sorted(_as_list(value)))
            if key:
                combinations[key] = combinations.get(key, 0) + letters
        return combinations

    async def handover_count(self, match: dict[str, Any]) -> int:
        pipeline = [{"$match": {**match, DELAY: {"$gte": 0}}}, {"$group": {"_id": None, "letters": {"$sum": 1}}}]
        rows = [row async for row in await self._letters.aggregate(pipeline)]
        return rows[0]["letters"] if rows else 0

    async def handover_delays_at(self, match: dict[str, Any], skip: int, take: int) -> list[float]:
        """The delays at ranks skip … skip+take-1 in ascending order: an index walk, one document read."""
        cursor = (self._letters.find({**match, DELAY: {"$gte": 0}}, {"_id": 0, DELAY: 1})
                  .sort(DELAY, ASCENDING).skip(skip).limit(take))
        return [float(doc[DELAY]) async for doc in cursor]

    async def note_handover_delays(self, limit: int = DELAYS_PER_CALL) -> int:
        """Note, on letters handed over since the last call, the seconds from writing to hand-over.

        A derived field, so the percentiles are a walk along one sorted index; each letter is
        read once in its life for it. Returns how many were noted.
        """
        cursor = self._letters.find({DELAY: None, "handed_over_epoch": {"$gt": 0}},
                                    {"submitted_epoch": 1, "written_epoch": 1, "handed_over_epoch": 1}).limit(limit)
        updates = [UpdateOne({"_id": doc["_id"]},
                             {"$set": {DELAY: max(0.0, doc["handed_over_epoch"] - _written_epoch(doc))}})
                   async for doc in cursor]
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def distinct_replies(self, match: dict[str, Any]) -> int:
        """Prisoners' replies answering at least one letter of the match: a reply to three letters is one.

        One document per reply and letter (`letter_replies`, kept by intake as it follows `letter.answered`),
        grouped by reply: the number of groups is the number of replies.
        """
        pipeline = [{"$match": match}] if match else []
        pipeline.append({"$group": {"_id": "$reply_id", "letters": {"$sum": 1}}})
        return len([row async for row in await self._replies.aggregate(pipeline) if row["_id"]])

    async def any_letter_to(self, prisoner_ids: list[str]) -> bool:
        """Whether any letter at all is to one of these prisoners: one look along the prisoner index for each
        (equality, which nx-27017 answers from the index; `$in` it answers by reading every letter)."""
        for prisoner_id in prisoner_ids:
            if await self._letters.find_one({"prisoner_id": prisoner_id}, {"_id": 1}) is not None:
                return True
        return False

    async def oldest_failure(self, match: dict[str, Any]) -> float | None:
        """When the longest-failed letter that is still failed failed (epoch seconds), or None."""
        # Along the (failed_epoch, day) index: only letters that ever failed are read, oldest first.
        cursor = (self._letters.find({**match, "failed_epoch": {"$gt": 0}}, {"_id": 0, "failed_epoch": 1, "status": 1})
                  .sort("failed_epoch", ASCENDING))
        async for doc in cursor:
            if doc.get("status") == "failed":
                return float(doc["failed_epoch"])
        return None

    async def prisoners(self) -> list[dict[str, Any]]:
        fields = {"names": 1, "status": 1, "birthday": 1, "letters_received": 1}
        return [doc async for doc in self._prisoners.find({}, fields).sort("_id", ASCENDING)]

    async def campaign_events(self) -> list[dict[str, Any]]:
        return [doc async for doc in self._events.find({}).sort("starts_on", ASCENDING)]

    async def gather(self, **calls) -> dict[str, Any]:
        """Run independent reads together; the server interleaves them."""
        values = await asyncio.gather(*calls.values())
        return dict(zip(calls, values, strict=True))


def _written_epoch(doc: dict[str, Any]) -> float:
    written = doc.get("written_epoch")
    return float(doc.get("submitted_epoch") or 0.0) if written is None else float(written)


def _as_list(value: Any) -> list[str]:
    """A grouped array comes back as a list from MongoDB and as its JSON text from nx-27017."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
