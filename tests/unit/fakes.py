"""In-memory stand-ins for the ports, for unit tests of pure logic and handlers only."""

from __future__ import annotations

from typing import Any

from shared.events import LetterEvent
from shared.s3 import StoredObject


class RecordingOutbox:
    """Keeps events by id, as the real outbox does: adding the same event twice stores it once."""

    def __init__(self) -> None:
        self.events: dict[str, LetterEvent] = {}
        self.publishes = 0

    async def add_and_publish(self, event: LetterEvent) -> bool:
        self.events.setdefault(str(event.event_id), event)
        self.publishes += 1
        return True

    def of(self, kind: type[LetterEvent]) -> list[LetterEvent]:
        return [e for e in self.events.values() if isinstance(e, kind)]


class MemorySortedLetters:
    def __init__(self) -> None:
        self.letters: dict[str, dict[str, Any]] = {}
        self.transitions: list[tuple[str, str]] = []

    async def register(self, facts: dict[str, Any]) -> dict[str, Any]:
        letter_id = facts["letter_id"]
        self.letters.setdefault(letter_id, {**facts, "state": "received", "scan_key": f"scans/{letter_id}-key.pdf"})
        return dict(self.letters[letter_id])

    async def mark_review_needed(self, letter_id: str, findings: list[dict[str, Any]]) -> bool:
        return self._move(letter_id, "review_needed", findings=findings)

    async def mark_ready(self, letter_id: str, scan: StoredObject, pages: int) -> bool:
        return self._move(letter_id, "ready", scan_sha256=scan.sha256, scan_bytes=scan.size, pages=pages)

    def _move(self, letter_id: str, state: str, **facts: Any) -> bool:
        if self.letters[letter_id]["state"] != "received":
            return False
        self.letters[letter_id].update(state=state, **facts)
        self.transitions.append((letter_id, state))
        return True


class MemoryScans:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        import hashlib

        self.objects[key] = data
        self.puts += 1
        return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data))


class MemoryOutgoing:
    def __init__(self) -> None:
        self.letters: dict[str, dict[str, Any]] = {}

    async def enqueue(self, letter: dict[str, Any]) -> bool:
        if letter["letter_id"] in self.letters:
            return False
        self.letters[letter["letter_id"]] = {**letter, "state": "queued"}
        return True
