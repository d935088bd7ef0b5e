"""What sorting's use cases need from storage."""

from typing import Any, Protocol

from shared.s3 import StoredObject


class SortedLetters(Protocol):
    async def register(self, facts: dict[str, Any]) -> dict[str, Any]: ...
    async def mark_review_needed(self, letter_id: str, findings: list[dict[str, Any]]) -> bool: ...
    async def mark_ready(self, letter_id: str, scan: StoredObject, pages: int) -> bool: ...


class ScanStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...
