"""The monitor's throughput over time: letters per UTC hour over 48 hours, or per UTC day over 30 days, by
the step they reached; every bucket listed, empty ones too; the newest one holds the present moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery import monitor
from services.delivery.domain import DAY_S, Movement
from services.delivery.throughput import SPANS, over_time, window
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

# 2026-12-04 14:25:00 UTC
NOW = datetime(2026, 12, 4, 14, 25, tzinfo=UTC)
THIS_HOUR = datetime(2026, 12, 4, 14, tzinfo=UTC)
TODAY = datetime(2026, 12, 4, tzinfo=UTC)
SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)


def arrived(at: datetime, **steps: datetime) -> Movement:
    return Movement(queued=at, sent=steps.get("sent"), handed_over=steps.get("handed_over"), held=steps.get("held"))


def test_48_hours_are_48_whole_utc_hours_the_newest_holding_now():
    result = over_time([], NOW, "48h")
    assert (result.bucket, result.bucket_s, len(result.buckets)) == ("hour", 3600, 48)
    assert result.buckets[-1].start == datetime(2026, 12, 4, 14, tzinfo=UTC)
    assert result.buckets[0].start == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert (result.start, result.end) == (result.buckets[0].start, datetime(2026, 12, 4, 15, tzinfo=UTC))
    assert all(b.start.minute == 0 and b.start.second == 0 for b in result.buckets)


def test_30_days_are_30_utc_days_from_midnight_the_newest_being_today():
    result = over_time([], NOW, "30d")
    assert (result.bucket, result.bucket_s, len(result.buckets)) == ("day", DAY_S, 30)
    assert result.buckets[-1].start == datetime(2026, 12, 4, tzinfo=UTC)
    assert result.buckets[0].start == datetime(2026, 11, 5, tzinfo=UTC)
    assert [b.start.hour for b in result.buckets] == [0] * 30


def test_empty_buckets_are_listed_with_zeros():
    result = over_time([arrived(THIS_HOUR + 60 * SECOND)], NOW, "48h")
    assert [b.queued for b in result.buckets] == [0] * 47 + [1]
    assert all((b.sent, b.handed_over, b.held) == (0, 0, 0) for b in result.buckets)


def test_each_step_counts_in_the_bucket_of_its_own_time():
    letter = arrived(THIS_HOUR - 5 * HOUR + 10 * SECOND, sent=THIS_HOUR - 2 * HOUR, handed_over=THIS_HOUR + SECOND)
    stranded = arrived(THIS_HOUR - 2 * HOUR + 59 * SECOND, held=THIS_HOUR - 2 * HOUR + 59 * SECOND)
    result = over_time([letter, stranded], NOW, "48h")
    by_hour = {b.start.hour: (b.queued, b.sent, b.handed_over, b.held) for b in result.buckets if b.start.day == 4}
    assert by_hour[9] == (1, 0, 0, 0)
    assert by_hour[12] == (1, 1, 0, 1)
    assert by_hour[14] == (0, 0, 1, 0)
    assert result.totals.model_dump() == {"queued": 2, "sent": 1, "handed_over": 1, "held": 1}


def test_a_bucket_includes_its_first_second_and_not_the_next_hours():
    result = over_time([arrived(THIS_HOUR - HOUR), arrived(THIS_HOUR - timedelta(milliseconds=1))], NOW, "48h")
    assert [b.queued for b in result.buckets[-2:]] == [2, 0]


def test_times_before_the_window_or_after_the_present_bucket_are_not_counted():
    start, end = window(NOW, SPANS["48h"])
    movements = [arrived(start - SECOND), arrived(start), arrived(end - SECOND), arrived(end), arrived(end + DAY)]
    assert over_time(movements, NOW, "48h").totals.queued == 2


def test_days_are_utc_days_a_letter_at_23_59_and_one_at_midnight_fall_apart():
    result = over_time([arrived(TODAY - 60 * SECOND), arrived(TODAY), arrived(TODAY + 14 * HOUR)], NOW, "30d")
    assert [b.queued for b in result.buckets[-3:]] == [0, 1, 2]
    assert result.buckets[0].start == TODAY - 29 * DAY


def test_letters_of_31_days_ago_are_outside_the_30_days():
    result = over_time([arrived(TODAY - 30 * DAY + SECOND, sent=TODAY - 29 * DAY)], NOW, "30d")
    assert (result.totals.queued, result.totals.sent) == (0, 1)
    assert result.buckets[0].sent == 1


def test_at_the_exact_start_of_an_hour_the_newest_bucket_is_that_hour():
    start, end = window(THIS_HOUR, SPANS["48h"])
    assert (end - THIS_HOUR, THIS_HOUR - start) == (HOUR, 47 * HOUR)


async def test_the_use_case_reads_the_letters_moved_since_the_window_began():
    delivery = make_delivery()
    seen: list[datetime] = []

    async def movements_since(since: datetime) -> list[Movement]:
        seen.append(since)
        return [arrived(delivery.clock() - 3 * DAY), arrived(delivery.clock())]

    delivery.letters.movements_since = movements_since  # type: ignore[method-assign]
    result = await monitor.throughput_over_time(delivery, "30d")
    assert seen == [result.start]
    assert (result.totals.queued, result.buckets[-1].queued, result.buckets[-4].queued) == (2, 1, 1)
