"""Delivery's rules: a letter's states and moves, routing to an intermediary, retries, queue summaries.

Pure: values in, values out. No I/O, so every rule can be tested exhaustively and fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.delivery.model import HoldKind, Intermediary, Prisoner, ReleaseRecipient
from shared.prisoners import can_receive_letters

# The moves a letter may make. Everything else is refused, so a late, repeated or crossed
# request (a redelivery, a double click, two operators at once) changes nothing.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"bundled", "held"}),
    # A held letter goes back to the queue when an operator redirects it or a route appears, or, kept
    # for a released prisoner, is handed over to them or their family in one bundle (release.py).
    "held": frozenset({"queued", "handed_over"}),
    # A bundle that is cancelled before it leaves (prisoner released, intermediary withdrawn)
    # puts its letters on hold or back in the queue.
    "bundled": frozenset({"sent", "failed", "held", "queued"}),
    # An operator re-queues a failed bundle (its letters are bundled again), or the intermediary
    # is withdrawn (they queue for another).
    "failed": frozenset({"bundled", "held", "queued"}),
    "sent": frozenset({"handed_over", "returned", "blocked"}),
    # The prison's censor may still return or block a letter after the hand-over.
    "handed_over": frozenset({"returned", "blocked"}),
    "returned": frozenset(),
    "blocked": frozenset(),
}
# Letters that have not left yet: they count as the backlog.
WAITING_STATES = ("queued", "bundled", "failed")
OUTCOMES = ("handed_over", "returned", "blocked")


def sources_of(target: str) -> tuple[str, ...]:
    """The states a letter may be in to move to `target`."""
    return tuple(state for state, targets in TRANSITIONS.items() if target in targets)


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class Routed:
    intermediary_id: str


@dataclass(frozen=True)
class Held:
    kind: HoldKind
    reason: str


def status_hold(prisoner: Prisoner | None) -> Held | None:
    """A released or deceased prisoner gets no more letters through the usual route."""
    if prisoner is None or can_receive_letters(prisoner.status):
        return None
    since = f" on {prisoner.status_since}" if prisoner.status_since else ""
    return Held(
        f"prisoner_{prisoner.status}",  # type: ignore[arg-type]
        f"prisoner {prisoner.status}{since}: an operator archives or redirects the letter",
    )


def stops_bundle(prisoner: Prisoner | None, bundle_created_at: datetime) -> Held | None:
    """A bundle made before its prisoner was released is not sent; one made after (an operator
    redirected the letters on purpose) is."""
    hold = status_hold(prisoner)
    if hold is None or prisoner is None or prisoner.status_changed_at < bundle_created_at:
        return None
    return hold


def choose_route(prisoner: Prisoner | None, intermediaries: Iterable[Intermediary],
                 load: Mapping[str, int]) -> Routed | Held:
    """Pick who carries a new letter: the primary first, only active ones that reach the prisoner's
    facility, each within capacity.

    `load` is how many letters already wait for each intermediary's next bundle. When every
    active intermediary's next bundle is full, the letter goes to the one with the most room
    relative to capacity (the primary on a tie) and waits for a later bundle.
    """
    hold = status_hold(prisoner)
    if hold is not None:
        return hold
    active = [i for i in intermediaries if i.active]
    candidates = sorted((i for i in active if reaches(i, prisoner)), key=lambda i: (not i.primary, i.id))
    if not candidates:
        if active and prisoner is not None and prisoner.status == "transferred":
            return moving_hold(prisoner)
        return Held("no_route", "no active intermediary for this prisoner: add or activate one")
    for intermediary in candidates:
        if load.get(intermediary.id, 0) < intermediary.capacity_per_bundle:
            return Routed(intermediary.id)
    least_full = min(candidates, key=lambda i: load.get(i.id, 0) / i.capacity_per_bundle)
    return Routed(least_full.id)


def reaches(intermediary: Intermediary | None, prisoner: Prisoner | None) -> bool:
    """Whether this intermediary can carry letters to the prisoner where they are held now.

    One tied to a facility (a lawyer admitted to one pre-trial centre) reaches the prisoner only
    there; one tied to none (a relative who posts letters on) reaches them wherever they are. While
    delivery does not know where the prisoner is held, it keeps to the intermediaries it has.
    """
    if intermediary is None or not intermediary.active:
        return False
    if intermediary.facility_id is None or prisoner is None or prisoner.facility_id is None:
        return True
    return intermediary.facility_id == prisoner.facility_id


def moving_hold(prisoner: Prisoner) -> Held:
    where = f" to {prisoner.facility_name or prisoner.facility_id}" if prisoner.facility_id else ""
    return Held("prisoner_moving", f"waiting while the prisoner is moved{where}: no intermediary reaches them there "
                                   "yet; add one for the new facility or redirect the letter")


def follows_prisoner(letter_facility_id: str | None, prisoner: Prisoner | None) -> bool:
    """A letter routed for another facility than the one the prisoner is held at now must follow them.

    Only while the directory knows where they are: a transfer without a facility keeps the route.
    """
    return (prisoner is not None and prisoner.facility_id is not None and can_receive_letters(prisoner.status)
            and letter_facility_id != prisoner.facility_id)


def follow_route(current: Intermediary | None, prisoner: Prisoner | None, intermediaries: Iterable[Intermediary],
                 load: Mapping[str, int]) -> Routed | Held:
    """The route of a letter whose prisoner moved: its intermediary while they still reach the prisoner
    (the same relative posts it to the new address), else a new route, else a hold until there is one."""
    if current is not None and reaches(current, prisoner):
        return Routed(current.id)
    return choose_route(prisoner, intermediaries, load)


def change_of(prisoner: Prisoner) -> str:
    """How a letter's history names the prisoner's move: a transfer, or the facility learnt (a correction)."""
    return "transfer" if prisoner.status == "transferred" else "placement"


# Letters held for these reasons are kept for the prisoner: on a release an operator hands them over.
KEPT_HOLD_KINDS = ("prisoner_released", "prisoner_deceased", "no_route", "prisoner_moving")


def release_problem(prisoner: Prisoner | None, recipient: ReleaseRecipient) -> str | None:
    """Why the letters kept for this prisoner cannot be handed over to `recipient` now, or None."""
    if prisoner is None:
        return "delivery does not know this prisoner"
    if prisoner.status == "deceased" and recipient != "family":
        return "the prisoner has died: their letters go to their family"
    if can_receive_letters(prisoner.status):
        return f"the prisoner is {prisoner.status}: letters reach them through their intermediaries"
    return None


def needs_review(previous: str | None, current: str) -> str | None:
    """A transfer keeps the route but asks an operator to check it (new colony, new rules)."""
    if current == "transferred" and previous != "transferred":
        return "prisoner transferred: check that the intermediaries can still reach them"
    return None


def retry_delay_s(attempt: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after the `attempt`-th failed send: base, 2×base, 4×base… up to max."""
    return min(max_s, base_s * 2 ** max(0, attempt - 1))


# ---------------------------------------------------------------------------------------------
# What operators watch
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingLetter:
    letter_id: str
    prisoner_id: str
    intermediary_id: str | None
    state: str
    queued_at: datetime


@dataclass(frozen=True)
class Backlog:
    key: str
    letters: int
    oldest_waiting_s: float


def _waited_s(now: datetime, since: datetime) -> float:
    return max(0.0, (now - since).total_seconds())


def backlog_by(letters: Iterable[WaitingLetter], key: str, now: datetime) -> list[Backlog]:
    """Letters not yet sent, grouped by `prisoner_id` or `intermediary_id`, oldest wait first."""
    groups: dict[str, list[datetime]] = {}
    for letter in letters:
        if letter.state not in WAITING_STATES:
            continue
        groups.setdefault(getattr(letter, key) or "", []).append(letter.queued_at)
    rows = [Backlog(k, len(v), _waited_s(now, min(v))) for k, v in groups.items()]
    return sorted(rows, key=lambda row: (-row.oldest_waiting_s, row.key))


# An intermediary with this share of one bundle's worth of letters waiting is close to what they
# can take: organisers look for another relative or lawyer before letters start to wait for them.
NEAR_CAPACITY = 0.8


def load(letters: int, capacity_per_bundle: int) -> float:
    """Letters waiting per bundle an intermediary takes: 1.0 is exactly one full bundle."""
    return round(letters / capacity_per_bundle, 3)


def oldest_waiting_s(letters: Iterable[WaitingLetter], now: datetime) -> float:
    queued = [letter.queued_at for letter in letters if letter.state in WAITING_STATES]
    return _waited_s(now, min(queued)) if queued else 0.0


DAY_S = 24 * 3600
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Movement:
    """When a letter reached the states that measure throughput (None: it has not)."""

    queued: datetime | None
    sent: datetime | None
    handed_over: datetime | None
    # When it was last put on hold; only the throughput over time counts it (throughput.py).
    held: datetime | None = None


def throughput(movements: Iterable[Movement], now: datetime) -> dict[str, dict[str, int]]:
    """Letters queued, sent and handed over in the last day and in the last week."""
    result = {window: {"queued": 0, "sent": 0, "handed_over": 0} for window in ("day", "week")}
    for movement in movements:
        for state in ("queued", "sent", "handed_over"):
            at = getattr(movement, state)
            if at is None:
                continue
            if now - at <= 7 * DAY:
                result["week"][state] += 1
            if now - at <= DAY:
                result["day"][state] += 1
    return result


def sent_per_day(movements: Iterable[Movement], now: datetime, days: int = 7) -> list[int]:
    """Letters sent on each of the last `days` days, oldest first (day = 24 h windows back from now)."""
    counts = [0] * days
    for movement in movements:
        if movement.sent is None:
            continue
        age_days = (now - movement.sent) // DAY
        if 0 <= age_days < days:
            counts[days - 1 - age_days] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# What an intermediary answers through their link
# ---------------------------------------------------------------------------------------------

# A reason is a line for the operators and the writer's receipt, typed on a phone: a sentence or two.
REASON_MAX_CHARS = 300


@dataclass(frozen=True)
class LinkAnswer:
    """One letter's outcome as the intermediary gave it. It stays theirs to undo until `undoable_until`;
    only then is the letter moved and the outcome announced, so nobody downstream ever hears of an
    answer that was taken back."""

    letter_id: str
    bundle_id: str
    outcome: str
    reason: str | None
    answered_at: datetime
    undoable_until: datetime
    final: bool = False

    def undoable(self, now: datetime) -> bool:
        return not self.final and now < self.undoable_until

    def due(self, now: datetime) -> bool:
        """The window has closed and the letter has not been moved for it yet."""
        return not self.final and now >= self.undoable_until


def answer_problem(outcome: str, reason: str | None) -> str | None:
    """Why an answer cannot be taken as it is (a key of the page's catalogue), or None."""
    if outcome not in OUTCOMES:
        return "unknown_outcome"
    if outcome != "handed_over" and not reason:
        return "reason_missing"
    if reason and len(reason) > REASON_MAX_CHARS:
        return "reason_too_long"
    return None


def letter_pages(pages: Iterable[int], bundle_pages: int) -> list[tuple[int, int]] | None:
    """Where each letter lies in the bundle's PDF (after its one-page cover), or None when the counts
    disagree with the file (then the page shows only the letters' numbers)."""
    ranges, first = [], 2
    for count in pages:
        ranges.append((first, first + count - 1))
        first += count
    return ranges if first - 1 == bundle_pages else None
