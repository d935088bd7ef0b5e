"""Sorting's use case: screen a received letter, then approve and scan it or send it to review."""

from __future__ import annotations

import asyncio
from typing import Any

from services.sorting.domain import decide, finding_categories
from services.sorting.ports import ScanStore, SortedLetters
from services.sorting.scan import TypedLetter, render_typed_letter
from shared.events import LetterReady, LetterReceived, LetterReviewNeeded
from shared.outbox import Outbox
from shared.screening import screen


async def sort_letter(
    event: LetterReceived, *, letters: SortedLetters, scans: ScanStore, outbox: Outbox, font_path: str
) -> str:
    """Returns the letter's state after sorting; safe to call again for the same letter."""
    letter = await letters.register(event.model_dump(exclude={"event_id", "occurred_at", "schema_version"}))
    if letter["state"] == "received":
        screening = screen(event.body)
        if decide(handwritten=bool(event.page_keys), screening=screening) == "review":
            await letters.mark_review_needed(event.letter_id, [f.model_dump() for f in screening.findings])
            letter = {**letter, "state": "review_needed", "categories": finding_categories(screening)}
        else:
            letter = await _scan(event, letter, letters, scans, font_path)
    await _announce(event, letter, outbox)
    return letter["state"]


async def _scan(
    event: LetterReceived, letter: dict[str, Any], letters: SortedLetters, scans: ScanStore, font_path: str
) -> dict[str, Any]:
    typed = TypedLetter(
        prisoner_name_ru=event.prisoner_name_ru,
        body=event.body,
        writer_first_name=event.writer_first_name,
        writer_city=event.writer_city,
        written_at=event.submitted_at,
    )
    # Rendering is CPU work; a thread keeps the broker heartbeats and other handlers going.
    scan = await asyncio.to_thread(render_typed_letter, typed, font_path)
    # Same key on every attempt: a retry overwrites, it never adds a second scan.
    stored = await scans.put(letter["scan_key"], scan.pdf, "application/pdf")
    await letters.mark_ready(event.letter_id, stored, scan.pages)
    return {**letter, "state": "ready", "scan_sha256": stored.sha256, "scan_bytes": stored.size, "pages": scan.pages}


async def _announce(event: LetterReceived, letter: dict[str, Any], outbox: Outbox) -> None:
    """(Re-)announce the current state; the outbox makes a repeated announcement a no-op."""
    if letter["state"] == "ready":
        await outbox.add_and_publish(
            LetterReady.for_letter(
                event.letter_id,
                prisoner_id=event.prisoner_id,
                scan_key=letter["scan_key"],
                scan_sha256=letter["scan_sha256"],
                scan_bytes=letter["scan_bytes"],
                pages=letter["pages"],
            )
        )
    elif letter["state"] == "review_needed":
        categories = letter.get("categories") or sorted({f["category"] for f in letter.get("findings", [])})
        await outbox.add_and_publish(
            LetterReviewNeeded.for_letter(event.letter_id, prisoner_id=event.prisoner_id, categories=categories)
        )
