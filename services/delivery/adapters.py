"""MongoDB repository for delivery's outgoing queue."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.delivery.domain import DELIVERY_STATES
from shared.events import utc_now


class MongoOutgoing:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["outgoing"]

    async def ensure_indexes(self) -> None:
        await self._letters.create_index([("state", ASCENDING), ("queued_at", ASCENDING)])
        await self._letters.create_index([("prisoner_id", ASCENDING), ("state", ASCENDING)])

    async def enqueue(self, letter: dict[str, Any]) -> bool:
        """Queue a letter once; the letter id is the key, so a redelivery adds nothing."""
        try:
            await self._letters.insert_one(
                {"_id": letter["letter_id"], **{k: v for k, v in letter.items() if k != "letter_id"},
                 "state": "queued", "queued_at": utc_now()}
            )
        except DuplicateKeyError:
            return False
        return True

    async def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in DELIVERY_STATES}
        async for row in await self._letters.aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = row["n"]
        return counts

    async def waiting(self, limit: int) -> list[dict[str, Any]]:
        cursor = self._letters.find({"state": "queued"}).sort("queued_at", ASCENDING).limit(limit)
        return [doc async for doc in cursor]
