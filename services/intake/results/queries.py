"""The results' reads from intake's collections: one aggregation per figure, each served by an index.

Every pipeline uses only what nx-27017 (the embedded stand-in) evaluates like MongoDB, pinned in
tests/contract/test_mongodb_results.py: `$match` (equality, a `$gte`/`$lt` range of times, `$size: 0`,
`$gte`), `$group` on ONE field with `{$sum: 1}`, and `find` with sort/skip/limit. Not used, because
nx-27017 gets them wrong or reads every document: `$group` on a compound `_id`, `$median`/`$percentile`,
`$sum` of a `$cond`, `$unwind` after a `$match`, `$facet`, `$project` of computed values.

Each dimension has a compound index (dimension, counted_at), and the period is a range of times on
`counted_at`: MongoDB answers the group from the index keys alone (bounds on the second key, no letter
fetched), and so does SQLite under nx-27017, which scans that index in group order and tests the range on
its keys. No index on letters may START with `counted_at` (or with `written_day`, were the period a range
of day strings): SQLite then takes the range for selective, walks that index and opens every letter of the
period for its dimension (measured over 100,000 letters: about 0.05 s → 2.4 s per count). That is why the period
was once a regular expression over `written_day`; a range of times on the second key is faster still
(about 0.25 s → 0.05 s per count). The count by day groups on `written_day` along (written_day, counted_at).

The period is when a letter was written (`counted_at`: the kiosk's clock, clamped at intake; its
submission when it has none), not when it reached the server: an offline kiosk's letters count on the
event's day. `written_day` is the same instant's UTC day, the key the count by day groups on. Replies
(`letter_replies`) keep only their letter's `written_day`: theirs is the same period as a range of days.
Letters stored before `written_day` existed get it, `counted_at` (and `place`) from their receipt once,
in `ensure_indexes`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from services.intake.domain import REACHED_STATUSES
from services.intake.results.places import stored_place
from shared.mongo import read_time, read_times, stored_time, stored_times

# When a letter counts: when it was written. The period is a range of it.
PERIOD = "counted_at"
# The same instant's day (UTC, "YYYY-MM-DD"): what the count by day groups on.
DAY = "written_day"
# One index per dimension the report groups by; the time counted second, for the period's range.
DIMENSIONS = (DAY, "campaign_event_id", "place", "prisoner_id", "reached_prisoner", "moderation", "status",
              "finding_categories", "blocked_reason", "returned_reason", "failed_reason", "held_kind", "failed_at")
# The times of a letter the results read.
LETTER_TIMES = ("submitted_at", PERIOD, "handed_over_at", "failed_at")
# Any stored time: the campaign's data cannot be older. As a lower bound it also leaves out letters without one.
SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)
# Written by note_handover_delays: the seconds from writing to hand-over, and the whole hours of it. The
# percentiles find their rank by counting letters per hour, then read the seconds within that one hour.
DELAY = "handed_over_after_s"
DELAY_HOURS = "handed_over_after_h"
# MongoDB's error code for dropping an index that is not there.
INDEX_NOT_FOUND = 27
# A request adds at most this many delays, so a report never waits long for a backlog.
DELAYS_PER_CALL = 2000


class ResultsQueries:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["letters"]
        self._replies = db["letter_replies"]
        self._prisoners = db["prisoners"]
        self._events = db["campaign_events"]

    async def ensure_indexes(self) -> None:
        await self._drop_day_indexes()
        for field in DIMENSIONS:
            await self._letters.create_index([(field, ASCENDING), (PERIOD, ASCENDING)])
        # Channel with page_keys: typed letters per channel without opening a letter.
        await self._letters.create_index([("channel", ASCENDING), ("page_keys", ASCENDING), (PERIOD, ASCENDING)])
        # Letters whose delay is not noted yet; then the letters per hour of delay, for the percentiles.
        await self._letters.create_index([(DELAY, ASCENDING), ("handed_over_at", ASCENDING), (PERIOD, ASCENDING)])
        await self._letters.create_index([(DELAY_HOURS, ASCENDING), (PERIOD, ASCENDING)])
        # No other index may start with `status`: SQLite under nx-27017 then picks it for the count by status
        # and reads every letter (measured: 0.03 s → 0.8 s over 20,000 letters).
        await self._replies.create_index([("reply_id", ASCENDING), (DAY, ASCENDING)])
        await self._replies.create_index([("letter_id", ASCENDING)])
        while await self.note_written_days() or await self.note_reached_prisoners() or await self.note_delay_hours():
            pass

    async def _drop_day_indexes(self) -> None:
        """Drop the letters' indexes of the period as a pattern over `written_day` (dimension, written_day):
        the period is a range of `counted_at` now, and each stale index would cost every letter's write.
        (written_day, counted_at) is the count by day's own; nothing else of intake's indexes `written_day`."""
        async for index in await self._letters.list_indexes():
            keys = list(index["key"])
            if DAY in keys and PERIOD not in keys:
                try:
                    await self._letters.drop_index(index["name"])
                except OperationFailure as error:
                    if error.code != INDEX_NOT_FOUND:  # else another replica starting dropped it first
                        raise

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
        """Give letters stored before the written day existed their day, time counted and place, from their receipt."""
        fields = {"submitted_day": 1, "submitted_at": 1, "writer_city": 1, "writer_country": 1,
                  "campaign_event_id": 1}
        updates = [UpdateOne({"_id": doc["_id"]}, {"$set": {
            DAY: doc.get("submitted_day") or "", PERIOD: stored_time(doc.get("submitted_at")),
            "place": stored_place(doc.get("writer_city"), doc.get("writer_country"), doc.get("campaign_event_id"))}})
            async for doc in self._read(self._letters.find({DAY: None}, fields).limit(limit))]
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def note_delay_hours(self, limit: int = DELAYS_PER_CALL) -> int:
        """Give letters whose delay was noted before its hours were their hours."""
        cursor = self._letters.find({DELAY: {"$gte": 0}, DELAY_HOURS: None}, {DELAY: 1}).limit(limit)
        updates = [UpdateOne({"_id": doc["_id"]}, {"$set": {DELAY_HOURS: _hours(doc[DELAY])}}) async for doc in cursor]
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def count_by(self, field: str, match: dict[str, Any]) -> dict[Any, int]:
        """Letters per value of one field (None for letters without it)."""
        pipeline = [{"$match": stored_times(match)}] if match else []
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
        pipeline = [{"$match": stored_times({**match, DELAY: {"$gte": 0}})}, {"$group": {"_id": None, "letters": {"$sum": 1}}}]
        rows = [row async for row in await self._letters.aggregate(pipeline)]
        return rows[0]["letters"] if rows else 0

    async def handover_delays_at(self, match: dict[str, Any], skip: int, take: int) -> list[float]:
        """The delays at ranks skip … skip+take-1 in ascending order.

        Letters per hour of delay (a group along the (hours, counted_at) index) say in which hours those
        ranks fall; a group on the seconds of just those hours' letters gives the values. Not a sorted
        `find` with skip: nx-27017 sorts and skips in Python, after reading every letter of the period,
        once its filter holds a time (measured over 100,000 letters: 2 s per walk).
        """
        per_hour = sorted((await self.count_by(DELAY_HOURS, {**match, DELAY_HOURS: {"$gte": 0}})).items())
        values: list[float] = []
        passed = 0
        for hours, letters in per_hour:
            if passed + letters > skip:
                seconds = await self.count_by(DELAY, {**match, DELAY_HOURS: hours})
                within = [float(v) for v, n in sorted(seconds.items()) if v is not None for _ in range(n)]
                values += within[max(0, skip - passed):]
                if len(values) >= take:
                    break
            passed += letters
        return values[:take]

    async def note_handover_delays(self, limit: int = DELAYS_PER_CALL) -> int:
        """Note, on letters handed over since the last call, the seconds from writing to hand-over.

        A derived field, so the percentiles are a walk along one sorted index; each letter is
        read once in its life for it. Returns how many were noted.
        """
        # An aggregation, not a `find`: nx-27017 answers a `find` whose filter holds a time by reading every
        # letter that matches (all handed-over letters, here), before the limit.
        pipeline = [{"$match": stored_times({DELAY: None, "handed_over_at": {"$gte": SINCE_EVER}})}, {"$limit": limit}]
        updates = []
        async for doc in self._read(await self._letters.aggregate(pipeline)):
            delay = _handover_delay(doc)
            updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {DELAY: delay, DELAY_HOURS: _hours(delay)}}))
        if updates:
            await self._letters.bulk_write(updates, ordered=False)
        return len(updates)

    async def distinct_replies(self, match: dict[str, Any]) -> int:
        """Prisoners' replies answering at least one letter of the match: a reply to three letters is one.

        One document per reply and letter (`letter_replies`, kept by intake as it follows `letter.answered`),
        grouped by reply: the number of groups is the number of replies.
        """
        pipeline = [{"$match": stored_times(match)}] if match else []
        pipeline.append({"$group": {"_id": "$reply_id", "letters": {"$sum": 1}}})
        return len([row async for row in await self._replies.aggregate(pipeline) if row["_id"]])

    async def any_letter_to(self, prisoner_ids: list[str]) -> bool:
        """Whether any letter at all is to one of these prisoners: one look along the prisoner index for each
        (equality, which nx-27017 answers from the index; `$in` it answers by reading every letter)."""
        for prisoner_id in prisoner_ids:
            if await self._letters.find_one({"prisoner_id": prisoner_id}, {"_id": 1}) is not None:
                return True
        return False

    async def oldest_failure(self, match: dict[str, Any]) -> datetime | None:
        """When the longest-failed letter that is still failed failed, or None."""
        # The letters failed now, grouped by when they failed (few: an operator re-queues them). A group,
        # not a sorted `find`: nx-27017 reads every letter of the period for a `find` whose filter holds a time.
        failed = await self.count_by("failed_at", {**match, "status": "failed"})
        return min((read_time(at) for at in failed if at is not None), default=None)

    async def prisoners(self) -> list[dict[str, Any]]:
        fields = {"names": 1, "status": 1, "birthday": 1, "letters_received": 1}
        return [doc async for doc in self._prisoners.find({}, fields).sort("_id", ASCENDING)]

    async def campaign_events(self) -> list[dict[str, Any]]:
        return [doc async for doc in self._events.find({}).sort("starts_on", ASCENDING)]

    async def gather(self, **calls) -> dict[str, Any]:
        """Run independent reads together; the server interleaves them."""
        values = await asyncio.gather(*calls.values())
        return dict(zip(calls, values, strict=True))

    @staticmethod
    async def _read(cursor):
        """The letters of a cursor with their times as datetimes, whichever form the server keeps them in."""
        async for doc in cursor:
            yield read_times(doc, LETTER_TIMES)


def _hours(delay: float) -> int:
    return int(delay // 3600)


def _handover_delay(letter: dict[str, Any]) -> float:
    """Seconds from writing (its receipt for a letter without a time counted) to hand-over; never negative."""
    written = letter.get(PERIOD) or letter["submitted_at"]
    return max(0.0, (letter["handed_over_at"] - written).total_seconds())


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
