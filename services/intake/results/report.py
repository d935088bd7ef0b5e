"""Use cases of the results: build the report, the fair-attention view, the public summary, the exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF

from services.intake.results import domain
from services.intake.results.domain import Report, ReportFilter
from services.intake.results.queries import ResultsQueries

Progress = Callable[[str], None]
# The steps a report takes, for a progress bar.
REPORT_STEPS = ("delays", "by_day", "typed", "events", "cities", "countries", "prisoners", "moderation",
                "statuses", "categories", "blocked", "returned", "handed_over", "directory", "event list",
                "percentiles")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = DEJAVU.with_name("DejaVuSans-Bold.ttf")


def letters_match(report_filter: ReportFilter, today: date, *, by_day: bool = False) -> dict[str, Any]:
    """The letters of the period (and event). A range serves the count by day, which walks the day index
    itself; every other count matches the period with a pattern (see domain.day_pattern)."""
    match: dict[str, Any] = {}
    bounds = report_filter.bounds(today)
    if bounds is not None:
        first, last = bounds
        match["submitted_day"] = ({"$gte": first.isoformat(), "$lte": last.isoformat()} if by_day
                                  else {"$regex": domain.day_pattern(first, last)})
    if report_filter.event_id:
        match["campaign_event_id"] = report_filter.event_id
    return match


async def _step(name: str, call: Awaitable, progress: Progress | None):
    value = await call
    if progress:
        progress(name)
    return value


async def build_report(queries: ResultsQueries, report_filter: ReportFilter, *, today: date,
                       progress: Progress | None = None) -> Report:
    """Every figure of the campaign's results for a period (and an event), each counted in MongoDB."""
    await _step("delays", queries.note_handover_delays(), progress)
    match = letters_match(report_filter, today)
    calls = {
        "by_day": queries.count_by("submitted_day", letters_match(report_filter, today, by_day=True)),
        "typed": queries.typed_by_channel(match),
        "events": queries.count_present("campaign_event_id", match),
        "cities": queries.count_by("writer_city", match),
        "countries": queries.count_by("writer_country", match),
        "prisoners": queries.count_by("prisoner_id", match),
        "moderation": queries.count_by("moderation", match),
        "statuses": queries.count_by("status", match),
        "categories": queries.by_category_combination(match),
        "blocked": queries.count_present("blocked_reason", match),
        "returned": queries.count_present("returned_reason", match),
        "handed_over": queries.handover_count(match),
        "directory": queries.prisoners(),
        "event list": queries.campaign_events(),
    }
    got = await queries.gather(**{name: _step(name, call, progress) for name, call in calls.items()})
    median, p90 = await _step("percentiles", _delay_percentiles(queries, match, got["handed_over"]), progress)
    return _assemble(report_filter, today, got, median, p90)


async def _delay_percentiles(queries: ResultsQueries, match: dict, count: int) -> tuple[float | None, float | None]:
    found = []
    for fraction in (0.5, 0.9):
        ranks = domain.percentile_ranks(count, fraction)
        if ranks is None:
            found.append(None)
            continue
        lower, weight = ranks
        values = await queries.handover_delays_at(match, lower, 2)
        found.append(round(domain.interpolate(values, weight) / 86400, 2) if values else None)
    return found[0], found[1]


def _assemble(report_filter: ReportFilter, today: date, got: dict, median: float | None, p90: float | None) -> Report:
    by_day = {day: n for day, n in sorted(got["by_day"].items()) if day}
    per_prisoner = {pid: n for pid, n in got["prisoners"].items() if pid}
    cities, countries = domain.merge_spellings(got["cities"]), domain.merge_spellings(got["countries"])
    events = _event_figures(got["event list"], got["events"], report_filter.event_id)
    directory = got["directory"]
    return Report(
        period=report_filter.describe(),
        generated_on=today.isoformat(),
        totals=domain.Totals(letters=sum(by_day.values()), prisoners_reached=len(per_prisoner),
                             events=sum(1 for e in events if e.letters), cities=len(cities), countries=len(countries)),
        by_day=by_day,
        by_week=domain.by_week(by_day),
        by_month=domain.by_month(by_day),
        by_channel=domain.channels(sum(by_day.values()), got["typed"]),
        by_event=events,
        letters_without_event=sum(by_day.values()) - sum(n for event, n in got["events"].items() if event),
        by_city=cities,
        letters_without_city=sum(n for city, n in got["cities"].items() if not (city or "").strip()),
        by_country=countries,
        by_status={status: n for status, n in sorted(got["statuses"].items()) if status},
        prisoners=domain.prisoner_figures(directory, per_prisoner),
        per_prisoner=domain.per_prisoner(directory, per_prisoner),
        moderation=domain.moderation_figures(got["moderation"], got["statuses"],
                                             domain.explode_categories(got["categories"])),
        delivery=domain.delivery_figures(
            got["statuses"],
            blocked_reasons=_reasons(got["blocked"]), returned_reasons=_reasons(got["returned"]),
            handover_days_median=median, handover_days_p90=p90,
        ),
    )


def _reasons(rows: dict) -> dict[str, int]:
    return dict(sorted(((r, n) for r, n in rows.items() if r), key=lambda item: (-item[1], item[0])))


def _event_figures(events: list[dict], letters: dict, chosen: str | None) -> list[domain.EventFigure]:
    known = {e["_id"]: e for e in events}
    figures = [
        domain.EventFigure(id=e["_id"], name=e.get("name", e["_id"]), city=e.get("city", ""),
                           country=e.get("country", ""), starts_on=str(e.get("starts_on", "")),
                           letters=letters.get(e["_id"], 0))
        for e in events if letters.get(e["_id"]) or e["_id"] == chosen
    ]
    # Letters of an event no longer in the list still count, under its id.
    figures += [domain.EventFigure(id=eid, name=eid, city="", country="", starts_on="", letters=n)
                for eid, n in letters.items() if eid and eid not in known]
    return sorted(figures, key=lambda e: (e.starts_on, e.id))


async def build_attention(queries: ResultsQueries, *, today: date, days: int, birthdays_within: int,
                          limit: int = 20) -> domain.Attention:
    first, last = domain.recent_period(today, days)
    got = await queries.gather(
        recent=queries.count_by("prisoner_id", {"submitted_day": {"$regex": domain.day_pattern(first, last)}}),
        directory=queries.prisoners(),
    )
    return domain.attention(got["directory"], got["recent"], today, days, birthdays_within, limit)


# --- Exports --------------------------------------------------------------------------------------

def report_rows(report: Report) -> list[tuple[str, str, Any]]:
    """The report as (section, key, value) rows: what the CSV export holds."""
    rows: list[tuple[str, str, Any]] = [("period", k, v or "") for k, v in report.period.items()]
    rows += [("totals", k, v) for k, v in report.totals.model_dump().items()]
    for section in ("by_month", "by_week", "by_day", "by_channel", "by_city", "by_country", "by_status"):
        rows += [(section, k, v) for k, v in getattr(report, section).items()]
    rows.append(("by_city", "(no city given)", report.letters_without_city))
    rows += [("by_event", f"{e.name} ({e.city}, {e.starts_on})", e.letters) for e in report.by_event]
    rows.append(("by_event", "(not at an event)", report.letters_without_event))
    for section, figures in (("prisoners", report.prisoners), ("moderation", report.moderation),
                             ("delivery", report.delivery)):
        for key, value in figures.model_dump().items():
            if isinstance(value, dict):
                rows += [(f"{section}.{key}", k, v) for k, v in value.items()]
            else:
                rows.append((section, key, "" if value is None else value))
    rows += [("per_prisoner", f"{p.name_en} ({p.id})", p.letters) for p in report.per_prisoner]
    return rows


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("section", "key", "value"))
    writer.writerows(tuple(_cell(value) for value in row) for row in report_rows(report))
    return out.getvalue()


def _cell(value: Any) -> Any:
    # Writers type their city: a value starting like a formula must not run in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _ReportPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.set_text_color(110)
        self.cell(0, 8, f"Letters to Free Crimea — campaign results — page {self.page_no()}", align="C")


def report_pdf(report: Report, charts: dict[str, bytes]) -> bytes:
    """A printable report: headline figures, tables and the charts, in a font that has Cyrillic."""
    pdf = _ReportPdf(format="A4")
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD if DEJAVU_BOLD.exists() else DEJAVU))
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, "Campaign results", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    period = report.period
    pdf.cell(0, 6, f"Period: {period['from'] or 'the start'} – {period['to'] or report.generated_on}"
             + (f" · event {period['event']}" if period.get("event") else "")
             + f" · generated {report.generated_on}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _table(pdf, "In short", [
        ("Letters written", report.totals.letters),
        ("Prisoners reached (≥1 letter)", report.prisoners.reached),
        (f"Prisoners with ≥{domain.WELL_REACHED} letters", report.prisoners.well_reached),
        ("Held prisoners without a letter", report.prisoners.held_without_letters),
        ("Median letters per held prisoner", _num(report.prisoners.median_letters_per_held_prisoner)),
        ("Campaign events", report.totals.events),
        ("Cities / countries", f"{report.totals.cities} / {report.totals.countries}"),
        ("Handed over to prisoners", report.delivery.handed_over),
        ("Blocked / returned by the censor", f"{report.delivery.blocked} / {report.delivery.returned}"),
        ("Replies received", report.delivery.answered),
        ("Days from writing to hand-over (median / 90%)",
         f"{_num(report.delivery.handover_days_median)} / {_num(report.delivery.handover_days_p90)}"),
    ])
    _chart(pdf, charts.get("letters-over-time"))
    _table(pdf, "By channel", list(report.by_channel.items()))
    _table(pdf, "By event", [(f"{e.name} — {e.city}, {e.country} ({e.starts_on})", e.letters) for e in report.by_event]
           + [("Not at an event", report.letters_without_event)])
    _chart(pdf, charts.get("cities"))
    _table(pdf, "By city (top 25)", list(report.by_city.items())[:25] + [("No city given", report.letters_without_city)])
    _table(pdf, "By country", list(report.by_country.items()))
    m = report.moderation
    _table(pdf, "Moderation", [("Auto-approved", m.auto_approved), ("Approved after review", m.approved_after_review),
                               ("Redacted", m.redacted), ("Rejected", m.rejected), ("Awaiting review", m.awaiting_review)]
           + [(f"Finding: {k}", v) for k, v in m.top_finding_categories.items()])
    d = report.delivery
    _table(pdf, "Delivery", [("In progress", d.in_progress), ("Sent", d.sent), ("Handed over", d.handed_over),
                             ("Blocked by the censor", d.blocked), ("Returned", d.returned), ("Held", d.held),
                             ("Failed", d.failed), ("Replies", d.answered)]
           + [(f"Blocked: {k}", v) for k, v in d.blocked_reasons.items()]
           + [(f"Returned: {k}", v) for k, v in d.returned_reasons.items()])
    _chart(pdf, charts.get("prisoners"))
    _table(pdf, "Prisoners with the fewest letters", [(f"{p.name_uk} / {p.name_en} ({p.status})", p.letters)
                                                      for p in report.per_prisoner[:30]])
    return bytes(pdf.output())


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _table(pdf: FPDF, title: str, rows: list[tuple[Any, Any]]) -> None:
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    width = pdf.epw
    for label, value in rows:
        pdf.cell(width * 0.78, 5.5, str(label)[:110], border="B")
        pdf.cell(width * 0.22, 5.5, str(value), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _chart(pdf: FPDF, png: bytes | None) -> None:
    if not png:
        return
    if pdf.will_page_break(75):
        pdf.add_page()
    pdf.image(io.BytesIO(png), w=pdf.epw)
    pdf.ln(2)
