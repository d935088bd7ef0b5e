"""Figures an organiser presents: replies, prisoners reached, held and failed letters, durations, demo data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.intake.results import domain
from services.intake.results.domain import ReportFilter, humane_duration
from services.intake.results.report import build_report, demo_prisoners
from tests.unit.results.fakes import FakeResultsQueries, make_letter, make_reply, noon

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 1)
HOUR = 3600.0
FIRST_FAILURE = noon("2026-03-11")
DIRECTORY = [{"_id": f"p_{n}", "names": {"uk": f"В'язень {n}", "en": f"Prisoner {n}"}, "status": "detained"}
             for n in range(1, 5)] + [{"_id": "p_demo_01", "names": {"uk": "Демо", "en": "Demo"}, "status": "detained"}]


def campaign() -> FakeResultsQueries:
    letters = [make_letter(n, prisoner_id="p_1", status="handed_over") for n in range(1, 6)]  # p_1: 5 passed on
    letters += [make_letter(6, prisoner_id="p_2", status="answered"), make_letter(7, prisoner_id="p_2", status="answered"),
                make_letter(8, prisoner_id="p_2", status="answered"), make_letter(9, prisoner_id="p_2", status="answered")]
    letters += [make_letter(10, prisoner_id="p_3", status="rejected"),  # written to, never reached
                make_letter(11, prisoner_id="p_4", status="held", held_kind="no_route"),
                make_letter(12, prisoner_id="p_4", status="held", held_kind="prisoner_released"),
                make_letter(13, prisoner_id="p_4", status="held", held_kind="archived"),
                make_letter(14, prisoner_id="p_4", status="held"),  # held before delivery named a kind
                make_letter(15, prisoner_id="p_4", status="failed", failed_reason="mail server refused: 554",
                            failed_at=FIRST_FAILURE),
                make_letter(16, prisoner_id="p_4", status="failed", failed_reason="mail server refused: 554",
                            failed_at=FIRST_FAILURE + timedelta(hours=1)),
                make_letter(17, prisoner_id="p_4", status="queued", held_kind="no_route")]  # was held, now routed
    demo = [make_letter(90 + n, prisoner_id="p_demo_01", status="answered", writer_city="Demo City") for n in range(3)]
    by_id = {doc["_id"]: doc for doc in letters + demo}
    # One reply thanks for three letters; a second reply answers one of them again; one more answers the fourth.
    replies = [make_reply("r_thanks", by_id[f"l_{n}"]) for n in (6, 7, 8)]
    replies += [make_reply("r_again", by_id["l_6"]), make_reply("r_fourth", by_id["l_9"]),
                make_reply("r_demo", by_id["l_90"])]
    return FakeResultsQueries(letters + demo, DIRECTORY, [], replies)


async def report(**filters):
    return await build_report(campaign(), ReportFilter(**filters), today=TODAY,
                              now=FIRST_FAILURE + timedelta(hours=3))


async def test_a_reply_to_three_letters_counts_once_and_two_replies_to_one_letter_twice():
    got = await report()
    assert got.delivery.replies == got.totals.replies == 3
    assert got.delivery.answered == 4  # letters with at least one reply


async def test_prisoners_written_to_are_told_apart_from_prisoners_reached():
    got = (await report()).prisoners
    assert (got.written_to, got.reached, got.well_reached) == (4, 2, 1)
    assert got.written_to_well == 2  # p_1 with 5 letters, p_4 with 7


async def test_held_letters_are_broken_down_by_reason_and_failures_keep_theirs():
    got = (await report()).delivery
    assert got.held == 4
    assert got.held_by_reason == {"prisoner_released": 1, "prisoner_deceased": 0, "prisoner_moving": 0, "no_route": 1,
                                  "archived": 1,
                                  "unknown": 1}
    assert got.failed == 2 and got.failed_reasons == {"mail server refused: 554": 2}


async def test_failed_letters_show_that_delivery_is_stuck_and_for_how_long():
    stuck = (await report()).delivery.stuck
    assert stuck.stuck and stuck.failed_letters == 2
    assert stuck.failing_since == "3 hours" and stuck.failing_since_s == 3 * HOUR


async def test_the_demo_campaigns_prisoners_are_left_out_unless_asked_for():
    assert "p_demo_01" in demo_prisoners()
    without = await report()
    assert without.totals.letters == 17 and "Demo City" not in without.by_city
    assert "p_demo_01" not in {p.id for p in without.per_prisoner} and without.prisoners.in_directory == 4
    with_demo = await report(include_demo=True)
    assert with_demo.totals.letters == 20 and with_demo.by_city["Demo City"] == 3
    assert with_demo.delivery.replies == 4 and with_demo.prisoners.in_directory == 5
    assert with_demo.period["demo"] == "included"


async def test_the_public_summary_publishes_replies_not_answered_letters():
    summary = domain.public_summary(await report())
    assert summary.replies == "<5" and summary.prisoners_written_to == "<5" and summary.letters == 17


async def test_hand_over_times_are_in_minutes_hours_or_days():
    written = noon("2026-03-10")
    letters = [make_letter(1, status="handed_over", handed_over_at=written + timedelta(minutes=40)),
               make_letter(2, status="handed_over", handed_over_at=written + timedelta(minutes=50))]
    got = (await build_report(FakeResultsQueries(letters), ReportFilter(), today=TODAY)).delivery
    assert got.handover_median == "45 minutes" and got.handover_seconds_median == 45 * 60
    assert got.handover_days_median == 0.03


@pytest.mark.parametrize(("seconds", "text"), [
    (None, None), (0, "under a minute"), (59, "under a minute"), (60, "1 minute"), (45 * 60, "45 minutes"),
    (3599, "60 minutes"), (HOUR, "1 hour"), (5.5 * HOUR, "5.5 hours"), (47 * HOUR, "47 hours"),
    (48 * HOUR, "2 days"), (3.24 * 86400, "3.2 days"), (30 * 86400, "30 days"),
])
def test_durations_are_said_in_a_sensible_unit(seconds, text):
    assert humane_duration(seconds) == text


async def test_hand_over_time_runs_from_writing_not_from_receipt():
    # Written at an offline kiosk a day before it synced; handed over two days after it was written.
    letter = make_letter(1, status="handed_over", day="2026-03-11", written_day="2026-03-10",
                         handed_over_at=noon("2026-03-10") + timedelta(days=2))
    got = (await build_report(FakeResultsQueries([letter]), ReportFilter(), today=TODAY)).delivery
    assert got.handover_median == "2 days"


async def test_the_period_is_the_day_a_letter_was_written():
    synced_next_day = make_letter(1, day="2026-12-06", written_day="2026-12-05")
    got = await build_report(FakeResultsQueries([synced_next_day]),
                             ReportFilter(date(2026, 12, 5), date(2026, 12, 5)), today=TODAY)
    assert got.totals.letters == 1 and got.by_day == {"2026-12-05": 1}
