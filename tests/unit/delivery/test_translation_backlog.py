"""The monitor's translation backlog, followed from sorting's events in whatever order they arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.delivery.translation_backlog import backlog, follow
from shared.events import LetterReady, LetterReviewNeeded, LetterTranslationNeeded


class MemoryWaits:
    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}

    async def started(self, letter_id, at, language):
        doc = self.docs.setdefault(letter_id, {})
        doc["started_at"], doc["language"] = max(doc.get("started_at", at), at), language

    async def moved_on(self, letter_id, at):
        doc = self.docs.setdefault(letter_id, {})
        doc["left_at"] = max(doc.get("left_at", at), at)

    async def waiting(self):
        return [doc for doc in self.docs.values() if "started_at" in doc]


def at(second: int) -> datetime:
    return datetime(2027, 1, 15, 8, 0, tzinfo=UTC) + timedelta(seconds=second)


def needed(letter_id: str, second: int, language: str | None = "de") -> LetterTranslationNeeded:
    return LetterTranslationNeeded.for_letter(letter_id, prisoner_id="p", source_language=language,
                                              requested_by="screening").model_copy(update={"occurred_at": at(second)})


def reviewed(letter_id: str, second: int) -> LetterReviewNeeded:
    return LetterReviewNeeded.for_letter(letter_id, prisoner_id="p").model_copy(update={"occurred_at": at(second)})


async def test_letters_wait_until_their_next_step_even_when_it_arrives_first():
    waits = MemoryWaits()
    await follow(needed("l_de", 0), waits)
    await follow(needed("l_uk", 50, "uk"), waits)
    await follow(reviewed("l_early", 30), waits)  # the step overtook its start
    await follow(needed("l_early", 10), waits)
    await follow(reviewed("l_never_translated", 5), waits)

    summary = backlog(await waits.waiting(), at(100))

    assert (summary.waiting, summary.oldest_waiting_s, summary.languages) == (2, 100.0, {"de": 1, "uk": 1})


async def test_a_letter_sent_back_to_translation_waits_again_and_stops_when_ready():
    waits = MemoryWaits()
    await follow(needed("l_1", 0), waits)
    await follow(reviewed("l_1", 10), waits)
    await follow(needed("l_1", 20, None), waits)
    assert backlog(await waits.waiting(), at(30)).languages == {"und": 1}
    ready = LetterReady.for_letter("l_1", prisoner_id="p", scan_key="k", scan_sha256="s", scan_bytes=1, pages=1)
    await follow(ready.model_copy(update={"occurred_at": at(40)}), waits)
    assert backlog(await waits.waiting(), at(50)).waiting == 0
