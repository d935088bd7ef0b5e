"""Sorting's sweeper: nothing waits forever. Every interval it looks for letters that stayed in a
non-final state past their deadline, moves on those it safely can, and reports the rest to the
operators' monitor (delivery's, through an `OverdueReport` event) and in the `sorting_overdue_letters`
gauge.

What it looks at, and what it does:
* `received`: stored, and neither sent to review or translation nor scanned, past
  `SORTING_SWEEP_UNSORTED_AFTER_S` (its message failed until it was parked, say). Sorted again:
  the same use case a redelivered `letter.received` runs (`sort_letter`), rebuilt from the stored
  letter, so it decides exactly as the handler would (review, translation, or, only under
  `SORTING_AUTO_APPROVE`, straight on). Every move is conditional on `received` and carries its
  event, so a handler running at the same time and the sweeper move it, and announce it, once.
  A letter that cannot be sorted again is reported with the error.
* `approved`: its undo window closed past `SORTING_SWEEP_UNRELEASED_AFTER_S` ago and its scan has not
  gone to delivery. The release sweep (release.py) already retries it every few seconds: reported only.
* `review_needed` and `awaiting_translation`: waiting for a person (a moderator, a volunteer
  translator) past `SORTING_SWEEP_UNDECIDED_AFTER_DAYS` / `SORTING_SWEEP_UNTRANSLATED_AFTER_DAYS`:
  reported, never decided by the sweeper.
* `unannounced`: an event stored with its move and still unpublished past
  `SORTING_SWEEP_UNPUBLISHED_AFTER_S`: reported (the outbox relay keeps trying it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.sorting.config import SortingSettings
from services.sorting.metrics import HEALED, OVERDUE
from services.sorting.ports import UnpublishedEvents
from services.sorting.service import SortingDeps, sort_letter
from shared.events import OVERDUE_REPORT_LIMIT, LetterReceived, OverdueLetter, OverdueReport

log = logging.getLogger("sorting.sweeper")

DAY_S = 86400.0
# Letters sorted again in one sweep: a backlog is worked through over a few sweeps, not all at once.
RESORT_LIMIT = 20
STATES = ("unannounced", "received", "approved", "review_needed", "awaiting_translation")
NOTES = {
    "received": "stored, and neither sent to review nor scanned; sorting it again did not move it on",
    "approved": "approved and its undo window is over, but the scan has not gone to delivery: the release sweep "
                "keeps trying (see 'approval not released' in sorting's log)",
    "review_needed": "waiting for a moderator's decision",
    "awaiting_translation": "waiting for a volunteer translator",
}
# The fields of letter.received that sorting keeps with the letter as it registered it.
_RECEIVED_FIELDS = tuple(name for name in LetterReceived.model_fields
                         if name not in ("event_id", "occurred_at", "schema_version", "letter_id"))


@dataclass(frozen=True)
class Deadlines:
    unpublished_s: float = 600.0
    unsorted_s: float = 900.0
    unreleased_s: float = 600.0
    undecided_s: float = 3 * DAY_S
    untranslated_s: float = 7 * DAY_S

    @classmethod
    def of(cls, settings: SortingSettings) -> Deadlines:
        return cls(settings.sweep_unpublished_after_s, settings.sweep_unsorted_after_s,
                   settings.sweep_unreleased_after_s, settings.sweep_undecided_after_days * DAY_S,
                   settings.sweep_untranslated_after_days * DAY_S)

    def waiting(self) -> dict[str, float]:
        """How long a letter may wait in each state before it is overdue."""
        return {"received": self.unsorted_s, "approved": self.unreleased_s, "review_needed": self.undecided_s,
                "awaiting_translation": self.untranslated_s}


@dataclass(frozen=True)
class SweepDeps:
    sorting: SortingDeps
    outbox: UnpublishedEvents
    deadlines: Deadlines = Deadlines()


# -- decisions (pure) ------------------------------------------------------------------------------

def received_again(letter: dict[str, Any]) -> LetterReceived:
    """The letter.received a stored letter was registered from, as a redelivery would bring it again."""
    return LetterReceived.for_letter(letter["_id"], **{name: letter[name] for name in _RECEIVED_FIELDS
                                                       if name in letter})


def overdue(state: str, rows: Iterable[tuple[str, datetime]], failures: dict[str, str]) -> list[OverdueLetter]:
    """Letters overdue in a state, each with what is known (the error, if sorting it again failed)."""
    return [OverdueLetter(letter_id=letter_id, state=state, since=since,
                          note=f"{NOTES[state]}: {failures[letter_id]}" if letter_id in failures else NOTES[state])
            for letter_id, since in rows]


# -- use cases -------------------------------------------------------------------------------------

async def sort_again(letter_ids: Iterable[str], deps: SortingDeps) -> tuple[int, dict[str, str]]:
    """Sort stuck received letters as a redelivery would; how many moved on, and why the others did not."""
    moved, failures = 0, {}
    for letter_id in letter_ids:
        letter = await deps.letters.get(letter_id)
        if letter is None or letter["state"] != "received":
            continue  # moved on meanwhile
        try:
            state = await sort_letter(received_again(letter), deps)
        except Exception as error:  # noqa: BLE001 - one letter that cannot be sorted must not stop the sweep
            failures[letter_id] = f"{type(error).__name__}: {error}"[:200]
            continue
        moved += state != "received"
    return moved, failures


async def sweep(deps: SweepDeps) -> OverdueReport:
    """One sweep: sort stuck letters again, report what is still overdue, set the gauge."""
    sorting, deadlines = deps.sorting, deps.deadlines
    _, stuck = await sorting.letters.stalled("received", sorting.clock() - timedelta(seconds=deadlines.unsorted_s),
                                             RESORT_LIMIT)
    moved, failures = await sort_again([letter_id for letter_id, _ in stuck], sorting)
    if moved:
        HEALED.labels("received").inc(moved)
        log.info("stuck letters sorted again", extra={"count": moved})
    now = sorting.clock()
    found = [event.as_overdue() for event in await deps.outbox.unpublished(deadlines.unpublished_s,
                                                                             OVERDUE_REPORT_LIMIT)]
    counts = {"unannounced": len(found)}
    for state, after_s in deadlines.waiting().items():
        counts[state], rows = await sorting.letters.stalled(state, now - timedelta(seconds=after_s),
                                                            OVERDUE_REPORT_LIMIT)
        found += overdue(state, rows, failures)
    for state in STATES:
        OVERDUE.labels(state).set(counts.get(state, 0))
    return OverdueReport.of("sorting", now, found, counts)
