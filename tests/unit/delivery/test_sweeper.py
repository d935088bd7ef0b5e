"""Delivery's sweeper against in-memory ports: what a sender left behind is moved on once, the rest
reported; the reports of all services shown together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from prometheus_client import REGISTRY

from services.delivery import api_overdue, bundling, overdue_handlers, sweeper
from services.delivery.bundling import LEASE_S
from services.delivery.model import LONG_AGO
from shared.broker import letters_exchange
from shared.events import OVERDUE_REPORT_LIMIT, LetterDeliveryUpdated, OverdueLetter, OverdueReport
from shared.outbox import Unpublished
from tests.unit.delivery.factories import make_intermediary, make_prisoner
from tests.unit.delivery.fakes import make_delivery
from tests.unit.delivery.test_bundling import queue

pytestmark = pytest.mark.unit

DEADLINES = sweeper.Deadlines()


class MemoryReports:
    def __init__(self) -> None:
        self.kept: dict[str, OverdueReport] = {}

    async def keep(self, report: OverdueReport) -> bool:
        if report.service in self.kept and self.kept[report.service].checked_at >= report.checked_at:
            return False
        self.kept[report.service] = report
        return True

    async def latest(self) -> list[OverdueReport]:
        return list(self.kept.values())


class StuckEvents:
    def __init__(self, *events: Unpublished) -> None:
        self.events = list(events)

    async def unpublished(self, older_than_s: float, limit: int) -> list[Unpublished]:
        return self.events[:limit]


async def bundled(channel: str = "email", letters: tuple[str, ...] = ("l_1", "l_2")):
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner())
    await delivery.intermediaries.save(make_intermediary(channel=channel))
    await queue(delivery, *letters)
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    return delivery, bundle_id


def sweeping(delivery, *events: Unpublished) -> sweeper.SweepDeps:
    return sweeper.SweepDeps(delivery, StuckEvents(*events), MemoryReports(), DEADLINES)


def sent_events(delivery, letter_id: str) -> list[LetterDeliveryUpdated]:
    return [e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.letter_id == letter_id and e.state == "sent"]


def gauge(state: str) -> float | None:
    return REGISTRY.get_sample_value("delivery_overdue_letters", {"state": state})


async def test_letters_left_bundled_in_a_sent_bundle_are_moved_to_sent_once_with_one_event_each():
    delivery, bundle_id = await bundled()
    # The sender marked the bundle sent and stopped before moving its letters (a crash).
    await delivery.bundles.update(bundle_id, ["ready"], state="sent", sent_at=delivery.clock(), leased_until=LONG_AGO)
    delivery.clock.advance(LEASE_S + 1)
    healed_before = REGISTRY.get_sample_value("delivery_overdue_healed_total", {"state": "bundled"}) or 0.0
    deps = sweeping(delivery)

    first = await sweeper.sweep(deps)
    publishes = delivery.outbox.publishes
    await sweeper.sweep(deps)

    assert {letter.state for letter in await delivery.letters.in_bundle(bundle_id)} == {"sent"}
    assert [len(sent_events(delivery, letter_id)) for letter_id in ("l_1", "l_2")] == [1, 1]
    assert delivery.outbox.publishes == publishes, "the second sweep moved and announced nothing"
    assert REGISTRY.get_sample_value("delivery_overdue_healed_total", {"state": "bundled"}) - healed_before == 2
    assert first.overdue == [] and delivery.channels["email"].parcels == []
    assert deps.reports.kept["delivery"] == first


async def test_a_bundle_whose_sender_may_still_be_at_work_is_left_to_it():
    delivery, bundle_id = await bundled()
    await delivery.bundles.update(bundle_id, ["ready"], state="sent", sent_at=delivery.clock())

    await sweeper.sweep(sweeping(delivery))

    assert {letter.state for letter in await delivery.letters.in_bundle(bundle_id)} == {"bundled"}


async def test_a_manual_bundle_waiting_too_long_for_an_operator_is_reported_never_sent():
    delivery, bundle_id = await bundled(channel="manual")
    delivery.clock.advance(DEADLINES.unsent_s + 1)

    report = await sweeper.sweep(sweeping(delivery))

    assert [(e.letter_id, e.state) for e in report.overdue] == [("l_1", "bundled"), ("l_2", "bundled")]
    assert all(f"bundle {bundle_id} waits for an operator" in e.note for e in report.overdue)
    assert {letter.state for letter in await delivery.letters.in_bundle(bundle_id)} == {"bundled"}
    assert delivery.channels["manual"].parcels == []
    assert gauge("bundled") == 2


async def test_letters_left_in_a_failed_bundle_are_reported_for_the_bundle_to_be_requeued():
    delivery, bundle_id = await bundled()
    await delivery.bundles.update(bundle_id, ["ready"], state="failed", last_error="mailbox full")
    delivery.clock.advance(DEADLINES.unsent_s + 1)

    report = await sweeper.sweep(sweeping(delivery))

    assert {e.state for e in report.overdue} == {"bundled"}
    assert "failed (mailbox full): re-queue the bundle" in report.overdue[0].note
    assert {letter.state for letter in await delivery.letters.in_bundle(bundle_id)} == {"bundled"}


async def test_a_letter_queued_past_the_schedule_and_one_sent_but_never_confirmed_are_reported():
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner())
    await delivery.intermediaries.save(make_intermediary(capacity_per_bundle=1))
    await queue(delivery, "l_sent", "l_waiting")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    await delivery.letters.move("l_sent", "sent", ["bundled"], bundle_id=bundle_id)
    delivery.clock.advance(DEADLINES.unconfirmed_s + 1)

    report = await sweeper.sweep(sweeping(delivery))

    assert [(e.letter_id, e.state) for e in report.overdue] == [("l_waiting", "queued"), ("l_sent", "sent")]
    assert "ask the intermediary" in report.overdue[1].note
    assert report.counts == {"bundled": 0, "queued": 1, "sent": 1, "unannounced": 0}
    assert (gauge("queued"), gauge("sent"), gauge("unannounced")) == (1, 1, 0)


async def test_nothing_overdue_gives_an_empty_report_and_zero_gauges():
    delivery, _ = await bundled()

    report = await sweeper.sweep(sweeping(delivery))

    assert report.overdue == [] and report.service == "delivery"
    assert [gauge(state) for state in sweeper.STATES] == [0, 0, 0, 0]


async def test_an_event_the_relay_cannot_publish_is_reported():
    delivery = make_delivery()
    since = datetime(2026, 12, 1, tzinfo=UTC)
    stuck = Unpublished("e1", "letter.queued", {"letter_id": "l_1", "prisoner_id": "p_1"}, since)

    report = await sweeper.sweep(sweeping(delivery, stuck))

    assert [(e.letter_id, e.state, e.since) for e in report.overdue] == [("l_1", "unannounced", since)]


def entry(letter_id: str, minutes_ago: int, state: str = "queued") -> OverdueLetter:
    return OverdueLetter(letter_id=letter_id, state=state, since=datetime.now(UTC) - timedelta(minutes=minutes_ago))


def test_a_report_lists_the_longest_waiting_first_within_its_limit_and_counts_them_all():
    found = [entry(f"l_{n}", n) for n in range(OVERDUE_REPORT_LIMIT + 5)]

    report = OverdueReport.of("sorting", datetime.now(UTC), found)

    assert len(report.overdue) == OVERDUE_REPORT_LIMIT
    assert report.overdue[0].letter_id == f"l_{OVERDUE_REPORT_LIMIT + 4}"
    assert report.counts == {"queued": OVERDUE_REPORT_LIMIT + 5}


def test_the_monitor_shows_each_services_latest_report_by_service_name():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    reports = [OverdueReport.of("sorting", now, [entry("l_2", 5, "received")]),
               OverdueReport.of("delivery", now, []), OverdueReport.of("intake", now, [])]

    view = api_overdue.overdue_view(reports).model_dump(mode="json")

    assert [r["service"] for r in view["reports"]] == ["delivery", "intake", "sorting"]
    assert view["reports"][0] == {"service": "delivery", "checked_at": "2026-12-04T12:00:00Z", "overdue": []}
    (row,) = view["reports"][2]["overdue"]
    assert set(row) == {"letter_id", "state", "since", "note"} and row["letter_id"] == "l_2"


async def test_a_report_is_kept_only_from_the_service_its_routing_key_names():
    kept = MemoryReports()
    broker, exchange = RabbitBroker(), letters_exchange("unit")
    broker.include_router(overdue_handlers.build_overdue_router(
        overdue_handlers.overdue_queue("unit"), exchange, kept.keep))
    honest = OverdueReport.of("intake", datetime.now(UTC), [entry("l_1", 40, "received")])
    forged = OverdueReport.of("sorting", datetime.now(UTC), [])

    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(honest.model_dump(mode="json"), exchange=exchange,
                                  routing_key=OverdueReport.routing_key_of("intake"))
        # Intake's broker user may publish only intake's key: a body there naming sorting is refused.
        await test_broker.publish(forged.model_dump(mode="json"), exchange=exchange,
                                  routing_key=OverdueReport.routing_key_of("intake"))

    assert list(kept.kept) == ["intake"] and kept.kept["intake"].overdue == honest.overdue
