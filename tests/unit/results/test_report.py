"""The report assembled from grouped counts, its exports and charts, with an in-memory repository."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from services.intake.results import charts, domain
from services.intake.results.domain import ReportFilter
from services.intake.results.report import build_attention, build_report, report_csv, report_pdf
from tests.support import pdf_text, squash
from tests.unit.results.fakes import FakeResultsQueries, make_letter, noon

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 1)
DAY = timedelta(days=1)
WRITTEN = noon("2026-03-10")  # make_letter's day


def campaign() -> FakeResultsQueries:
    directory = [{"_id": "p_1", "names": {"uk": "Ремзі", "en": "Remzi"}, "status": "detained", "birthday": "1985-12-14",
                  "letters_received": 9},
                 {"_id": "p_2", "names": {"uk": "Сервер", "en": "Server"}, "status": "detained", "birthday": None},
                 {"_id": "p_3", "names": {"uk": "Нариман", "en": "Nariman"}, "status": "released"}]
    events = [{"_id": "e_kyiv", "name": "Book fair", "city": "Kyiv", "country": "UA", "starts_on": "2026-03-10"},
              {"_id": "e_empty", "name": "Quiet evening", "city": "Lviv", "country": "UA", "starts_on": "2026-04-01"}]
    letters = [
        make_letter(1, status="handed_over", moderation="auto", handed_over_at=WRITTEN + 2 * DAY),
        make_letter(2, status="answered", moderation="approved", finding_categories=["slogans", "symbols"],
                    handed_over_at=WRITTEN + 4 * DAY, channel="kiosk", campaign_event_id="e_kyiv"),
        make_letter(3, status="blocked", moderation="redacted", finding_categories=["slogans"],
                    blocked_reason="censor: content", channel="kiosk", campaign_event_id="e_kyiv", writer_city="kyiv"),
        make_letter(4, status="rejected", finding_categories=["case_details"], rejected_reason="x", writer_city=None,
                    page_keys=["pages/a.jpg"]),
        make_letter(5, status="held", moderation="auto", day="2026-05-02", writer_city="Berlin", writer_country="DE",
                    prisoner_id="p_3"),
        make_letter(6, status="handed_over", moderation="auto", day="2025-12-31",
                    handed_over_at=noon("2025-12-31") + DAY),
    ]
    return FakeResultsQueries(letters, directory, events)


async def test_every_figure_of_a_period_comes_from_the_letters_in_it():
    report = await build_report(campaign(), ReportFilter(date(2026, 1, 1), date(2026, 12, 31)), today=TODAY)
    assert report.totals.letters == 5
    assert report.by_day == {"2026-03-10": 4, "2026-05-02": 1}
    assert report.by_month == {"2026-03": 4, "2026-05": 1}
    assert report.by_channel == {"web": 2, "kiosk": 2, "paper": 1}
    assert [(e.id, e.letters) for e in report.by_event] == [("e_kyiv", 2)]
    assert report.letters_without_event == 3
    assert report.by_city == {"Kyiv": 3, "Berlin": 1} and report.letters_without_city == 1
    assert report.by_country == {"UA": 4, "DE": 1}
    assert report.moderation.auto_approved == 2 and report.moderation.rejected == 1
    assert report.moderation.top_finding_categories == {"slogans": 2, "case_details": 1, "symbols": 1}
    assert report.delivery.handed_over == 2 and report.delivery.answered == 1 and report.delivery.blocked == 1
    assert report.delivery.blocked_reasons == {"censor: content": 1}
    assert (report.delivery.handover_days_median, report.delivery.handover_days_p90) == (3.0, 3.8)
    assert report.prisoners.written_to == 2 and report.prisoners.reached == 1
    assert report.prisoners.held_without_letters == 1
    assert [p.id for p in report.per_prisoner] == ["p_2", "p_3", "p_1"]


async def test_an_event_filter_keeps_only_that_events_letters():
    report = await build_report(campaign(), ReportFilter(event_id="e_empty"), today=TODAY)
    assert report.totals.letters == 0 and [(e.id, e.letters) for e in report.by_event] == [("e_empty", 0)]
    report = await build_report(campaign(), ReportFilter(event_id="e_kyiv"), today=TODAY)
    assert report.totals.letters == 2 and report.by_channel["kiosk"] == 2


async def test_the_fair_attention_view_counts_only_the_recent_days():
    view = await build_attention(campaign(), today=date(2026, 5, 10), days=30, birthdays_within=10)
    assert [(p.id, p.recent_letters) for p in view.fewest_recent_letters] == [("p_2", 0), ("p_1", 0)]
    view = await build_attention(campaign(), today=date(2026, 12, 10), days=400, birthdays_within=10)
    assert [(p.id, p.recent_letters) for p in view.fewest_recent_letters] == [("p_2", 0), ("p_1", 5)]
    assert [b.id for b in view.upcoming_birthdays] == ["p_1"]


async def test_the_public_summary_names_no_one_and_hides_small_counts():
    report = await build_report(campaign(), ReportFilter(), today=TODAY)
    summary = domain.public_summary(report).model_dump_json()
    assert "<5" in summary and "Remzi" not in summary and "private" not in summary and "p_1" not in summary
    assert "Berlin" not in summary  # one letter: folded into "other"


async def test_the_csv_export_has_every_section_and_defuses_formulas():
    fake = campaign()
    fake.letters.append(make_letter(9, writer_city="=HYPERLINK(\"http://x\")"))
    rows = list(csv.reader(io.StringIO(report_csv(await build_report(fake, ReportFilter(), today=TODAY)))))
    assert rows[0] == ["section", "key", "value"]
    assert ["totals", "letters", "7"] in rows
    assert {r[0] for r in rows} >= {"by_day", "by_channel", "by_event", "by_city", "moderation", "delivery"}
    assert not any(cell.startswith("=") for row in rows for cell in row)


async def test_the_pdf_report_has_the_figures_the_charts_and_cyrillic_names():
    report = await build_report(campaign(), ReportFilter(date(2026, 1, 1), date(2026, 12, 31)), today=TODAY)
    pdf = report_pdf(report, charts.render_all(report))
    assert pdf.startswith(b"%PDF")
    text = squash(pdf_text(pdf))
    assert "Campaign results" in text and "Letters written 5" in text and "Ремзі" in text
    assert pdf.count(b"/Subtype /Image") >= 3


@pytest.mark.parametrize("name", charts.NAMES)
async def test_charts_are_pngs_also_for_an_empty_period(name):
    empty = await build_report(FakeResultsQueries([]), ReportFilter(date(2026, 1, 1), date(2026, 1, 31)), today=TODAY)
    full = await build_report(campaign(), ReportFilter(), today=TODAY)
    for report in (empty, full):
        assert charts.render(name, report).startswith(b"\x89PNG")
