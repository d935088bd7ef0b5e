"""Delivery's sweeper: nothing waits forever. Every interval it looks for letters that stayed in a
non-final state past their deadline, moves on those it safely can, keeps its report beside intake's
and sorting's for the monitor (`GET /api/v1/monitor/overdue`) and sets the `delivery_overdue_letters`
gauge.

What it looks at, and what it does:
* `bundled`, in a bundle that was sent: the sender stopped between marking the bundle sent and
  moving its letters (a crash, a database error). The letter is moved to `sent` as the sender
  would have moved it: conditional on `bundled` in that bundle, with its `letter.delivery_updated`
  in the same write, so the move and its event happen once whoever does them. Nothing is sent
  again: the bundle already went. Looked at `SENDER_GRACE_S` after the bundle was sent, whatever
  the letter's age.
* `bundled` otherwise, past `DELIVERY_SWEEP_UNSENT_AFTER_S`: reported with its bundle's state (a
  manual bundle waiting for an operator, e-mail attempts failing, a failed bundle to re-queue, a
  cancelled bundle that left the letter behind). Never sent or moved by the sweeper.
* `queued` and in no bundle past the bundle schedule plus `DELIVERY_SWEEP_BUNDLE_MARGIN_S`: reported.
* `sent` with no hand-over confirmed after `DELIVERY_SWEEP_UNCONFIRMED_AFTER_DAYS`: reported, since
  only a person can find out what happened (ask the intermediary).
* `unannounced`: an event stored with its change and still unpublished past
  `DELIVERY_SWEEP_UNPUBLISHED_AFTER_S`: reported (the outbox relay keeps trying it).

Held and failed letters are not swept: they wait for an operator by design, and the monitor lists them
with their reasons already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from services.delivery.config import DeliverySettings
from services.delivery.context import Delivery
from services.delivery.metrics import HEALED, OVERDUE
from services.delivery.model import Bundle, OutgoingLetter
from services.delivery.ports import OverdueReports, UnpublishedEvents
from services.delivery.service import move_letter
from shared.events import OVERDUE_REPORT_LIMIT, OverdueLetter, OverdueReport

DAY_S = 86400.0
# Bundled letters looked at in one sweep, the longest-unchanged first.
BUNDLED_LIMIT = 200
# A sender moves a sent bundle's letters moments after marking it sent; a letter still bundled there
# this long after was left behind. (Moving it sooner would be safe too, only a race the sender wins.)
SENDER_GRACE_S = 30.0
STATES = ("unannounced", "queued", "bundled", "sent")


@dataclass(frozen=True)
class Deadlines:
    unpublished_s: float = 600.0
    unbundled_s: float = 3600.0 + 1800.0
    unsent_s: float = 6 * 3600.0
    unconfirmed_s: float = 14 * DAY_S

    @classmethod
    def of(cls, settings: DeliverySettings) -> Deadlines:
        # A queued letter waits at most one schedule for its bundle; the margin covers a busy round.
        return cls(settings.sweep_unpublished_after_s, settings.bundle_interval_s + settings.sweep_bundle_margin_s,
                   settings.sweep_unsent_after_s, settings.sweep_unconfirmed_after_days * DAY_S)


@dataclass(frozen=True)
class SweepDeps:
    delivery: Delivery
    outbox: UnpublishedEvents
    reports: OverdueReports
    deadlines: Deadlines = Deadlines()


# -- decisions (pure) ------------------------------------------------------------------------------

def sent_without_its_letters(letter: OutgoingLetter, bundle: Bundle | None) -> bool:
    """A letter still bundled in a bundle that was sent: the sender stopped before moving it."""
    return letter.state == "bundled" and bundle is not None and bundle.state == "sent" and bundle.id == letter.bundle_id


def bundled_note(letter: OutgoingLetter, bundle: Bundle | None) -> str:
    """Why a bundled letter has not left, from its bundle's state, and who can act."""
    if bundle is None:
        return f"its bundle {letter.bundle_id} is missing: redirect the letter once it is held"
    if bundle.state == "building":
        return f"its bundle {bundle.id} is still being built (the builder resumes it; see the delivery log)"
    if bundle.state == "ready" and bundle.channel == "manual":
        return f"its bundle {bundle.id} waits for an operator to hand it off (manual channel)"
    if bundle.state == "ready":
        return (f"its bundle {bundle.id} has not gone out: {bundle.attempts} attempt(s)"
                + (f", last error: {bundle.last_error}" if bundle.last_error else ""))
    if bundle.state == "failed":
        return f"its bundle {bundle.id} failed ({bundle.last_error or 'no reason kept'}): re-queue the bundle"
    return f"its bundle {bundle.id} is {bundle.state}, yet the letter stayed in it: an operator must look at it"


def queued_note(letter: OutgoingLetter) -> str:
    if letter.intermediary_id is None:
        return "queued with no intermediary: add or activate one for this prisoner"
    return (f"queued for intermediary {letter.intermediary_id} and in no bundle yet: is the intermediary active, "
            "or does a bundle of theirs wait to be sent?")


def sent_note(letter: OutgoingLetter) -> str:
    return f"sent in bundle {letter.bundle_id}, and no hand-over confirmed: ask the intermediary what happened"


def overdue(letter: OutgoingLetter, note: str) -> OverdueLetter:
    return OverdueLetter(letter_id=letter.id, state=letter.state, since=letter.changed_at, note=note)


# -- use cases -------------------------------------------------------------------------------------

async def settle_bundled(delivery: Delivery, unsent_s: float) -> tuple[int, list[OverdueLetter]]:
    """Move on letters their sender left behind in a sent bundle; how many, and the bundled ones overdue."""
    now = delivery.clock()
    _, letters = await delivery.letters.stalled("bundled", now, BUNDLED_LIMIT)
    bundles: dict[str, Bundle | None] = {}
    moved, found = 0, []
    for letter in letters:
        key = letter.bundle_id or ""
        if key not in bundles:
            bundles[key] = await delivery.bundles.get(key) if key else None
        bundle = bundles[key]
        if bundle is not None and sent_without_its_letters(letter, bundle) and (
                bundle.sent_at is None or bundle.sent_at < now - timedelta(seconds=SENDER_GRACE_S)):
            # As the sender would have: once, with its event, only from bundled in this bundle.
            moved += await move_letter(delivery, letter, "sent", sources=("bundled",),
                                       only_if={"bundle_id": bundle.id}, sent_at=bundle.sent_at or now)
        elif letter.changed_at < now - timedelta(seconds=unsent_s):
            found.append(overdue(letter, bundled_note(letter, bundle)))
    return moved, found


async def sweep(deps: SweepDeps) -> OverdueReport:
    """One sweep: move on what the sender left behind, keep the report of what is still overdue, set the gauge."""
    delivery, deadlines = deps.delivery, deps.deadlines
    moved, found = await settle_bundled(delivery, deadlines.unsent_s)
    if moved:
        HEALED.labels("bundled").inc(moved)
    counts = {"bundled": len(found)}
    unannounced = [event.as_overdue() for event in await deps.outbox.unpublished(deadlines.unpublished_s,
                                                                                   OVERDUE_REPORT_LIMIT)]
    counts["unannounced"] = len(unannounced)
    found += unannounced
    now = delivery.clock()
    waits: dict[str, tuple[float, Callable[[OutgoingLetter], str]]] = {
        "queued": (deadlines.unbundled_s, queued_note), "sent": (deadlines.unconfirmed_s, sent_note)}
    for state, (after_s, note) in waits.items():
        counts[state], letters = await delivery.letters.stalled(state, now - timedelta(seconds=after_s),
                                                                OVERDUE_REPORT_LIMIT)
        found += [overdue(letter, note(letter)) for letter in letters]
    for state in STATES:
        OVERDUE.labels(state).set(counts.get(state, 0))
    report = OverdueReport.of("delivery", now, found, counts)
    await deps.reports.keep(report)
    return report
