"""What sorting's use cases need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.s3 import StoredObject


@dataclass(frozen=True)
class QueueFilter:
    """The moderators' queue, narrowed by prisoner, campaign event or a language finding."""

    prisoner_id: str | None = None
    campaign_event_id: str | None = None
    language_flag: bool | None = None


class SortedLetters(Protocol):
    """Sorting's own view of each letter. Every change is conditional on the state it expects."""

    async def register(self, facts: dict[str, Any]) -> dict[str, Any]: ...
    async def get(self, letter_id: str) -> dict[str, Any] | None: ...
    async def mark_review_needed(self, letter_id: str) -> bool: ...
    async def mark_approved(self, letter_id: str, by: str, revision: int | None = None) -> bool: ...
    async def mark_rejected(self, letter_id: str, by: str, reason: str) -> bool: ...
    async def mark_redacted(self, letter_id: str, revision: int, text: str, screening: dict[str, Any],
                            by: str) -> bool: ...
    async def mark_ready(self, letter_id: str, from_state: str, scan: StoredObject, pages: int) -> bool: ...
    async def queue(self, where: QueueFilter, limit: int) -> tuple[int, list[dict[str, Any]]]: ...
    async def queue_facets(self) -> dict[str, list[dict[str, Any]]]: ...
    async def stalled_approvals(self, decided_before_epoch: float, limit: int) -> list[str]: ...


class DecisionLog(Protocol):
    """Insert-only history: one document per (letter, decision); recording it again is a no-op."""

    async def record(self, letter_id: str, decision: str, facts: dict[str, Any]) -> bool: ...
    async def history(self, letter_id: str) -> list[dict[str, Any]]: ...


class ScanStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...
    async def get(self, key: str) -> bytes: ...


class PageLinks(Protocol):
    """Short-lived links a moderator's browser opens to see a photographed page."""

    async def presign_get(self, key: str, expires_s: int) -> str: ...
