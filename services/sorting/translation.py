"""Translation by volunteers: the translators' queue, a letter as a translator reads it, the Russian
text they submit, and a moderator sending a letter in review to translation.

A letter waits in `awaiting_translation` when its writer asked for a translator, when most of its
text is not in Russian, or when a moderator sent it there. The translator's Russian becomes the
printed text (`text`); what the writer sent stays in `body`. The Russian is screened like any
letter and read by a moderator in the careful lane (reason `translated`). Every change is
conditional on the translation round the translator read, so a second translator, a second click
or a retried request never replaces a translation that is already in review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.sorting.domain import (
    clean_translation,
    lane_of,
    review_reasons,
    screen_printed,
    screening_facts,
    source_language,
    translated_reasons,
)
from services.sorting.facility_rules import page_limit_reasons
from services.sorting.moderation import PAGE_LINK_SECONDS, LetterNotFound, NotInReview, find_letter
from services.sorting.ports import PageLinks
from services.sorting.service import SortingDeps, announced, publish, settle
from shared.screening import ScreeningResult, screen


class NotAwaitingTranslation(NotInReview):
    """The letter was translated already (by someone else, or by an earlier click), or never waited."""


@dataclass(frozen=True)
class TranslationQueue:
    total: int
    letters: list[dict[str, Any]]
    languages: dict[str, int]


@dataclass(frozen=True)
class LetterForTranslator:
    letter: dict[str, Any]
    page_links: list[str]


async def translation_queue(language: str | None, limit: int, deps: SortingDeps) -> TranslationQueue:
    """Letters waiting for a translator, oldest first, optionally in one language; and the backlog by language."""
    total, letters = await deps.letters.translation_queue(language, limit)
    return TranslationQueue(total, letters, await deps.letters.translation_counts())


async def letter_for_translator(letter_id: str, deps: SortingDeps, links: PageLinks) -> LetterForTranslator:
    """A translator reads only letters waiting for translation: anything else is not theirs to see."""
    letter = await find_letter(letter_id, deps)
    if letter["state"] != "awaiting_translation":
        raise LetterNotFound(letter_id)
    pages = [await links.presign_get(key, PAGE_LINK_SECONDS) for key in letter.get("page_keys", [])]
    return LetterForTranslator(letter, pages)


def check_translation(text: str, lang: str = "en") -> ScreeningResult:
    """Screen a translation while it is being written, as the moderator will screen it; nothing is stored."""
    return screen(text, lang=lang)


async def submit_translation(letter_id: str, by: str, text: str, deps: SortingDeps, lang: str = "en") -> dict[str, Any]:
    """Store the translator's Russian beside the original; it becomes the printed text and goes to review."""
    text = clean_translation(text)
    letter = await find_letter(letter_id, deps)
    if letter["state"] != "awaiting_translation":
        await _refuse(letter, deps)
    round_ = letter.get("translation_round", 1)
    revision = letter["revision"] + 1
    screening = screen_printed({**letter, "text": text}, lang)
    reasons = translated_reasons(review_reasons(
        handwritten=letter["handwritten"], screening=screening, prisoner_status=letter["prisoner_status"]))
    # The scan prints only the Russian translation: its length is what the facility counts.
    reasons += page_limit_reasons(text, [], letter.get("facility_page_limit"))
    translation = {"text": text, "by": by, "at": deps.clock(), "round": round_,
                   "revision": revision, "source_language": letter.get("source_language")}
    changes = {"text": text, "translation": translation, "revision": revision, "review_reasons": reasons,
               "lane": lane_of(reasons), **screening_facts(screening)}
    # Back in review with the translation: the move and its letter.review_needed are one write.
    events = announced(letter, "review_needed", changes)
    if not await deps.letters.mark_translated(letter_id, round_, changes, announcing=events):
        await _refuse(await find_letter(letter_id, deps), deps)
    await publish(events, deps)
    letter = await find_letter(letter_id, deps)
    await settle(letter, deps)
    return letter


async def send_to_translation(
    letter_id: str, by: str, deps: SortingDeps, *, revision: int | None = None, note: str | None = None,
) -> dict[str, Any]:
    """A moderator sends a letter in review to a translator (a passage in Ukrainian, a letter in Polish…)."""
    letter = await find_letter(letter_id, deps)
    if letter["state"] != "review_needed":
        await settle(letter, deps)
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    round_ = letter.get("translation_round", 0) + 1
    found = source_language(letter["body"], screen_printed({**letter, "text": letter["body"]}))
    facts = {
        "translation_round": round_, "translation_requested_by": "moderator",
        "sent_to_translation": {"by": by, "round": round_, "note": " ".join((note or "").split()) or None},
        "source_language": found if found != "und" else letter.get("source_language", found),
    }
    # The move and its letter.translation_needed (one per round) are one write.
    events = announced(letter, "awaiting_translation", facts)
    if not await deps.letters.mark_awaiting_translation(letter_id, "review_needed", facts, revision,
                                                        announcing=events):
        letter = await find_letter(letter_id, deps)
        await settle(letter, deps)
        raise NotInReview(letter["state"], "the letter changed since you read it; read it again")
    await publish(events, deps)
    letter = await find_letter(letter_id, deps)
    await settle(letter, deps)
    return letter


async def _refuse(letter: dict[str, Any], deps: SortingDeps) -> None:
    """Complete whatever the letter's history owes, then say why not."""
    await settle(letter, deps)
    raise NotAwaitingTranslation(letter["state"],
                                 f"the letter is no longer waiting for translation (it is {letter['state']})")
