"""In-memory stand-ins for the ports, for unit tests of pure logic and handlers only."""

from __future__ import annotations

from typing import Any

from shared.events import LetterEvent


class RecordingOutbox:
    """Keeps events by id, as the real outbox does: adding the same event twice stores it once."""

    def __init__(self) -> None:
        self.events: dict[str, LetterEvent] = {}
        self.publishes = 0

    async def add_and_publish(self, event: LetterEvent) -> bool:
        self.events.setdefault(str(event.event_id), event)
        self.publishes += 1
        return True

    # An event written with its change (the fake repositories do not keep it) is recorded when published.
    publish = add_and_publish

    def of(self, kind: type[LetterEvent]) -> list[LetterEvent]:
        return [e for e in self.events.values() if isinstance(e, kind)]


class MemoryOutgoing:
    def __init__(self) -> None:
        self.letters: dict[str, dict[str, Any]] = {}

    async def enqueue(self, letter: dict[str, Any]) -> bool:
        if letter["letter_id"] in self.letters:
            return False
        self.letters[letter["letter_id"]] = {**letter, "state": "queued"}
        return True
