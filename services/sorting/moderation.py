"""The moderators' use cases: read the queue, approve, reject, redact, bulk-approve clean letters.

Who decided is the staff token's subject; when is recorded by the decision log. A decision is a
conditional state change (only from `review_needed`), so a second click, a second moderator or a
retried request never produces a second scan, a second status change or a second event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from services.sorting.domain import Redaction, bulk_refusal, clean_reason, screening_facts
from services.sorting.ports import PageLinks, QueueFilter
from services.sorting.service import SortingDeps, scan_letter, settle
from shared.screening import ScreeningResult, screen

log = logging.getLogger("sorting.moderation")

# Links to photographed pages live for ten minutes: long enough to read a letter, short enough
# that a link copied out of the page is soon useless.
PAGE_LINK_SECONDS = 600
# An approval whose scan did not get stored (S3 down) is finished by the sweep after this long.
STALLED_APPROVAL_S = 60.0


class LetterNotFound(Exception):
    pass


class NotInReview(Exception):
    """The letter was decided already, or changed since the moderator read it."""

    def __init__(self, state: str, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


@dataclass(frozen=True)
class LetterForModerator:
    letter: dict[str, Any]
    screening: ScreeningResult
    page_links: list[str]
    history: list[dict[str, Any]]


async def review_queue(where: QueueFilter, limit: int, deps: SortingDeps) -> tuple[int, list[dict[str, Any]]]:
    return await deps.letters.queue(where, limit)


async def letter_for_moderator(letter_id: str, deps: SortingDeps, links: PageLinks, lang: str) -> LetterForModerator:
    letter = await _letter(letter_id, deps)
    # Screened again on every view: offsets fit the current (possibly redacted) text, messages the
    # moderator's language, and the current rules apply.
    return LetterForModerator(
        letter=letter,
        screening=screen(letter["text"], lang=lang),
        page_links=[await links.presign_get(key, PAGE_LINK_SECONDS) for key in letter.get("page_keys", [])],
        history=await deps.decisions.history(letter_id),
    )


async def approve(letter_id: str, by: str, deps: SortingDeps, revision: int | None = None) -> dict[str, Any]:
    """Approve, render the scan, store it, mark the letter ready and announce it."""
    letter = await _letter(letter_id, deps)
    if letter["state"] == "review_needed" and not await deps.letters.mark_approved(letter_id, by, revision):
        letter = await _letter(letter_id, deps)
        if letter["state"] == "review_needed":
            raise NotInReview("review_needed", "the letter was redacted since you read it; read it again")
    if letter["state"] not in ("review_needed", "approved"):
        await settle(letter, deps)
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    # An approval left unfinished (the store was down) is completed here, by whoever approves again.
    return await finish_approval(letter_id, deps)


async def finish_approval(letter_id: str, deps: SortingDeps) -> dict[str, Any]:
    letter = await _letter(letter_id, deps)
    if letter["state"] == "approved":
        await scan_letter(letter, "approved", deps)
        letter = await _letter(letter_id, deps)
    await settle(letter, deps)
    return letter


async def reject(letter_id: str, by: str, reason: str, deps: SortingDeps) -> dict[str, Any]:
    reason = clean_reason(reason)
    letter = await _letter(letter_id, deps)
    if letter["state"] != "review_needed" or not await deps.letters.mark_rejected(letter_id, by, reason):
        letter = await _letter(letter_id, deps)
        await settle(letter, deps)
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    letter = await _letter(letter_id, deps)
    await settle(letter, deps)
    return letter


async def redact(
    letter_id: str, by: str, redaction: Redaction, deps: SortingDeps, *, revision: int | None = None,
    then_approve: bool = False,
) -> dict[str, Any]:
    """Replace a passage; the letter as written stays in `body` and every version in the history.

    With `revision`, the offsets refer to that version: if the letter changed since, nothing is cut.
    """
    letter = await _letter(letter_id, deps)
    if letter["state"] != "review_needed":
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    if revision is not None and revision != letter["revision"]:
        raise NotInReview("review_needed", "the letter changed since you read it; read it again")
    revision, before = letter["revision"], letter["text"]
    after = redaction.apply(before)
    if not await deps.letters.mark_redacted(letter_id, revision, after, screening_facts(screen(after)), by):
        raise NotInReview("review_needed", "the letter changed since you read it; read it again")
    await deps.decisions.record(letter_id, f"redacted:{revision + 1}", {
        "by": by, "revision": revision + 1, "before": before, "after": after,
        "start": redaction.start, "end": redaction.end, "replacement": redaction.replacement,
        "passage": before[redaction.start:redaction.end] if redaction.text is None else None,
    })
    if then_approve:
        return await approve(letter_id, by, deps, revision=revision + 1)
    return await _letter(letter_id, deps)


@dataclass(frozen=True)
class BulkResult:
    approved: list[str]
    refused: list[tuple[str, str]]


async def bulk_approve(letter_ids: list[str], by: str, deps: SortingDeps) -> BulkResult:
    """Approve a page of clean typed letters; anything that needs reading is refused, by name."""
    approved, refused = [], []
    for letter_id in dict.fromkeys(letter_ids):
        letter = await deps.letters.get(letter_id)
        screening = screen(letter["text"]) if letter else None
        refusal = bulk_refusal(letter, screening)
        if refusal is None:
            try:
                await approve(letter_id, by, deps, revision=letter["revision"])
                approved.append(letter_id)
                continue
            except NotInReview:
                refusal = "not_in_review"
        refused.append((letter_id, refusal))
    return BulkResult(approved, refused)


async def finish_stalled_approvals(deps: SortingDeps, limit: int = 50) -> int:
    """Complete approvals whose scan could not be stored at the time; returns how many were finished."""
    finished = 0
    for letter_id in await deps.letters.stalled_approvals(time.time() - STALLED_APPROVAL_S, limit):
        try:
            await finish_approval(letter_id, deps)
            finished += 1
        # The next sweep tries again; one letter that cannot be finished must not stop the rest.
        except Exception as error:  # noqa: BLE001
            log.warning("stalled approval not finished", extra={"letter_id": letter_id, "error": repr(error)})
    return finished


async def _letter(letter_id: str, deps: SortingDeps) -> dict[str, Any]:
    letter = await deps.letters.get(letter_id)
    if letter is None:
        raise LetterNotFound(letter_id)
    return letter


async def finish_stalled_approvals_forever(deps: SortingDeps, interval_s: float = 30.0) -> None:
    while True:
        try:
            finished = await finish_stalled_approvals(deps)
            if finished:
                log.info("stalled approvals finished", extra={"count": finished})
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a database outage must not end the sweep for good
            log.warning("stalled approvals sweep failed, will retry", extra={"error": repr(error)})
        await asyncio.sleep(interval_s)
