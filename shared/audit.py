"""The append-only audit log: every staff action and every read of a writer's contact data.

Entries are inserted, never updated or deleted by the code; they name who, what and when, and
never contain the contact data itself.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection


class AuditLog:
    def __init__(self, collection: AsyncCollection) -> None:
        self._entries = collection

    async def ensure_indexes(self) -> None:
        await self._entries.create_index([("at_epoch", ASCENDING)])

    async def record(self, actor: str, action: str, target: str, **details: Any) -> None:
        await self._entries.insert_one(
            {"_id": uuid.uuid4().hex, "at_epoch": time.time(), "actor": actor, "action": action, "target": target,
             "details": details}
        )

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        cursor = self._entries.find({}).sort("at_epoch", -1).limit(limit)
        return [doc async for doc in cursor]
