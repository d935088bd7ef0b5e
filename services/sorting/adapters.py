"""MongoDB repository for sorting's own view of each letter."""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import utc_now
from shared.s3 import StoredObject


def new_scan_key() -> str:
    # Random, so a scan's address cannot be guessed from a letter or prisoner id.
    return f"scans/{secrets.token_urlsafe(24)}.pdf"


class MongoSortedLetters:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["letters"]

    async def ensure_indexes(self) -> None:
        await self._letters.create_index([("state", ASCENDING), ("received_at", ASCENDING)])

    async def register(self, facts: dict[str, Any]) -> dict[str, Any]:
        """Store the letter once; a redelivery gets the stored record back, scan key included."""
        await self._letters.update_one(
            {"_id": facts["letter_id"]},
            {
                "$setOnInsert": {
                    **{k: v for k, v in facts.items() if k != "letter_id"},
                    "state": "received",
                    "scan_key": new_scan_key(),
                    "received_at": utc_now(),
                }
            },
            upsert=True,
        )
        return await self._letters.find_one({"_id": facts["letter_id"]})

    async def mark_review_needed(self, letter_id: str, findings: list[dict[str, Any]]) -> bool:
        return await self._transition(letter_id, "received", "review_needed", {"findings": findings})

    async def mark_ready(self, letter_id: str, scan: StoredObject, pages: int) -> bool:
        return await self._transition(
            letter_id, "received", "ready", {"scan_sha256": scan.sha256, "scan_bytes": scan.size, "pages": pages}
        )

    async def _transition(self, letter_id: str, from_state: str, to_state: str, facts: dict[str, Any]) -> bool:
        # Conditional on the current state: a redelivered message cannot change a letter twice.
        result = await self._letters.update_one(
            {"_id": letter_id, "state": from_state},
            {"$set": {**facts, "state": to_state, f"{to_state}_at": utc_now()}},
        )
        return result.modified_count == 1
