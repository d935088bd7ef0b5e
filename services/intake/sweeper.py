"""Intake's sweeper: nothing waits forever. Every interval it looks for what stayed in a non-final
state past its deadline, repairs what it safely can, and reports the rest to the operators' monitor
(delivery's, through an `OverdueReport` event) and in the `intake_overdue_letters` gauge.

What it looks at, and what it does:
* `unannounced`: an event stored with its change (a letter's `letter.received`, a prisoner's
  `prisoner.updated`…) still unpublished past `INTAKE_SWEEP_UNPUBLISHED_AFTER_S`. The outbox relay
  already retries it every second; the sweeper only reports it, since publishing it once more
  would race the relay.
* `received`: a letter sorting has said nothing of (no screening, no review) past
  `INTAKE_SWEEP_UNSORTED_AFTER_S`: reported; sorting's own sweeper heals its side, and a letter
  sorting never stored is in its parking lot.
* `ready`: scanned and approved, and delivery has not queued it past `INTAKE_SWEEP_UNQUEUED_AFTER_S`:
  reported (intake is the only service that follows a letter from end to end).
* `facility_copy`: a prisoner whose copy of their facility differs from the facility itself (a
  crash between saving the facility and its prisoners, facilities.py). Repaired, as saving the
  facility again would: the prisoner's placement is written with its `prisoner.updated`, but only
  if the copy is still the stale one read, so a newer change of the prisoner is never overwritten.
  Delivery keeps the newest version of a prisoner, so one more announcement changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from services.intake.adapters import ConcurrentPrisonerChange
from services.intake.config import IntakeSettings
from services.intake.facilities import placement
from services.intake.metrics import HEALED, OVERDUE
from services.intake.ports import FacilityList, PlacedPrisoners, StalledLetters, UnpublishedEvents
from services.intake.staff import Announced
from shared.events import OVERDUE_REPORT_LIMIT, OverdueLetter, OverdueReport, utc_now
from shared.facilities import Facility

log = logging.getLogger("intake.sweeper")

STATES = ("unannounced", "received", "ready", "facility_copy")
WAITING_NOTES = {
    "received": "accepted, and sorting has not reported screening it: see sorting's log and its parking lot "
                "(python -m shared.parking list sorting.letter-received)",
    "ready": "approved and scanned, and delivery has not queued it: see delivery's log and its parking lot "
             "(python -m shared.parking list delivery.letter-ready)",
}


@dataclass(frozen=True)
class Deadlines:
    unpublished_s: float = 600.0
    unsorted_s: float = 1800.0
    unqueued_s: float = 1800.0

    @classmethod
    def of(cls, settings: IntakeSettings) -> Deadlines:
        return cls(settings.sweep_unpublished_after_s, settings.sweep_unsorted_after_s,
                   settings.sweep_unqueued_after_s)

    def waiting(self) -> dict[str, float]:
        """How long a letter may keep each headline status before it is overdue."""
        return {"received": self.unsorted_s, "ready": self.unqueued_s}


@dataclass(frozen=True)
class SweepDeps:
    letters: StalledLetters
    prisoners: PlacedPrisoners
    facilities: FacilityList
    outbox: UnpublishedEvents
    deadlines: Deadlines = Deadlines()
    clock: Callable[[], datetime] = utc_now


# -- decisions (pure) ------------------------------------------------------------------------------

def waiting(status: str, rows: Iterable[tuple[str, datetime]], skip: set[str]) -> list[OverdueLetter]:
    """Letters overdue in a status; those already reported as unannounced are not listed twice."""
    return [OverdueLetter(letter_id=letter_id, state=status, since=since, note=WAITING_NOTES[status])
            for letter_id, since in rows if letter_id not in skip]


def copy_is_stale(copy: Any, facility: Facility) -> bool:
    """Whether a prisoner's copy of their facility is not the facility as stored."""
    if not isinstance(copy, dict):
        return True
    try:
        return Facility.model_validate(copy) != facility
    except ValidationError:
        return True


def gauge_counts(counts: dict[str, int]) -> dict[str, int]:
    """Every state the sweeper knows, 0 where nothing is overdue, so a cleared state reads 0."""
    return {state: counts.get(state, 0) for state in STATES}


# -- use cases -------------------------------------------------------------------------------------

async def repair_facility_copies(facilities: FacilityList, prisoners: PlacedPrisoners,
                                 outbox: UnpublishedEvents, now: datetime) -> tuple[int, list[OverdueLetter]]:
    """Rewrite stale copies of a facility with its prisoner.updated; how many, and those that kept changing."""
    repaired, left = 0, []
    for facility in await facilities.list():
        for prisoner in await prisoners.placed_at(facility.id):
            stale = prisoner.get("facility")
            if not copy_is_stale(stale, facility):
                continue
            announced = Announced()
            try:
                # Only over the stale copy as read: None when a change of the prisoner overtook the repair.
                done = await prisoners.update(prisoner["_id"], placement(facility), announced,
                                              only_if={"facility_id": facility.id, "facility": stale})
            except ConcurrentPrisonerChange:
                left.append(OverdueLetter(letter_id=prisoner["_id"], state="facility_copy", since=now,
                                          note=f"the prisoner's copy of facility {facility.id} is stale and kept "
                                               "changing while it was repaired: save the facility again"))
                continue
            if done is not None:
                await announced.publish(outbox)
                repaired += 1
    return repaired, left


async def sweep(deps: SweepDeps) -> OverdueReport:
    """One sweep: repair what can be, report the rest, set the gauge."""
    now = deps.clock()
    repaired, found = await repair_facility_copies(deps.facilities, deps.prisoners, deps.outbox, now)
    if repaired:
        HEALED.labels("facility_copy").inc(repaired)
        log.info("stale facility copies repaired", extra={"count": repaired})
    counts = {"facility_copy": len(found)}
    stuck = [event.as_overdue() for event in
             await deps.outbox.unpublished(deps.deadlines.unpublished_s, OVERDUE_REPORT_LIMIT)]
    counts["unannounced"] = len(stuck)
    found += stuck
    named = {letter.letter_id for letter in stuck}
    for status, after_s in deps.deadlines.waiting().items():
        total, rows = await deps.letters.stalled(status, now - timedelta(seconds=after_s), OVERDUE_REPORT_LIMIT)
        listed = waiting(status, rows, named)
        counts[status] = total - (len(rows) - len(listed))
        found += listed
    for state, count in gauge_counts(counts).items():
        OVERDUE.labels(state).set(count)
    return OverdueReport.of("intake", now, found, counts)
