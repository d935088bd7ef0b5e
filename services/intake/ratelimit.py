"""Per-address rate limits for anonymous writers: a moving window per rule, e.g. "20/minute".

Counted in intake's database, like the wrong-token counter (shared/auth.py), not in the process:
every replica sees the same hits, so three intakes do not give one address three times the
letters. Two replicas answering the same address in the same instant may each let one more
through; the limit is a brake on floods, not an exact quota.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from limits import parse
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from shared.events import utc_now
from shared.mongo import read_time, stored_time, upgrade_times

# The name of a hit's time in the schema before dates (epoch seconds), converted at start.
HIT_EPOCHS = {"at_epoch": "at"}


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


class AddressLimiter:
    def __init__(self, collection: AsyncCollection, rules: dict[str, str],
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._hits = collection
        self._rules = {name: parse(rule) for name, rule in rules.items()}
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._hits, HIT_EPOCHS)
        await self._hits.create_index([("rule", ASCENDING), ("address", ASCENDING), ("at", ASCENDING)])

    async def hit(self, rule: str, address: str) -> None:
        """Count one request of this kind from this address, or raise RateLimited past the limit."""
        item = self._rules[rule]
        window, now = timedelta(seconds=item.get_expiry()), self._clock()
        recent = {"rule": rule, "address": address, "at": {"$gt": stored_time(now - window)}}
        if await self._hits.count_documents(recent, limit=item.amount) >= item.amount:
            oldest = await self._hits.find_one(recent, sort=[("at", ASCENDING)])
            frees_at = (read_time(oldest["at"]) if oldest else now) + window
            # A refused request is not stored: a flood cannot grow the collection or prolong its own wait.
            raise RateLimited(max(1, math.ceil((frees_at - now).total_seconds())))
        await self._hits.insert_one({"_id": uuid.uuid4().hex, "rule": rule, "address": address,
                                     "at": stored_time(now)})
        await self._hits.delete_many({"rule": rule, "address": address, "at": {"$lte": stored_time(now - window)}})
