"""Use cases of the results: build the report, the fair-attention view, the public summary, the exports."""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fpdf import FPDF

from services.intake.results import domain, places
from services.intake.results.domain import Report, ReportFilter
from services.intake.results.queries import DAY, PERIOD, ResultsQueries
from services.intake.results.texts import Texts
from shared.demo import demo_campaign
from shared.events import utc_now

Progress = Callable[[str], None]
# The steps a report takes, for a progress bar.
REPORT_STEPS = ("delays", "by_day", "typed", "events", "places", "prisoners", "passed on", "moderation",
                "statuses", "categories", "blocked", "returned", "failed", "held", "replies", "stuck",
                "handed_over", "directory", "event list", "percentiles")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = DEJAVU.with_name("DejaVuSans-Bold.ttf")


def demo_prisoners() -> list[str]:
    """The demo campaign's fictional prisoners, as shared/demo_campaign.yaml lists them."""
    return sorted(str(p["id"]) for p in demo_campaign().get("prisoners") or ())


def period_match(first: date, last: date, *, as_days: bool = False) -> dict[str, Any]:
    """The days from `first` to `last`: a range of the time a letter counts at (see queries.py), or for
    replies, which keep only their letter's written day, the same days as a range of `written_day`."""
    if as_days:
        return {DAY: {"$gte": first.isoformat(), "$lte": last.isoformat()}}
    start, end = domain.period_times(first, last)
    return {PERIOD: {"$gte": start, "$lt": end}}


def letters_match(report_filter: ReportFilter, today: date, *, as_days: bool = False) -> dict[str, Any]:
    """The letters (or with `as_days` the replies) of the period and event."""
    match: dict[str, Any] = {}
    bounds = report_filter.bounds(today)
    if bounds is not None:
        match.update(period_match(*bounds, as_days=as_days))
    if report_filter.event_id:
        match["campaign_event_id"] = report_filter.event_id
    if not report_filter.include_demo:
        match["prisoner_id"] = {"$nin": demo_prisoners()}
    return match


async def _step(name: str, call: Awaitable, progress: Progress | None):
    value = await call
    if progress:
        progress(name)
    return value


async def build_report(queries: ResultsQueries, report_filter: ReportFilter, *, today: date,
                       progress: Progress | None = None, now: datetime | None = None) -> Report:
    """Every figure of the campaign's results for a period (and an event), each counted in MongoDB."""
    await _step("delays", queries.note_handover_delays(), progress)
    chosen = report_filter
    if not chosen.include_demo and not await _has_demo_letters(queries):
        # No demo letter to leave out: the plain matches keep every count on its index.
        chosen = dataclasses.replace(chosen, include_demo=True)
    match = letters_match(chosen, today)
    calls = {
        "by_day": queries.count_by(DAY, match),
        "typed": queries.typed_by_channel(match),
        "events": queries.count_present("campaign_event_id", match),
        "places": queries.count_by("place", match),
        "prisoners": queries.count_by("prisoner_id", match),
        "passed on": queries.count_present("reached_prisoner", match),
        "moderation": queries.count_by("moderation", match),
        "statuses": queries.count_by("status", match),
        "categories": queries.by_category_combination(match),
        "blocked": queries.count_present("blocked_reason", {**match, "status": "blocked"}),
        "returned": queries.count_present("returned_reason", {**match, "status": "returned"}),
        "failed": queries.count_present("failed_reason", {**match, "status": "failed"}),
        "held": queries.count_present("held_kind", {**match, "status": "held"}),
        "replies": queries.distinct_replies(letters_match(chosen, today, as_days=True)),
        "stuck": queries.oldest_failure(match),
        "handed_over": queries.handover_count(match),
        "directory": queries.prisoners(),
        "event list": queries.campaign_events(),
    }
    got = await queries.gather(**{name: _step(name, call, progress) for name, call in calls.items()})
    median, p90 = await _step("percentiles", _delay_percentiles(queries, match, got["handed_over"]), progress)
    got["directory"] = _without_demo(got["directory"], report_filter)
    return _assemble(report_filter, today, got, median, p90, now or utc_now())


async def _has_demo_letters(queries: ResultsQueries) -> bool:
    """Whether the demo's prisoners have any letter. Only then do the counts carry `prisoner_id: {$nin: …}`,
    which costs nx-27017 its index-only scans (a campaign run for real has none)."""
    return await queries.any_letter_to(demo_prisoners())


def _without_demo(directory: list[dict], report_filter: ReportFilter) -> list[dict]:
    if report_filter.include_demo:
        return directory
    demo = set(demo_prisoners())
    return [p for p in directory if p["_id"] not in demo]


async def _delay_percentiles(queries: ResultsQueries, match: dict, count: int) -> tuple[float | None, float | None]:
    found = []
    for fraction in (0.5, 0.9):
        ranks = domain.percentile_ranks(count, fraction)
        if ranks is None:
            found.append(None)
            continue
        lower, weight = ranks
        values = await queries.handover_delays_at(match, lower, 2)
        found.append(domain.interpolate(values, weight) if values else None)
    return found[0], found[1]


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 2)


def _assemble(report_filter: ReportFilter, today: date, got: dict, median: float | None, p90: float | None,
              now: datetime) -> Report:
    by_day = {day: n for day, n in sorted(got["by_day"].items()) if day}
    per_prisoner = {pid: n for pid, n in got["prisoners"].items() if pid}
    passed_on = {pid: n for pid, n in got["passed on"].items() if pid}
    gazetteer = places.gazetteer()
    known_events = {e["_id"]: e for e in got["event list"]}
    where = domain.place_figures(got["places"], known_events, gazetteer)
    events = _event_figures(got["event list"], got["events"], report_filter.event_id, gazetteer)
    directory = got["directory"]
    held_by_kind = {**got["held"]}
    held_by_kind[None] = got["statuses"].get("held", 0) - sum(n for kind, n in got["held"].items() if kind)
    delivery = domain.delivery_figures(
        got["statuses"], held_by_kind,
        blocked_reasons=_reasons(got["blocked"]), returned_reasons=_reasons(got["returned"]),
        failed_reasons=_reasons(got["failed"]), replies=got["replies"],
        stuck=domain.stuck_figure(got["statuses"].get("failed", 0), got["stuck"], now),
        handover_seconds_median=median, handover_seconds_p90=p90,
        handover_median=domain.humane_duration(median), handover_p90=domain.humane_duration(p90),
        handover_days_median=_days(median), handover_days_p90=_days(p90),
    )
    letters = sum(by_day.values())
    return Report(
        period=report_filter.describe(),
        generated_on=today.isoformat(),
        totals=domain.Totals(letters=letters, prisoners_written_to=len(per_prisoner),
                             prisoners_reached=sum(1 for n in passed_on.values() if n),
                             events=sum(1 for e in events if e.letters),
                             events_abroad=sum(1 for e in events if e.letters and e.abroad),
                             cities=len(where.by_city), countries=len(where.by_country), replies=got["replies"]),
        by_day=by_day,
        by_week=domain.by_week(by_day),
        by_month=domain.by_month(by_day),
        by_channel=domain.channels(letters, got["typed"]),
        by_event=events,
        letters_without_event=letters - sum(n for event, n in got["events"].items() if event),
        by_city=where.by_city,
        letters_without_city=where.letters_without_city,
        letters_not_a_place=where.letters_not_a_place,
        cities_not_in_gazetteer=where.cities_not_in_gazetteer,
        by_country=where.by_country,
        letters_without_country=where.letters_without_country,
        country_names=where.country_names,
        by_status={status: n for status, n in sorted(got["statuses"].items()) if status},
        prisoners=domain.prisoner_figures(directory, per_prisoner, passed_on),
        per_prisoner=domain.per_prisoner(directory, per_prisoner),
        moderation=domain.moderation_figures(got["moderation"], got["statuses"],
                                             domain.explode_categories(got["categories"])),
        delivery=delivery,
    )


def _reasons(rows: dict) -> dict[str, int]:
    return dict(sorted(((r, n) for r, n in rows.items() if r), key=lambda item: (-item[1], item[0])))


def _event_figures(events: list[dict], letters: dict, chosen: str | None,
                   gazetteer: places.Gazetteer) -> list[domain.EventFigure]:
    known = {e["_id"]: e for e in events}
    figures = []
    for e in events:
        if not (letters.get(e["_id"]) or e["_id"] == chosen):
            continue
        where = places.resolve(places.stored_place(None, None, e["_id"]), known, gazetteer)
        figures.append(domain.EventFigure(
            id=e["_id"], name=e.get("name", e["_id"]), city=where.city or "", country=where.country or "",
            abroad=bool(where.country) and where.country != places.HOME, starts_on=str(e.get("starts_on", "")),
            letters=letters.get(e["_id"], 0)))
    # Letters of an event no longer in the list still count, under its id.
    figures += [domain.EventFigure(id=eid, name=eid, city="", country="", starts_on="", letters=n)
                for eid, n in letters.items() if eid and eid not in known]
    return sorted(figures, key=lambda e: (e.starts_on, e.id))


async def build_attention(queries: ResultsQueries, *, today: date, days: int, birthdays_within: int,
                          limit: int = 20, include_demo: bool = False) -> domain.Attention:
    first, last = domain.recent_period(today, days)
    got = await queries.gather(
        recent=queries.count_by("prisoner_id", period_match(first, last)),
        directory=queries.prisoners(),
    )
    directory = _without_demo(got["directory"], ReportFilter(include_demo=include_demo))
    return domain.attention(directory, got["recent"], today, days, birthdays_within, limit)


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


def report_csv(report: Report, delimiter: str = ",") -> str:
    """The rows as CSV, every text cell neutralised (see `neutralise`); `;` for uk/ru spreadsheets, whose
    decimal separator is the comma (babel's uk and ru locales), so fractions are written "2,5" there."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(("section", "key", "value"))
    decimals = Texts("uk") if delimiter == ";" else None
    writer.writerows(tuple(_decimal(neutralise(value), decimals) for value in row) for row in report_rows(report))
    return out.getvalue()


def _decimal(value: Any, tx: Texts | None) -> Any:
    if tx is None or not isinstance(value, float):
        return value
    return format_decimal(value, "0.##", locale=tx.locale)


# What makes a spreadsheet read a cell as a formula (OWASP's list), also in their full-width and small forms,
# which NFKC folds to these.
FORMULA_LEADS = frozenset("=+-@\t\r\n")
# Where a spreadsheet may start a new cell inside a text: its list separator differs by locale (`;` in uk/ru).
CELL_BREAKS = frozenset(",;\t\r\n")


def neutralise(value: Any) -> Any:
    """A text cell no spreadsheet runs: a `'` before a formula-leading character at its start, and after every
    separator a spreadsheet of another locale might split on. Numbers stay numbers."""
    if not isinstance(value, str) or not value:
        return value
    out: list[str] = []
    cell_starts = True
    for ch in value:
        if cell_starts and _leads_formula(ch):
            out.append("'")
        out.append(ch)
        if ch in CELL_BREAKS:
            cell_starts = True
        elif not ch.isspace():
            cell_starts = False
    return "".join(out)


def _leads_formula(ch: str) -> bool:
    return ch in FORMULA_LEADS or unicodedata.normalize("NFKC", ch)[:1] in FORMULA_LEADS


class _ReportPdf(FPDF):
    def __init__(self, tx: Texts) -> None:
        super().__init__(format="A4")
        self.tx = tx

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.set_text_color(110)
        self.cell(0, 8, self.tx.t("results.pdf.footer", page=self.page_no()), align="C")


def report_pdf(report: Report, charts: dict[str, bytes], lang: str = "en") -> bytes:
    """A printable report in `lang` (uk, en, ru): headline figures, tables and the charts, in a font that has
    Cyrillic; numbers, dates and durations as the reader writes them."""
    tx = Texts(lang)
    t, n = tx.t, tx.number
    pdf = _ReportPdf(tx)
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD if DEJAVU_BOLD.exists() else DEJAVU))
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_lang(tx.lang)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, t("results.pdf.title"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    period = report.period
    pdf.cell(0, 6, t("results.pdf.period", **{"from": tx.day(period["from"]) if period["from"] else
                                               t("results.period.start"), "to": tx.day(period["to"] or
                                                                                      report.generated_on)})
             + (f" · {t('results.period.event', event=period['event'])}" if period.get("event") else "")
             + f" · {t('results.period.generated', date=tx.day(report.generated_on))}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    d, pr, totals = report.delivery, report.prisoners, report.totals
    _table(pdf, t("results.pdf.inShort"), [
        (t("results.pdf.letters"), n(totals.letters)),
        (t("results.pdf.writtenTo"), n(pr.written_to)),
        (t("results.pdf.reached"), n(pr.reached)),
        (t("results.pdf.wellReached", n=domain.WELL_REACHED), n(pr.well_reached)),
        (t("results.pdf.heldWithout"), n(pr.held_without_letters)),
        (t("results.row.median"), n(pr.median_letters_per_held_prisoner)),
        (t("results.row.eventsAbroad"), f"{n(totals.events)} ({n(totals.events_abroad)})"),
        (t("results.row.citiesCountries"), f"{n(totals.cities)} / {n(totals.countries)}"),
        (t("results.pdf.handedOver"), n(d.handed_over)),
        (t("results.row.blockedReturned"), f"{n(d.blocked)} / {n(d.returned)}"),
        (t("results.row.replies"), n(d.replies)),
        (t("results.row.handover"), f"{tx.duration(d.handover_seconds_median)} / {tx.duration(d.handover_seconds_p90)}"),
    ] + ([(t("results.row.stuck"), t("results.row.stuckValue", letters=n(d.stuck.failed_letters),
                                      since=tx.duration(d.stuck.failing_since_s)))]
         if d.stuck and d.stuck.stuck else []))
    _chart(pdf, charts.get("letters-over-time"))
    _table(pdf, t("results.table.byChannel"), [(_known(tx, "results.channel", c), n(v))
                                                for c, v in report.by_channel.items()])
    _table(pdf, t("results.table.byEvent"),
           [(f"{e.name} — {e.city}, {e.country} ({tx.day(e.starts_on)})", n(e.letters)) for e in report.by_event]
           + [(t("results.row.notAtEvent"), n(report.letters_without_event))])
    _chart(pdf, charts.get("cities"))
    _table(pdf, t("results.pdf.byCityTop"), [(city, n(v)) for city, v in list(report.by_city.items())[:25]] + [
        (t("results.row.noCity"), n(report.letters_without_city)),
        (t("results.row.notAPlace"), n(report.letters_not_a_place))])
    _table(pdf, t("results.table.byCountry"),
           [(tx.country(code) if lang != "en" else report.country_names.get(code, code), n(v))
            for code, v in report.by_country.items()] + [(t("results.row.noCountry"), n(report.letters_without_country))])
    m = report.moderation
    _table(pdf, t("results.table.moderation"), [
        (t("results.row.autoApproved"), n(m.auto_approved)), (t("results.row.approvedAfterReview"),
                                                               n(m.approved_after_review)),
        (t("results.row.redacted"), n(m.redacted)), (t("results.row.rejected"), n(m.rejected)),
        (t("results.row.awaitingReview"), n(m.awaiting_review))]
        + [(t("results.row.finding", category=k), n(v)) for k, v in m.top_finding_categories.items()])
    _table(pdf, t("results.table.delivery"), [
        (t("results.row.inProgress"), n(d.in_progress)), (t("results.row.sent"), n(d.sent)),
        (t("results.row.handedOver"), n(d.handed_over)), (t("results.row.blocked"), n(d.blocked)),
        (t("results.row.returned"), n(d.returned)), (t("results.row.heldLetters"), n(d.held)),
        (t("results.row.failed"), n(d.failed)), (t("results.row.answered"), n(d.answered)),
        (t("results.row.replies"), n(d.replies))]
        + [(t("results.reason.held", reason=_known(tx, "results.hold", k)), n(v)) for k, v in d.held_by_reason.items()]
        + [(t("results.reason.failed", reason=k), n(v)) for k, v in d.failed_reasons.items()]
        + [(t("results.reason.blocked", reason=k), n(v)) for k, v in d.blocked_reasons.items()]
        + [(t("results.reason.returned", reason=k), n(v)) for k, v in d.returned_reasons.items()])
    _chart(pdf, charts.get("prisoners"))
    _table(pdf, t("results.pdf.fewest"), [
        (f"{p.name_uk} / {p.name_en} ({_known(tx, 'results.prisonerStatus', p.status)})", n(p.letters))
        for p in report.per_prisoner[:30]])
    return bytes(pdf.output())


def _known(tx: Texts, prefix: str, key: str) -> str:
    """A value the report names (a channel, a hold's kind, a status): its label, else as given."""
    label = tx.t(f"{prefix}.{key}")
    return key if label == f"{prefix}.{key}" else label


def _plain(value: Any, limit: int) -> str:
    """Text as the PDF prints it: printable characters only, cut to fit (fpdf2 treats it as text, never markup)."""
    return "".join(ch if ch.isprintable() else " " for ch in str(value))[:limit]


def _table(pdf: FPDF, title: str, rows: list[tuple[Any, Any]]) -> None:
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    width = pdf.epw
    for label, value in rows:
        pdf.cell(width * 0.78, 5.5, _plain(label, 110), border="B")
        pdf.cell(width * 0.22, 5.5, _plain(value, 40), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _chart(pdf: FPDF, png: bytes | None) -> None:
    if not png:
        return
    if pdf.will_page_break(75):
        pdf.add_page()
    pdf.image(io.BytesIO(png), w=pdf.epw)
    pdf.ln(2)
