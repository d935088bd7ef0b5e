"""The results' arithmetic: periods, roll-ups, percentiles, outcomes, fair attention, suppression."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.intake.results import domain
from services.intake.results.domain import ReportFilter

pytestmark = pytest.mark.unit


def days_between(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@pytest.mark.parametrize(("first", "last"), [
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2026, 3, 15), date(2026, 3, 15)),
    (date(2026, 2, 27), date(2026, 3, 2)),
    (date(2025, 12, 30), date(2027, 1, 2)),
    (date(2024, 2, 1), date(2024, 2, 29)),
])
def test_the_period_holds_exactly_the_times_of_its_days(first, last):
    start, end = domain.period_times(first, last)
    window = days_between(date(2023, 12, 1), date(2028, 2, 1))
    for moment in (time.min, time(12), time.max):
        times = [datetime.combine(date.fromisoformat(day), moment, UTC) for day in window]
        assert [t.date().isoformat() for t in times if start <= t < end] == days_between(first, last)


def test_a_period_ending_before_it_starts_holds_no_time():
    start, end = domain.period_times(date(2026, 2, 1), date(2026, 1, 1))
    assert start == end


def test_an_open_period_starts_early_and_ends_today():
    assert ReportFilter(date_to=date(2026, 5, 1)).bounds(date(2026, 6, 1)) == (domain.EARLIEST, date(2026, 5, 1))
    assert ReportFilter(date_from=date(2026, 5, 1)).bounds(date(2026, 6, 1)) == (date(2026, 5, 1), date(2026, 6, 1))
    assert ReportFilter().bounds(date(2026, 6, 1)) is None


def test_weeks_and_months_are_rolled_up_from_days_with_iso_weeks():
    by_day = {"2025-12-29": 1, "2026-01-01": 2, "2026-01-05": 3, "2026-02-01": 4}
    assert domain.by_week(by_day) == {"2026-W01": 3, "2026-W02": 3, "2026-W05": 4}
    assert domain.by_month(by_day) == {"2025-12": 1, "2026-01": 5, "2026-02": 4}


@pytest.mark.parametrize(("values", "fraction", "expected"), [
    ([5.0], 0.5, 5.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5), ([1.0, 2.0, 3.0], 0.5, 2.0),
    ([float(n) for n in range(1, 11)], 0.9, 9.1),
])
def test_percentiles_interpolate_between_the_closest_ranks(values, fraction, expected):
    lower, weight = domain.percentile_ranks(len(values), fraction)
    assert domain.interpolate(values[lower:lower + 2], weight) == pytest.approx(expected)


def test_no_values_have_no_percentile_and_no_median():
    assert domain.percentile_ranks(0, 0.5) is None
    assert domain.median([]) is None
    assert domain.median([0, 0, 7, 1]) == 0.5


def test_photographed_letters_count_as_paper_whichever_channel_brought_them():
    assert domain.channels(16, {"web": 8, "kiosk": 5}) == {"web": 8, "kiosk": 5, "paper": 3}
    assert domain.channels(2, {}) == {"web": 0, "kiosk": 0, "paper": 2}


def test_categories_are_counted_once_per_letter_and_most_frequent_first():
    combos = {("slogans", "symbols"): 3, ("slogans",): 2, ("case_details",): 4}
    assert domain.explode_categories(combos) == {"slogans": 5, "case_details": 4, "symbols": 3}
    assert list(domain.explode_categories(combos)) == ["slogans", "case_details", "symbols"]


def test_spellings_of_one_place_are_merged_under_the_most_frequent_one():
    merged = domain.merge_spellings({"Kyiv": 5, "kyiv ": 1, " KYIV": 1, "Lviv": 3, None: 9, "  ": 2})
    assert merged == {"Kyiv": 7, "Lviv": 3}


def test_delivery_outcomes_follow_each_letters_furthest_status():
    figures = domain.delivery_figures(
        {"ready": 1, "queued": 2, "bundled": 1, "sent": 3, "handed_over": 10, "answered": 2, "blocked": 4,
         "returned": 1, "held": 2, "failed": 1, "rejected": 5},
        blocked_reasons={}, returned_reasons={}, handover_days_median=None, handover_days_p90=None)
    assert (figures.in_progress, figures.sent, figures.handed_over, figures.answered) == (4, 20, 12, 2)
    assert (figures.blocked, figures.returned, figures.held, figures.failed) == (4, 1, 2, 1)


def test_moderation_outcomes_and_the_top_categories():
    figures = domain.moderation_figures({"auto": 7, "approved": 2, "redacted": 1, None: 4},
                                        {"rejected": 3, "review_needed": 1}, {"a": 3, "b": 2, "c": 1}, top=2)
    assert (figures.auto_approved, figures.approved_after_review, figures.redacted) == (7, 2, 1)
    assert (figures.rejected, figures.awaiting_review) == (3, 1)
    assert figures.top_finding_categories == {"a": 3, "b": 2}


def prisoner(pid: str, status: str = "detained", birthday: str | None = None, received: int = 0) -> dict:
    return {"_id": pid, "names": {"uk": f"В'язень {pid}", "en": f"Prisoner {pid}", "ru": pid}, "status": status,
            "birthday": birthday, "letters_received": received, "notes": "private"}


def test_prisoners_written_to_reached_well_reached_and_held_without_letters():
    directory = [prisoner("a"), prisoner("b"), prisoner("c"), prisoner("d", "released"), prisoner("e")]
    figures = domain.prisoner_figures(directory, {"a": 7, "b": 1, "d": 2}, passed_on={"a": 5, "d": 1})
    assert (figures.in_directory, figures.held, figures.written_to, figures.written_to_well) == (5, 4, 3, 1)
    assert (figures.reached, figures.well_reached) == (2, 1)
    assert figures.held_without_letters == 2
    assert figures.median_letters_per_held_prisoner == 0.5
    assert figures.histogram["0"] == 2 and figures.histogram["1"] == 1 and figures.histogram["5–9"] == 1


def test_the_histogram_puts_every_prisoner_in_exactly_one_bin():
    counts = [0, 1, 2, 4, 5, 9, 10, 19, 20, 49, 50, 500]
    assert sum(domain.histogram(counts).values()) == len(counts)
    assert domain.histogram(counts) == {"0": 1, "1": 1, "2–4": 2, "5–9": 2, "10–19": 2, "20–49": 2, "50+": 2}


def test_fair_attention_lists_held_prisoners_with_the_fewest_recent_letters_first():
    directory = [prisoner("a", received=50), prisoner("b", received=3), prisoner("c", received=9),
                 prisoner("d", "released")]
    view = domain.attention(directory, {"a": 4, "c": 0, "b": 1}, date(2026, 6, 1), 30, 30, limit=2)
    assert [p.id for p in view.fewest_recent_letters] == ["c", "b"]
    assert view.fewest_recent_letters[0].recent_letters == 0


def test_coming_birthdays_within_the_window_also_across_new_year_and_on_29_february():
    directory = [prisoner("a", birthday="1985-06-10"), prisoner("b", birthday="1979-01-03"),
                 prisoner("c", birthday="1988-02-29"), prisoner("d", birthday="1980-08-01"),
                 prisoner("e", "released", birthday="1985-06-02")]
    view = domain.attention(directory, {}, date(2026, 12, 20), 30, 20)
    assert [(b.id, b.on) for b in view.upcoming_birthdays] == [("b", "2027-01-03")]
    view = domain.attention(directory, {}, date(2027, 2, 20), 30, 20)
    assert [(b.id, b.on, b.in_days) for b in view.upcoming_birthdays] == [("c", "2027-02-28", 8)]
    view = domain.attention(directory, {}, date(2026, 6, 1), 30, 10)
    assert [b.id for b in view.upcoming_birthdays] == ["a"]


def test_public_counts_below_five_are_suppressed_and_small_places_folded():
    assert [domain.suppress(n) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]
    places = domain.fold_small({"Kyiv": 40, "Lviv": 5, "Herceg Novi": 2, "Vilnius": 1})
    assert [(p.name, p.letters) for p in places] == [("Kyiv", 40), ("Lviv", 5), ("other", "<5")]
    places = domain.fold_small({"Kyiv": 40, "A": 3, "B": 4})
    assert [(p.name, p.letters) for p in places] == [("Kyiv", 40), ("other", 7)]
