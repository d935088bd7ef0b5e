"""Sorting's use cases for a received letter: screen it, then approve and scan it or send it to review.

Every function here may run again for the same letter (a redelivered message, a retried request,
several sorting replicas): state changes are conditional, the scan key is fixed on first sight,
history entries are keyed by (letter, decision) and events by (letter, transition).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.sorting.domain import (
    SIGNATURE_FIELDS,
    ModerationPolicy,
    approval_outcome,
    goes_straight_on,
    is_handwritten,
    lane_of,
    printed_fields,
    printed_key,
    printed_page_keys,
    review_reasons,
    screening_facts,
    source_language,
    translation_entries,
    translation_needed,
    was_redacted,
)
from services.sorting.facility_rules import page_limit_reasons
from services.sorting.ports import DecisionLog, ScanStore, SortedLetters
from services.sorting.render_pool import RenderPool, ScanJob, render
from shared.events import (
    LetterEvent,
    LetterReady,
    LetterReceived,
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawn,
    event_id_for,
    utc_now,
)
from shared.screening import screen

# Automatic steps are recorded in the history under this name; moderators under their staff subject.
SORTING = "sorting"


class EventOutbox(Protocol):
    async def add_and_publish(self, event: LetterEvent) -> bool: ...
    async def publish(self, event: LetterEvent) -> bool: ...


@dataclass(frozen=True)
class SortingDeps:
    """What the use cases need; built once in the composition root, replaced by fakes in unit tests."""

    letters: SortedLetters
    decisions: DecisionLog
    scans: ScanStore
    outbox: EventOutbox
    font_path: str
    # Worker processes for the scans (main.py); without it, the scans render in a thread (unit tests).
    renderer: RenderPool | None = None
    policy: ModerationPolicy = field(default_factory=ModerationPolicy)
    clock: Callable[[], datetime] = utc_now


async def sort_letter(event: LetterReceived, deps: SortingDeps) -> str:
    """Returns the letter's state after sorting; safe to call again for the same letter."""
    letter = await deps.letters.register(_facts(event))
    if letter["state"] == "received":
        if letter.get("translation_source"):
            facts = {"translation_round": 1, "translation_requested_by": letter["translation_source"]}
            events = announced(letter, "awaiting_translation", facts)
            if await deps.letters.mark_awaiting_translation(event.letter_id, "received", facts, announcing=events):
                await publish(events, deps)
        elif goes_straight_on(letter["review_reasons"], deps.policy):
            await scan_letter(letter, "received", deps)
        else:
            events = announced(letter, "review_needed")
            if await deps.letters.mark_review_needed(event.letter_id, announcing=events):
                await publish(events, deps)
        letter = await deps.letters.get(event.letter_id)
    await settle(letter, deps)
    return letter["state"]


def _facts(event: LetterReceived) -> dict[str, Any]:
    written = event.model_dump(exclude={"event_id", "occurred_at", "schema_version"})
    # Everything the scan prints is screened: a slogan signed as a "name" reaches the censor too.
    screening = screen(event.body, fields={name: written[name] for name in SIGNATURE_FIELDS})
    handwritten = is_handwritten(event.page_keys)
    reasons = review_reasons(handwritten=handwritten, screening=screening, prisoner_status=event.prisoner_status)
    reasons += page_limit_reasons(event.body, event.page_keys, event.facility_page_limit)
    translation = translation_needed(requested=event.translation_requested, text=event.body, screening=screening)
    return {
        **written,
        # The letter as written stays in `body` and `writer_*`; `text` and `printed_writer_*` are what
        # the scan prints (a moderator's redactions apply to them).
        "text": event.body,
        **{printed_key(name): written[name] for name in SIGNATURE_FIELDS},
        "handwritten": handwritten,
        "review_reasons": reasons,
        "lane": lane_of(reasons),
        **screening_facts(screening),
        # Who sends it to a translator on arrival (the writer, or screening: mostly not Russian), if anyone.
        "translation_source": translation,
        "source_language": source_language(event.body, screening),
    }


async def scan_letter(letter: dict[str, Any], from_state: str, deps: SortingDeps) -> None:
    """Render the scan, store it under the letter's fixed key, then mark the letter ready."""
    # A translated letter prints only its Russian text, never the photographed original.
    pages = [await deps.scans.get(key) for key in printed_page_keys(letter)]
    # Rendering is CPU work: in worker processes it keeps off this event loop and its GIL.
    job = scan_job(letter, pages)
    scan = await (deps.renderer.render(job) if deps.renderer else asyncio.to_thread(render, job, deps.font_path))
    # Same key on every attempt: a retry overwrites with the same bytes, it never adds a second scan.
    stored = await deps.scans.put(letter["scan_key"], scan.pdf, "application/pdf")
    events = announced(letter, "ready", {"scan_sha256": stored.sha256, "scan_bytes": stored.size,
                                         "pages": scan.pages})
    if await deps.letters.mark_ready(letter["_id"], from_state, stored, scan.pages, announcing=events):
        await publish(events, deps)


def announced(letter: dict[str, Any], state: str, facts: dict[str, Any] | None = None) -> list[LetterEvent]:
    """The events of a move about to be written, so the move carries them (shared/outbox.py)."""
    event = announcement({**letter, **(facts or {}), "state": state})
    return [event] if event is not None else []


async def publish(events: list[LetterEvent], deps: SortingDeps) -> None:
    """Publish the events a move was just written with; what fails here the relay publishes."""
    for event in events:
        await deps.outbox.publish(event)


async def finish_approval(letter_id: str, deps: SortingDeps) -> dict[str, Any]:
    """Render and store an approved letter's scan, mark it ready and announce it; safe to repeat."""
    letter = await deps.letters.get(letter_id)
    if letter["state"] == "approved":
        await scan_letter(letter, "approved", deps)
        letter = await deps.letters.get(letter_id)
    await settle(letter, deps)
    return letter


def scan_job(letter: dict[str, Any], pages: list[bytes]) -> ScanJob:
    """What the scan prints: the approved text and the printed name and city, nothing else."""
    signature = printed_fields(letter)
    return ScanJob(
        prisoner_name_ru=letter["prisoner_name_ru"],
        text=letter["text"],
        writer_first_name=signature["writer_first_name"],
        writer_city=signature["writer_city"],
        written_at=letter["submitted_at"],
        pages=tuple(pages),
    )


async def settle(letter: dict[str, Any], deps: SortingDeps) -> None:
    """Make the history agree with the letter's state; repeating it changes nothing.

    Called after every change and also when a request or a message finds the letter already
    decided: if an earlier attempt stopped between the state change and its record, this completes
    it. The bus needs nothing from here: every announced move carries its event (`announced`).
    """
    letter_id, state = letter["_id"], letter["state"]
    if state == "received":
        return
    await deps.decisions.record(
        letter_id, "screened",
        {"by": SORTING, "review_reasons": letter["review_reasons"], "categories": letter["categories"]},
    )
    for entry, facts in translation_entries(letter):
        await deps.decisions.record(letter_id, entry, facts)
    if letter.get("first_approved_by"):
        await deps.decisions.record(
            letter_id, f"first_approval:{letter['first_approved_round']}:{letter['first_approved_revision']}",
            {"by": letter["first_approved_by"], "revision": letter["first_approved_revision"]},
        )
    if letter.get("round", 0):
        # The approval of the round before was taken back within its window.
        await deps.decisions.record(letter_id, f"undone:{letter['round']}", {"by": letter["undone_by"]})
    if state in ("approved", "ready"):
        await deps.decisions.record(letter_id, approval_entry(letter), {
            "by": letter.get("decided_by", SORTING), "revision": letter["revision"], "text": letter["text"],
            **printed_fields(letter), "confirmed_findings": letter.get("confirmed_findings"),
            # The masks of the approved revision: the very ones burned into the pages the scan prints.
            "masks": letter.get("masks") or None,
        })
    elif state == "rejected":
        await deps.decisions.record(letter_id, "rejected", {
            "by": letter["decided_by"], "reason": letter["reason"], "reason_code": letter.get("reason_code", "other"),
            "reason_note": letter.get("reason_note")})
    elif state == "withdrawn":
        await deps.decisions.record(letter_id, "withdrawn", {"by": "writer", "from_state": letter.get("withdrawn_from")})


def announcement(letter: dict[str, Any]) -> LetterEvent | None:
    """The event that tells the other services where the letter stands; ids repeat per transition."""
    letter_id, prisoner_id = letter["_id"], letter["prisoner_id"]
    match letter["state"]:
        case "ready":
            return LetterReady.for_letter(
                letter_id, prisoner_id=prisoner_id, scan_key=letter["scan_key"], scan_sha256=letter["scan_sha256"],
                scan_bytes=letter["scan_bytes"], pages=letter["pages"], moderation=moderation_of(letter),
                printed_text=letter["text"] or None, translated=bool(letter.get("translation")),
                redacted=was_redacted(letter),
            )
        case "awaiting_translation":
            # One event per round: a letter a moderator sends back to translation is announced again.
            round_ = letter.get("translation_round", 1)
            return LetterTranslationNeeded(
                event_id=event_id_for(letter_id, f"{LetterTranslationNeeded.routing_key}:{round_}"),
                letter_id=letter_id, prisoner_id=prisoner_id, source_language=letter.get("source_language"),
                requested_by=letter.get("translation_requested_by", "screening"),
            )
        case "review_needed" if letter.get("translation"):
            # Back from a translator: a new transition, so a new event (the first review's id is taken).
            round_ = letter["translation"]["round"]
            return LetterReviewNeeded(
                event_id=event_id_for(letter_id, f"{LetterReviewNeeded.routing_key}:translated:{round_}"),
                letter_id=letter_id, prisoner_id=prisoner_id, categories=letter["categories"],
            )
        case "review_needed":
            return LetterReviewNeeded.for_letter(letter_id, prisoner_id=prisoner_id, categories=letter["categories"])
        case "rejected":
            return LetterRejected.for_letter(letter_id, prisoner_id=prisoner_id, reason=letter["reason"],
                                             reason_code=letter.get("reason_code", "other"),
                                             note=letter.get("reason_note"))
        case "withdrawn":
            return LetterWithdrawn.for_letter(letter_id, prisoner_id=prisoner_id)
    return None


def approval_entry(letter: dict[str, Any]) -> str:
    """The history key of an approval: one per round, since an undone approval may be given again."""
    round_ = letter.get("round", 0)
    return f"approved:{round_}" if round_ else "approved"


def moderation_of(letter: dict[str, Any]) -> str:
    """How a ready letter was approved: by screening alone, by a moderator as written, redacted, or as
    a volunteer translated it."""
    if "decided_by" not in letter:
        return "auto"
    return approval_outcome(letter)
