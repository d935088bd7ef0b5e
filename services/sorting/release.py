"""An approved letter waits out the undo window before its scan goes to delivery: the moderators'
list of such letters, taking an approval back, and the sweep that sends them on afterwards.

Undo and release race only at the window's end: undo is conditional on the window still being
open, and a rendering begun for an approval that was taken back cannot mark the letter ready
(the undo gives the letter a new scan key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from services.sorting.domain import RELEASE_ATTEMPTS, may_undo
from services.sorting.moderation import NotInReview, find_letter
from services.sorting.service import SortingDeps, finish_approval, settle
from shared.reliability import is_transient

log = logging.getLogger("sorting.release")

# How often the release sweep looks for approvals whose undo window is over: a letter goes on a
# few seconds after its window ends, for one indexed query.
RELEASE_SWEEP_S = 2.0


async def undo(letter_id: str, by: str, deps: SortingDeps) -> dict[str, Any]:
    """Take an approval back within the undo window: the letter returns to review, nothing was sent."""
    letter = await find_letter(letter_id, deps)
    now = deps.clock()
    if not may_undo(letter, now) or not await deps.letters.mark_undone(letter_id, by, letter.get("round", 0), now):
        letter = await find_letter(letter_id, deps)
        raise NotInReview(letter["state"], f"the approval can no longer be undone (the letter is {letter['state']})")
    letter = await find_letter(letter_id, deps)
    await settle(letter, deps)
    return letter


@dataclass(frozen=True)
class AwaitingRelease:
    letter: dict[str, Any]
    seconds_left: float


async def awaiting_release(deps: SortingDeps, limit: int = 200) -> list[AwaitingRelease]:
    """Approved letters whose undo window is still open, the soonest to go first."""
    now = deps.clock()
    return [AwaitingRelease(letter, max(0.0, (letter["undo_until"] - now).total_seconds()))
            for letter in await deps.letters.awaiting_release(now, limit)]


async def release_due_approvals(deps: SortingDeps, limit: int = 50) -> int:
    """Send on approvals whose undo window is over (or whose scan could not be stored at the time).

    An outage (the store, the database) is waited out: the next sweep tries again, for as long as it
    lasts. Any other failure is counted, and the RELEASE_ATTEMPTS-th parks the approval: it is no longer
    retried, and moderators see it with its reason (`stuck_approvals`) until one of them tries again.
    """
    released = 0
    for letter_id in await deps.letters.due_releases(deps.clock(), limit):
        try:
            await finish_approval(letter_id, deps)
            released += 1
        # One letter that cannot be finished must not stop the rest.
        except Exception as error:  # noqa: BLE001
            if is_transient(error):
                log.warning("approval not released yet", extra={"letter_id": letter_id, "error": repr(error)})
            elif await deps.letters.release_failed(letter_id, repr(error), RELEASE_ATTEMPTS):
                log.error("approval parked: its scan failed too often", extra={"letter_id": letter_id,
                                                                               "error": repr(error)})
            else:
                log.warning("approval not released", extra={"letter_id": letter_id, "error": repr(error)})
    return released


@dataclass(frozen=True)
class OnTheirWay:
    """What the moderators' "going to delivery" list shows: approvals in their undo window, and those
    whose scan failed too often, parked with the reason."""

    waiting: list[AwaitingRelease]
    stuck: list[dict[str, Any]]


async def approvals_on_their_way(deps: SortingDeps, limit: int = 200) -> OnTheirWay:
    return OnTheirWay(await awaiting_release(deps, limit), await deps.letters.stuck_releases(limit))


async def release_pass(deps: SortingDeps) -> None:
    """One pass of the release sweep (every RELEASE_SWEEP_S, shared/service.py `every`)."""
    released = await release_due_approvals(deps)
    if released:
        log.info("approvals released to delivery", extra={"count": released})
