"""The append-only audit log: every staff action and every read of a writer's contact data.

Entries are inserted, never updated or deleted by the code; they name who, in which role, did
what to which object and when, and never contain the contact data itself. Each service keeps its
own log in its own database.
"""

from __future__ import annotations

import uuid
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from shared.events import utc_now
from shared.mongo import read_times, stored_time


class AuditLog:
    """Can add entries and read them, nothing else."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._entries = collection

    async def ensure_indexes(self) -> None:
        await self._entries.create_index([("at", DESCENDING)])

    async def record(self, actor: str, action: str, target: str, *, role: str | None = None, **details: Any) -> None:
        await self._entries.insert_one({
            "_id": uuid.uuid4().hex, "at": stored_time(utc_now()), "actor": actor,
            "role": role, "action": action, "target": target, "details": details,
        })

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, each entry with its `id`."""
        cursor = self._entries.find({}).sort("at", DESCENDING).limit(limit)
        return [{k: v for k, v in read_times(doc, ["at"]).items() if k != "_id"} | {"id": doc["_id"]}
                async for doc in cursor]
