"""What operators watch: the whole outgoing queue in one snapshot, the bundles awaiting confirmation, and the
gauges behind /metrics."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from services.delivery import metrics
from services.delivery.context import Delivery
from services.delivery.domain import (
    NEAR_CAPACITY,
    backlog_by,
    load,
    oldest_waiting_s,
    release_problem,
    sent_per_day,
    throughput,
)
from services.delivery.model import Bundle, OutgoingLetter, Prisoner, ReleaseRecipient
from services.delivery.throughput import SPANS, ThroughputOverTime, ThroughputRange, over_time, window
from services.delivery.translation_backlog import TranslationBacklog, backlog

LIST_LIMIT = 200
# Held letters read for the kept panel: enough that a recent release is not hidden behind older
# holds; each prisoner's row lists at most KEPT_LISTED of them and counts the rest.
KEPT_LIMIT = 2000
KEPT_LISTED = 20


class IntermediaryBacklog(BaseModel):
    intermediary_id: str
    name: str
    prisoner_id: str
    channel: str
    active: bool
    letters: int = Field(description="Letters not yet sent: queued, bundled or failed")
    oldest_waiting_s: float
    capacity_per_bundle: int | None = Field(None, description="Most letters they take in one bundle")
    load: float | None = Field(None, description="Letters waiting per bundle they take: 1.0 is one full bundle")


class PrisonerBacklog(BaseModel):
    prisoner_id: str
    name_ru: str
    status: str
    letters: int
    oldest_waiting_s: float
    review_reason: str | None = None


class BundleRow(BaseModel):
    bundle_id: str
    intermediary_id: str
    intermediary_name: str
    prisoner_id: str
    prisoner_name_ru: str
    channel: str
    state: str
    letters: int
    pages: int
    bytes: int
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str | None = None


class HeldLetter(BaseModel):
    letter_id: str
    prisoner_id: str
    prisoner_name_ru: str
    hold_kind: str | None
    reason: str | None
    held_since: datetime


class KeptForPrisoner(BaseModel):
    """The held letters of one prisoner, and whom a hand-over on release may give them to now."""

    prisoner_id: str
    name_ru: str
    status: str
    count: int = Field(description="How many letters are kept for them (held, not archived)")
    letters: list[HeldLetter] = Field(description=f"The oldest of them, at most {KEPT_LISTED}")
    recipients: list[ReleaseRecipient] = Field(
        description="Whom `release-hand-over` accepts now: person and family after a release, only family after "
                    "a death, nobody while the prisoner can still receive letters")
    hand_over_problem: str | None = Field(None, description="Why nobody can be handed these letters now")


class Throughput(BaseModel):
    day: dict[str, int]
    week: dict[str, int]
    sent_per_day: list[int] = Field(description="Letters sent on each of the last 7 days, oldest first")


class PrisonerToReview(BaseModel):
    prisoner_id: str
    name_ru: str
    status: str
    review_reason: str


class MonitorView(BaseModel):
    generated_at: datetime
    counts: dict[str, int] = Field(description="Letters by delivery state")
    oldest_waiting_s: float
    by_intermediary: list[IntermediaryBacklog]
    near_capacity: list[IntermediaryBacklog] = Field(
        description=f"Intermediaries with at least {NEAR_CAPACITY:.0%} of a bundle's worth of letters waiting, "
                    "fullest first")
    by_prisoner: list[PrisonerBacklog]
    bundles_ready: list[BundleRow]
    failures: list[BundleRow]
    held: list[HeldLetter]
    kept: list[KeptForPrisoner] = Field(
        default_factory=list, description="The held letters grouped by prisoner, for the hand-over on release")
    to_review: list[PrisonerToReview]
    throughput: Throughput
    translation: TranslationBacklog | None = Field(
        None, description="Letters waiting for a volunteer translator before they can reach delivery")


async def snapshot(delivery: Delivery) -> MonitorView:
    now = delivery.clock()
    waiting = await delivery.letters.waiting_letters()
    people = {person.id: person for person in await delivery.intermediaries.all()}
    prisoners = {prisoner.id: prisoner for prisoner in await delivery.prisoners.all()}
    movements = await delivery.letters.movements_since(now - timedelta(days=7))

    def name_of(prisoner_id: str) -> str:
        return prisoners[prisoner_id].name_ru if prisoner_id in prisoners else ""

    def bundle_row(bundle: Bundle) -> BundleRow:
        person = people.get(bundle.intermediary_id)
        return BundleRow(
            bundle_id=bundle.id, intermediary_id=bundle.intermediary_id, intermediary_name=person.name if person else "",
            prisoner_id=bundle.prisoner_id, prisoner_name_ru=name_of(bundle.prisoner_id), channel=bundle.channel,
            state=bundle.state, letters=len(bundle.letter_ids), pages=bundle.pages, bytes=bundle.pdf_bytes,
            created_at=bundle.created_at, attempts=bundle.attempts,
            next_attempt_at=bundle.next_attempt_at if bundle.state == "ready" else None,
            last_error=bundle.last_error)

    def held_row(letter: OutgoingLetter) -> HeldLetter:
        return HeldLetter(letter_id=letter.id, prisoner_id=letter.prisoner_id,
                          prisoner_name_ru=name_of(letter.prisoner_id), hold_kind=letter.hold_kind,
                          reason=letter.reason, held_since=letter.changed_at)

    def intermediary_row(row) -> IntermediaryBacklog:
        person = people.get(row.key)
        return IntermediaryBacklog(
            intermediary_id=row.key, name=person.name if person else "",
            prisoner_id=person.prisoner_id if person else "",
            channel=person.channel if person else "", active=bool(person and person.active), letters=row.letters,
            oldest_waiting_s=row.oldest_waiting_s, capacity_per_bundle=person.capacity_per_bundle if person else None,
            load=load(row.letters, person.capacity_per_bundle) if person else None)

    by_intermediary = [intermediary_row(row) for row in backlog_by(waiting, "intermediary_id", now)]
    held = [held_row(letter) for letter in await delivery.letters.held(KEPT_LIMIT)]

    def prisoner_row(row) -> PrisonerBacklog:
        prisoner = prisoners.get(row.key)
        return PrisonerBacklog(
            prisoner_id=row.key, name_ru=prisoner.name_ru if prisoner else "",
            status=prisoner.status if prisoner else "unknown", letters=row.letters,
            oldest_waiting_s=row.oldest_waiting_s, review_reason=prisoner.review_reason if prisoner else None)

    return MonitorView(
        generated_at=now,
        counts=await delivery.letters.counts(),
        oldest_waiting_s=oldest_waiting_s(waiting, now),
        by_intermediary=by_intermediary,
        near_capacity=sorted((row for row in by_intermediary if row.load is not None and row.load >= NEAR_CAPACITY),
                             key=lambda row: (-row.load, row.intermediary_id)),
        by_prisoner=[prisoner_row(row) for row in backlog_by(waiting, "prisoner_id", now)],
        bundles_ready=[bundle_row(b) for b in await delivery.bundles.listing(["ready"], LIST_LIMIT)],
        failures=[bundle_row(b) for b in await delivery.bundles.listing(["failed"], LIST_LIMIT)],
        held=held[:LIST_LIMIT],
        kept=kept_by_prisoner(held, prisoners),
        to_review=[PrisonerToReview(prisoner_id=p.id, name_ru=p.name_ru, status=p.status, review_reason=p.review_reason)
                   for p in prisoners.values() if p.review_reason],
        throughput=Throughput(**throughput(movements, now), sent_per_day=sent_per_day(movements, now)),
        translation=backlog(await delivery.translation_waits.waiting(), now) if delivery.translation_waits else None,
    )


def kept_by_prisoner(held: list[HeldLetter], prisoners: dict[str, Prisoner]) -> list[KeptForPrisoner]:
    """Held letters by prisoner, in the order of each prisoner's oldest, with whom they may be handed to.

    Whether a hand-over is allowed is release.py's rule (`release_problem`), asked here so the page
    offers only what the API would accept."""
    groups: dict[str, list[HeldLetter]] = {}
    for letter in held:
        groups.setdefault(letter.prisoner_id, []).append(letter)
    kept = []
    for prisoner_id, letters in groups.items():
        prisoner = prisoners.get(prisoner_id)
        recipients: list[ReleaseRecipient] = [r for r in ("person", "family") if not release_problem(prisoner, r)]
        kept.append(KeptForPrisoner(
            prisoner_id=prisoner_id, name_ru=prisoner.name_ru if prisoner else "",
            status=prisoner.status if prisoner else "unknown", count=len(letters), letters=letters[:KEPT_LISTED],
            recipients=recipients,
            hand_over_problem=None if recipients else release_problem(prisoner, "family")))
    return kept


class AwaitingBundle(BaseModel):
    """A bundle sent to an intermediary whose letters, some or all, have no outcome yet."""

    bundle_id: str
    intermediary_id: str | None
    intermediary_name: str
    prisoner_id: str
    prisoner_name_ru: str
    channel: str
    letters: int = Field(description="Letters in the bundle")
    letters_out: int = Field(description="Letters still out (sent): neither handed over, returned nor blocked")
    sent_at: datetime | None
    sent_ago_s: float = Field(description="Seconds since it was sent")


async def awaiting_confirmation(delivery: Delivery, limit: int = LIST_LIMIT) -> list[AwaitingBundle]:
    """Bundles sent and not (fully) confirmed, longest out first.

    Sent letters are found per prisoner (indexed by prisoner and state), since a bundle stays `sent`
    once answered and the bundles alone cannot tell. Prisoners are those delivery knows and those
    an intermediary writes to: a letter only goes out through one."""
    now = delivery.clock()
    people = {person.id: person for person in await delivery.intermediaries.all()}
    prisoners = {prisoner.id: prisoner for prisoner in await delivery.prisoners.all()}
    out: dict[str, int] = {}
    for prisoner_id in sorted(set(prisoners) | {person.prisoner_id for person in people.values()}):
        for letter in await delivery.letters.of_prisoner(prisoner_id, ("sent",)):
            if letter.bundle_id:
                out[letter.bundle_id] = out.get(letter.bundle_id, 0) + 1
    rows = []
    for bundle_id, letters_out in out.items():
        bundle = await delivery.bundles.get(bundle_id)
        if bundle is None or bundle.state != "sent":
            continue
        person = people.get(bundle.intermediary_id or "")
        prisoner = prisoners.get(bundle.prisoner_id)
        sent = bundle.sent_at or bundle.created_at
        rows.append(AwaitingBundle(
            bundle_id=bundle.id, intermediary_id=bundle.intermediary_id, intermediary_name=person.name if person else "",
            prisoner_id=bundle.prisoner_id, prisoner_name_ru=prisoner.name_ru if prisoner else "",
            channel=bundle.channel, letters=len(bundle.letter_ids), letters_out=letters_out, sent_at=sent,
            sent_ago_s=max(0.0, (now - sent).total_seconds())))
    return sorted(rows, key=lambda row: (-row.sent_ago_s, row.bundle_id))[:limit]


async def throughput_over_time(delivery: Delivery, range_: ThroughputRange) -> ThroughputOverTime:
    """Letters per UTC hour (48 h) or day (30 days) by the step they reached: the letters that moved since
    the window began, read by indexed ranges of their times, bucketed in throughput.py."""
    now = delivery.clock()
    start, _ = window(now, SPANS[range_])
    return over_time(await delivery.letters.movements_since(start), now, range_)


async def refresh_gauges(delivery: Delivery) -> None:
    """Queue depth by state and the oldest wait, for Prometheus (and KEDA, alerts)."""
    for state, count in (await delivery.letters.counts()).items():
        metrics.LETTERS.labels(state).set(count)
    metrics.OLDEST_WAITING.set(oldest_waiting_s(await delivery.letters.waiting_letters(), delivery.clock()))
    for state in ("building", "ready", "failed"):
        metrics.BUNDLES.labels(state).set(len(await delivery.bundles.listing([state], 10_000)))
