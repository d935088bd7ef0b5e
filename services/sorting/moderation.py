"""The moderators' use cases: read the queue, approve, reject, redact, bulk-approve clean letters,
and see how screening compares with moderators (release.py: the undo window and the release).

Who decided is the staff token's subject; when is recorded by the decision log. A decision is a
conditional state change (only from `review_needed`, on the revision the moderator read), so a
second click, a second moderator or a retried request never produces a second scan, a second
status change or a second event.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from services.sorting.domain import (
    RELEASE_ATTEMPTS,
    Agreement,
    Redaction,
    agreement,
    approval_outcome,
    approval_step,
    approval_times,
    block_findings,
    bulk_refusal,
    confirms_exactly,
    decision_facts,
    lane_of,
    may_undo,
    page_images,
    redacted_values,
    rejection_facts,
    review_reasons,
    screen_as_written,
    screen_printed,
    screening_facts,
)
from services.sorting.facility_rules import page_limit_reasons
from services.sorting.ports import PageLinks, QueueFilter
from services.sorting.service import SortingDeps, announced, finish_approval, publish, settle
from shared.reliability import is_transient
from shared.screening import Finding, ScreeningResult

# Links to photographed pages live for ten minutes: long enough to read a letter, short enough
# that a link copied out of the page is soon useless.
PAGE_LINK_SECONDS = 600
CHANGED = "the letter changed since you read it; read it again"

# A block finding as a moderator confirms it: (rule id, printed field).
Confirmation = Collection[tuple[str, str]]


log = logging.getLogger("sorting.moderation")


class LetterNotFound(Exception):
    pass


class NotInReview(Exception):
    """The letter was decided already, or changed since the moderator read it."""

    def __init__(self, state: str, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


class ConfirmationNeeded(Exception):
    """Approving needs the moderator's confirmation of exactly these block-level findings."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("confirm the block-level findings to approve this letter")
        self.findings = findings


@dataclass(frozen=True)
class LetterForModerator:
    letter: dict[str, Any]
    screening: ScreeningResult
    page_links: list[str]
    history: list[dict[str, Any]]


@dataclass(frozen=True)
class ReviewQueue:
    total: int
    letters: list[dict[str, Any]]
    lanes: dict[str, int]


async def review_queue(where: QueueFilter, limit: int, deps: SortingDeps) -> ReviewQueue:
    total, letters = await deps.letters.queue(where, limit)
    return ReviewQueue(total, letters, await deps.letters.lane_counts(where))


async def letter_for_moderator(letter_id: str, deps: SortingDeps, links: PageLinks, lang: str) -> LetterForModerator:
    letter = await find_letter(letter_id, deps)
    # Screened again on every view: offsets fit the current (possibly redacted) text, name and
    # city, messages the moderator's language, and the current rules apply.
    return LetterForModerator(
        letter=letter,
        screening=screen_printed(letter, lang),
        # The pages as they will be printed: with the masks burned in, never the photo under them.
        page_links=[await links.presign_get(key, PAGE_LINK_SECONDS) for key in page_images(letter)],
        history=await deps.decisions.history(letter_id),
    )


async def approve(
    letter_id: str, by: str, deps: SortingDeps, revision: int | None = None,
    confirmed: Confirmation | None = None, lang: str = "en",
) -> dict[str, Any]:
    """Approve what the moderator read; its scan goes to delivery once the undo window is over.

    Block-level findings must be confirmed by (rule, field); with the second-moderator rule, the
    first of two approvals leaves the letter in review.
    """
    letter = await find_letter(letter_id, deps)
    if letter["state"] == "review_needed":
        letter = await _approve_in_review(letter, by, deps, revision, confirmed, lang)
        if letter["state"] == "review_needed":
            return letter
    if letter["state"] != "approved":
        await settle(letter, deps)
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    if may_undo(letter, deps.clock()):
        await settle(letter, deps)
        return letter
    if letter.get("release_parked"):
        # Parked after its scan failed too often: approving again gives it its attempts back, and the
        # release sweep takes it on within seconds (a failure here would only repeat in the request).
        await deps.letters.unpark_release(letter_id)
        return await find_letter(letter_id, deps)
    # An approval left unfinished (the store was down) is completed here, by whoever approves again.
    try:
        return await finish_approval(letter_id, deps)
    except Exception as error:
        if is_transient(error):
            raise  # answered 503; the release sweep finishes it once the store is back
        # The approval stands; its scan failed for another reason. Counted like the sweep's failures
        # (parked at the limit, then shown to moderators), not a server error for the moderator.
        log.warning("approved, but its scan failed", extra={"letter_id": letter_id, "error": repr(error)})
        await deps.letters.release_failed(letter_id, repr(error), RELEASE_ATTEMPTS)
        return await find_letter(letter_id, deps)


async def _approve_in_review(
    letter: dict[str, Any], by: str, deps: SortingDeps, revision: int | None, confirmed: Confirmation | None,
    lang: str,
) -> dict[str, Any]:
    if revision is not None and revision != letter["revision"]:
        raise NotInReview("review_needed", CHANGED)
    screening = screen_printed(letter, lang)
    if not confirms_exactly(screening, confirmed):
        raise ConfirmationNeeded(block_findings(screening))
    step = approval_step(letter, by, block=bool(block_findings(screening)), policy=deps.policy)
    if step == "same_moderator":
        raise NotInReview("review_needed", "a second moderator must approve this letter too; you approved it already")
    if step == "first_of_two":
        return await _first_of_two(letter, by, deps)
    approved = await deps.letters.mark_approved(letter["_id"], by, letter["revision"], _approval(letter, screening, deps))
    # Not approved now: someone else approved it meanwhile (carry on with theirs), or it changed or was rejected.
    if not approved and (await find_letter(letter["_id"], deps))["state"] != "approved":
        await _refuse_as_it_stands(letter["_id"], deps)
    letter = await find_letter(letter["_id"], deps)
    await settle(letter, deps)
    return letter


async def _first_of_two(letter: dict[str, Any], by: str, deps: SortingDeps) -> dict[str, Any]:
    """The first of the two approvals the second-moderator rule asks for: the letter stays in review."""
    revision, round_ = letter["revision"], letter.get("round", 0)
    if not await deps.letters.mark_first_approval(letter["_id"], by, revision, round_):
        await _refuse_as_it_stands(letter["_id"], deps)
    await deps.decisions.record(letter["_id"], f"first_approval:{round_}:{revision}", {"by": by, "revision": revision})
    return await find_letter(letter["_id"], deps)


def _approval(letter: dict[str, Any], screening: ScreeningResult, deps: SortingDeps) -> dict[str, Any]:
    """What is recorded with an approval: the exact comparison facts, the window, the confirmations."""
    outcome = approval_outcome(letter)
    as_written = screening if outcome == "approved" else screen_as_written(letter)
    now = deps.clock()
    return {
        **decision_facts(letter, as_written, outcome),
        **approval_times(deps.policy, now),
        "decided_at": now,
        "round": letter.get("round", 0),
        "confirmed_findings": sorted(f"{f.field}/{f.rule}" for f in block_findings(screening)),
    }


async def reject(
    letter_id: str, by: str, reason: str | None, deps: SortingDeps, *, reason_code: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Reject with a preset reason and an optional note the writer sees (only `reason`: an older client,
    counted as the preset `other` with that text as its note)."""
    rejection = rejection_facts(reason_code, note, reason)
    letter = await find_letter(letter_id, deps)
    if letter["state"] == "review_needed":
        facts = {**decision_facts(letter, screen_as_written(letter), "rejected"), "decided_at": deps.clock(),
                 **rejection}
        # The rejection and its letter.rejected are one write: a crash after it loses neither.
        events = announced(letter, "rejected", facts)
        if await deps.letters.mark_rejected(letter_id, by, rejection["reason"], facts, announcing=events):
            await publish(events, deps)
            letter = await find_letter(letter_id, deps)
            await settle(letter, deps)
            return letter
    letter = await find_letter(letter_id, deps)
    await settle(letter, deps)
    raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")


async def redact(
    letter_id: str, by: str, redaction: Redaction, deps: SortingDeps, *, revision: int | None = None,
    then_approve: bool = False, confirmed: Confirmation | None = None, lang: str = "en",
) -> dict[str, Any]:
    """Replace a passage of the text, or correct or clear the printed name or city; what the
    writer sent stays in `body` and `writer_*`, and every version in the history.

    With `revision`, the offsets refer to that version: if the letter changed since, nothing is cut.
    Redact-then-approve checks the confirmation first, so a refused approval changes nothing.
    """
    letter = await find_letter(letter_id, deps)
    if letter["state"] != "review_needed":
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    if revision is not None and revision != letter["revision"]:
        raise NotInReview("review_needed", CHANGED)
    revision = letter["revision"]
    before, after, changes = redacted_values(letter, redaction)
    screening = screen_printed({**letter, **changes}, lang)
    if then_approve and not confirms_exactly(screening, confirmed):
        raise ConfirmationNeeded(block_findings(screening))
    reasons = review_reasons(handwritten=letter["handwritten"], screening=screening,
                             prisoner_status=letter["prisoner_status"])
    reasons += page_limit_reasons(changes.get("text", letter["text"]), letter.get("page_keys", []),
                                  letter.get("facility_page_limit"))
    if not await deps.letters.mark_redacted(
        letter_id, revision, {**changes, **screening_facts(screening), "lane": lane_of(reasons)}, by
    ):
        raise NotInReview("review_needed", CHANGED)
    await deps.decisions.record(letter_id, f"redacted:{revision + 1}", {
        "by": by, "revision": revision + 1, "field": redaction.field, "before": before, "after": after,
        "start": redaction.start, "end": redaction.end, "replacement": redaction.replacement,
        "passage": redaction.passage(before),
    })
    if then_approve:
        return await approve(letter_id, by, deps, revision=revision + 1, confirmed=confirmed, lang=lang)
    return await find_letter(letter_id, deps)


async def screening_agreement(last: int, deps: SortingDeps) -> Agreement:
    """Screening's verdicts against moderators' decisions over the last `last` decided letters."""
    decided = await deps.letters.recent_decisions(last)
    return agreement((letter["decided_flagged"], letter["decided_outcome"]) for letter in decided)


@dataclass(frozen=True)
class BulkResult:
    approved: list[str]
    refused: list[tuple[str, str]]


async def bulk_approve(letter_ids: list[str], by: str, deps: SortingDeps) -> BulkResult:
    """Approve a page of clean typed letters; anything that needs reading is refused, by name."""
    approved, refused = [], []
    for letter_id in dict.fromkeys(letter_ids):
        letter = await deps.letters.get(letter_id)
        refusal = bulk_refusal(letter, screen_printed(letter) if letter else None)
        if refusal is None:
            try:
                await approve(letter_id, by, deps, revision=letter["revision"])
                approved.append(letter_id)
                continue
            except NotInReview:
                refusal = "not_in_review"
            except ConfirmationNeeded:  # screened again on approval, under rules changed meanwhile
                refusal = "has_findings"
        refused.append((letter_id, refusal))
    return BulkResult(approved, refused)


async def find_letter(letter_id: str, deps: SortingDeps) -> dict[str, Any]:
    """The letter, or LetterNotFound (a 404)."""
    letter = await deps.letters.get(letter_id)
    if letter is None:
        raise LetterNotFound(letter_id)
    return letter


async def _refuse_as_it_stands(letter_id: str, deps: SortingDeps) -> None:
    """A conditional change did not apply: say why, after completing whatever the letter's state owes."""
    letter = await find_letter(letter_id, deps)
    if letter["state"] == "review_needed":
        raise NotInReview("review_needed", CHANGED)
    await settle(letter, deps)
    raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
