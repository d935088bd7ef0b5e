"""Routes of the campaign's results: the staff report, its exports and charts, fair attention, the public summary, the page."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from services.intake.results import charts, domain, texts
from services.intake.results import public as public_page
from services.intake.results.domain import Attention, PublicSummary, Report, ReportFilter
from services.intake.results.queries import ResultsQueries
from services.intake.results.report import build_attention, build_report, report_csv, report_pdf
from shared.auth import Principal, client_address, require_staff
from shared.pages import PageTemplates, SecuredStaticFiles, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = security_headers(img_src="'self' data: blob:")
# The staff's results page extends the staff kit's skeleton (shared/staff_kit/templates/staff_page.html).
PAGES = PageTemplates(public_page.TEMPLATES, PAGE_HEADERS)
CONTENT_SECURITY_POLICY = PAGE_HEADERS["Content-Security-Policy"]
# The public summary is anonymous: one computation serves everyone for this long.
PUBLIC_CACHE_S = 300.0
PUBLIC_CACHE_ENTRIES = 256
REPORT_CACHE_S = 15.0
REPORT_CACHE_ENTRIES = 32
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}

router = APIRouter()
api = APIRouter(prefix="/api/v1/results", tags=["results"])
Staff = Annotated[Principal, Depends(require_staff("moderator", "operator"))]


async def _queries(request: Request) -> ResultsQueries:
    """The results' repository, on intake's database; its indexes are made once per process."""
    state = request.app.state
    if getattr(state, "results_queries", None) is None:
        async with _kept(state, "results_lock", asyncio.Lock):
            if getattr(state, "results_queries", None) is None:
                queries = ResultsQueries(state.intake.letters._letters.database)
                await queries.ensure_indexes()
                state.results_queries = queries
    return state.results_queries


def _kept(state: Any, name: str, make: Any) -> Any:
    """A per-process object kept on the app's state, made on first use."""
    if getattr(state, name, None) is None:
        setattr(state, name, make())
    return getattr(state, name)


QueriesDep = Annotated[ResultsQueries, Depends(_queries)]
PublicYear = Annotated[int | None, Query(ge=2000, le=2100, description="One calendar year; all years if absent")]
PublicEvent = Annotated[str | None, Query(max_length=64, description="One campaign event")]
ReaderLang = Annotated[Literal["uk", "en", "ru"] | None, Query(description="uk, en or ru; else the browser's "
                                                                          "language, else Ukrainian")]


def today() -> date:
    return datetime.now(UTC).date()


def report_filter(
    date_from: Annotated[date | None, Query(alias="from", description="First day (UTC), e.g. 2026-01-01")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day (UTC), included")] = None,
    event: Annotated[str | None, Query(max_length=64, description="Only letters written at this campaign event")] = None,
    demo: Annotated[bool, Query(description="Count the demo campaign's fictional prisoners too")] = False,
) -> ReportFilter:
    if date_from and date_to and date_to < date_from:
        raise HTTPException(422, "the period ends before it starts")
    return ReportFilter(date_from=date_from, date_to=date_to, event_id=event or None, include_demo=demo)


FilterDep = Annotated[ReportFilter, Depends(report_filter)]


async def _report(request: Request, queries: ResultsQueries, chosen: ReportFilter) -> Report:
    """The page asks for the report, then its three charts: one count serves them all for a few seconds."""
    cache: dict[Any, tuple[float, Report]] = _kept(request.app.state, "results_reports", dict)
    key = (chosen, today())
    hit = cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    report = await build_report(queries, chosen, today=today())
    if len(cache) >= REPORT_CACHE_ENTRIES:
        cache.clear()
    cache[key] = (time.monotonic() + REPORT_CACHE_S, report)
    return report


@api.get("", response_model=Report, summary="The campaign's results for a period (and an event)")
async def results(_: Staff, request: Request, queries: QueriesDep, chosen: FilterDep) -> Report:
    """Role: moderator, operator or admin. Letters by day (written), week, month, channel, event, city and
    country (normalised); prisoners written to and reached; moderation and delivery outcomes (held and failed
    letters with their reasons); time to hand-over; replies. The demo's prisoners only with `demo=true`."""
    return await _report(request, queries, chosen)


@api.get("/charts/{name}.png", summary="A chart of the results (PNG)",
         responses={200: {"content": {"image/png": {}}}, 404: {}})
async def chart(name: str, _: Staff, request: Request, queries: QueriesDep, chosen: FilterDep,
                lang: ReaderLang = None) -> Response:
    """Role: moderator, operator or admin. `letters-over-time`, `cities` or `prisoners`, titled in `lang`."""
    if name not in charts.NAMES:
        raise HTTPException(404, f"no chart {name!r}; there are {', '.join(charts.NAMES)}")
    report = await _report(request, queries, chosen)
    png = await run_in_threadpool(charts.render, name, report, texts.language(lang, request.headers.get("accept-language")))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@api.get("/export.{fmt}", summary="The report as CSV, JSON or PDF (with charts), for download",
         responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["pdf"]: {}}}})
async def export(fmt: Literal["csv", "json", "pdf"], staff: Staff, request: Request, queries: QueriesDep,
                 chosen: FilterDep,
                 sep: Annotated[Literal[",", ";"], Query(description="CSV separator: `;` for spreadsheets in "
                                                                      "Ukrainian or Russian")] = ",",
                 lang: ReaderLang = None) -> Response:
    """Role: moderator, operator or admin. Each export is recorded in the audit log. The PDF is written in
    `lang` (else the browser's language, else Ukrainian)."""
    report = await _report(request, queries, chosen)
    body = await run_in_threadpool(render_export, report, fmt, sep,
                                   texts.language(lang, request.headers.get("accept-language")))
    await request.app.state.intake.audit.record(staff.subject, "exported results", fmt, **chosen.describe())
    name = f"campaign-results-{chosen.date_from or 'start'}-{chosen.date_to or report.generated_on}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "private, no-store"})


def render_export(report: Report, fmt: str, sep: str = ",", lang: str = "en") -> bytes:
    if fmt == "csv":
        # With a byte-order mark, spreadsheets read the Cyrillic as UTF-8.
        return report_csv(report, sep).encode("utf-8-sig")
    if fmt == "json":
        return report.model_dump_json(indent=2).encode("utf-8")
    return report_pdf(report, charts.render_all(report, lang), lang)


@api.get("/attention", response_model=Attention, summary="Prisoners most in need of letters")
async def fair_attention(
    _: Staff, queries: QueriesDep,
    days: Annotated[int, Query(ge=1, le=366, description="Count letters of the last N days")] = 30,
    birthdays_within: Annotated[int, Query(ge=0, le=366, description="Birthdays in the next N days")] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    demo: Annotated[bool, Query(description="Include the demo campaign's fictional prisoners")] = False,
) -> Attention:
    """Role: moderator, operator or admin. Held prisoners with the fewest recent letters, and coming birthdays."""
    return await build_attention(queries, today=today(), days=days, birthdays_within=birthdays_within, limit=limit,
                                 include_demo=demo)


@api.get("/public", response_model=PublicSummary, tags=["public"], summary="A summary safe to publish")
async def public(request: Request, queries: QueriesDep, year: PublicYear = None,
                 event: PublicEvent = None) -> PublicSummary:
    """Role: anyone. Totals, cities, countries and events; no writers, nothing about a prisoner beyond the
    public directory, and counts below 5 shown as "<5" (places folded into "other").

    Only whole years or one event, so narrow periods cannot be subtracted from each other to reveal a writer.
    """
    return await _public_summary(request, queries, year, event)


@api.get("/public/share.png", tags=["public"], summary="The public summary as an image to share (1200×630 PNG)",
         responses={200: {"content": {"image/png": {}}}})
async def share_image(request: Request, queries: QueriesDep, year: PublicYear = None, event: PublicEvent = None,
                      lang: ReaderLang = None) -> Response:
    """Role: anyone. "N letters from M events in K cities and L countries" in Ukrainian, English or Russian
    (`lang`, else the browser's language); cached and throttled like the summary."""
    chosen = texts.language(lang, request.headers.get("accept-language"))
    cache: dict[Any, tuple[float, bytes]] = _kept(request.app.state, "results_share", dict)
    key = (chosen, year, event, today())
    hit = cache.get(key)
    if hit is None or hit[0] <= time.monotonic():
        summary = await _public_summary(request, queries, year, event, new_work=True)
        png = await run_in_threadpool(public_page.share_png,
                                      public_page.share_lines(summary, texts.Texts(chosen), year))
        _keep(cache, key, png, PUBLIC_CACHE_ENTRIES)
        hit = cache[key]
    return Response(hit[1], media_type="image/png",
                    headers={"Cache-Control": f"public, max-age={int(PUBLIC_CACHE_S)}", "Content-Language": chosen,
                             "Vary": "Accept-Language"})


async def _public_summary(request: Request, queries: ResultsQueries, year: int | None, event: str | None,
                          *, new_work: bool = False) -> PublicSummary:
    """The summary, computed at most once per PUBLIC_CACHE_S for everyone. `new_work`: the caller has work of
    its own to do (an image not drawn yet), which counts against the address's limit even if this is cached."""
    chosen = ReportFilter(date(year, 1, 1), date(year, 12, 31), event) if year else ReportFilter(event_id=event)
    cache: dict[Any, tuple[float, PublicSummary]] = _kept(request.app.state, "results_public", dict)
    key = (year, event, today())
    hit = cache.get(key)
    cached = hit is not None and hit[0] > time.monotonic()
    if cached and not new_work:
        return hit[1]
    intake = request.app.state.intake
    # A made-up event id would be a fresh computation every time: only the campaign's events are summed.
    if event is not None and await intake.campaign_events.get(event) is None:
        raise HTTPException(404, "no such campaign event")
    # Only computations are counted: the cached summary (and image) is free for everyone, a new one is not.
    await intake.limiter.hit("summary", client_address(request))
    if cached:
        return hit[1]
    summary = domain.public_summary(await build_report(queries, chosen, today=today()))
    _keep(cache, key, summary, PUBLIC_CACHE_ENTRIES)
    return summary


def _keep(cache: dict, key: Any, value: Any, entries: int) -> None:
    if len(cache) >= entries:
        cache.clear()  # anyone may ask for any event id or language: the cache must not grow without bound
    cache[key] = (time.monotonic() + PUBLIC_CACHE_S, value)


router.include_router(api)


router.mount("/results/static", SecuredStaticFiles(directory=STATIC_DIR, headers=PAGE_HEADERS), name="results-static")


@router.get("/results", include_in_schema=False)
async def results_page(request: Request) -> Response:
    """The results page: staff paste their token once (kept in sessionStorage); charts come from the API."""
    return PAGES.response(request, "results.html")


@router.get("/campaign", include_in_schema=False)
async def campaign_page(request: Request, queries: QueriesDep, year: PublicYear = None, event: PublicEvent = None,
                        lang: ReaderLang = None) -> HTMLResponse:
    """The public results page (no sign-in), in `lang` or the browser's language, Ukrainian by default."""
    chosen = texts.language(lang, request.headers.get("accept-language"))
    summary = await _public_summary(request, queries, year, event)
    here = {k: v for k, v in (("year", year), ("event", event)) if v is not None}
    links = {code: "/campaign?" + urlencode({**here, "lang": code}) for code in texts.LANGS}
    base = str(request.base_url).rstrip("/")
    share = base + str(request.app.url_path_for("share_image")) + "?" + urlencode({**here, "lang": chosen})
    html = public_page.page_html(summary, texts.Texts(chosen), year=year, links=links,
                                 page_url=base + links[chosen], share_url=share)
    return HTMLResponse(html, headers={**PAGE_HEADERS, "Content-Language": chosen, "Vary": "Accept-Language"})
