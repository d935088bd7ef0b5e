"""Delivery's pages: the operators' monitor (static HTML/CSS/JS) and the intermediary's confirmation page.

Nothing from other origins, no inline scripts or styles: a strict Content-Security-Policy on every
answer. The monitor asks the JSON API with the staff token the operator pasted (kept in
sessionStorage); every value is put on the page with textContent. The confirmation page is plain
HTML with forms, rendered from Jinja templates (templates/confirm, autoescaped) with every text in a
catalogue per language (templates/i18n), so it works without JavaScript on any phone; the token in
its address is single-purpose (one bundle), stored only hashed, and expires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import yaml
from babel import Locale
from babel.dates import format_date, format_timedelta
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from services.delivery import handover
from services.delivery.context import Delivery
from services.delivery.domain import REASON_MAX_CHARS
from services.delivery.errors import Conflict, NotFound
from shared.auth import TooManyWrongTokens, count_wrong_token
from shared.pages import PageTemplates, SecuredStaticFiles, mount_staff_kit, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SECURITY_HEADERS = security_headers(img_src="'self' data:")
# The confirmation page posts its form to itself, is never cached and never indexed.
CONFIRM_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}

router = APIRouter(include_in_schema=False)
router.mount("/static", SecuredStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS), name="static")
mount_staff_kit(router, SECURITY_HEADERS)
# The monitor extends the staff kit's skeleton (shared/staff_kit/templates/staff_page.html).
PAGES = PageTemplates(TEMPLATES_DIR, SECURITY_HEADERS)


@router.get("/monitor")
async def monitor_page(request: Request) -> Response:
    """The operators' monitor: the whole outgoing queue, updated every few seconds."""
    return PAGES.response(request, "monitor.html")


def _delivery(request: Request) -> Delivery:
    return request.app.state.delivery


# ---------------------------------------------------------------------------------------------
# The intermediary's confirmation page: Jinja templates (autoescaped) over one catalogue per language
# ---------------------------------------------------------------------------------------------

# Intermediaries in Crimea read Russian first; Ukrainian is one link away and remembered.
LANGUAGES = ("ru", "uk")
LANGUAGE_COOKIE = "confirm_lang"
CATALOGUES: dict[str, dict[str, Any]] = {
    language: yaml.safe_load((TEMPLATES_DIR / "i18n" / f"{language}.yaml").read_text(encoding="utf-8"))
    for language in LANGUAGES
}
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "confirm"), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)


@dataclass(frozen=True)
class Words:
    """The catalogue of one language, and dates and durations as that language writes them."""

    language: str

    def __call__(self, key: str, **values: object) -> Markup:
        # The catalogue is ours; every value put into it is escaped.
        return Markup(CATALOGUES[self.language][key]).format(**values)

    def count(self, key: str, n: int) -> Markup:
        forms = CATALOGUES[self.language][key]
        form = Locale.parse(self.language).plural_form(n)
        return Markup(forms.get(form, forms["other"])).format(n=n)

    def date(self, at: datetime) -> str:
        # Day, month (in the genitive, as CLDR's format context gives it) and year: "2 декабря 2026" (UTC).
        return format_date(at.date(), "d MMMM y", locale=self.language)

    def duration(self, left: timedelta) -> str:
        minutes = max(1, math.ceil(left.total_seconds() / 60))
        return format_timedelta(timedelta(minutes=minutes), granularity="minute", threshold=1000,
                                locale=self.language)


def _language(request: Request) -> str:
    """?lang= first (a link that works without script), then the remembered choice, then Russian."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return LANGUAGES[0]


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    language = _language(request)
    words = Words(language)
    body = TEMPLATES.get_template(template).render(
        lang=language, t=words, languages=[(code, CATALOGUES[code]["language_name"]) for code in LANGUAGES],
        **context)
    response = HTMLResponse(body, status_code=status, headers=CONFIRM_HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, path="/confirm", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    return response


def _bundle_page(request: Request, token: str, view: handover.LinkView, status: int = 200, *,
                 notice: str | None = None, problems: dict[int, str] | None = None, scope: str = "",
                 submitted: dict[int, tuple[str, str]] | None = None, whole: tuple[str, str] = ("", "")
                 ) -> HTMLResponse:
    words = Words(_language(request))
    count = words.count("letters_count", len(view.letters))
    summary = (words("summary_sent", name=view.prisoner_name_ru, count=count, date=words.date(view.sent_at))
               if view.sent_at else words("summary", name=view.prisoner_name_ru, count=count))
    problems = problems or {}

    def problem_of(number: int) -> str | None:
        # The whole-bundle form's own problem shows beside it only when it was that form that was sent.
        return problems.get(number) if number or scope == "bundle" else None

    def pages_of(line: handover.LetterLine) -> Markup:
        first, last = line.pages or (0, 0)
        return words("letter_pages_one", first=first) if first == last else words(
            "letter_pages_many", first=first, last=last)

    now = _delivery(request).clock()
    template = "bundle.html" if view.of_status("open") and view.accepting else "answered.html"
    if view.of_status("open") and not view.accepting and not problems:
        notice = "problem_closed"  # answered once, then expired: the rest can no longer be answered here
    return _render(
        request, template, status, view=view, summary=summary, notice=notice, problems=sorted(problems.items()),
        problem_of=problem_of, pages_of=pages_of, submitted=submitted or {}, whole=whole,
        time_left=lambda line: words.duration((line.undoable_until or now) - now), reason_max=REASON_MAX_CHARS,
        action=f"?lang={words.language}", undo_action=f"/confirm/{quote(token, safe='')}/undo?lang={words.language}")


def _saved(request: Request, token: str, done: str) -> RedirectResponse:
    """After a change, the page is fetched anew: reloading it never sends the answer twice."""
    return RedirectResponse(f"/confirm/{quote(token, safe='')}?lang={_language(request)}&done={done}", 303,
                            headers=CONFIRM_HEADERS)


@router.get("/confirm/{token}")
async def confirmation_page(token: str, request: Request) -> HTMLResponse:
    """The intermediary's personal page: say which letters were handed over, and why the others were not."""
    try:
        view, _ = await handover.open_link(_delivery(request), token)
    except NotFound:
        return await _not_found(request)
    done = request.query_params.get("done")
    return _bundle_page(request, token, view, notice=done if done in ("saved", "undone") else None)


@router.post("/confirm/{token}", response_model=None)
async def confirm(token: str, request: Request) -> HTMLResponse | RedirectResponse:
    """One answer for the whole bundle (`scope=bundle`: `outcome`, `reason`), or letter by letter
    (`letter-N`: an outcome or empty, `reason-N`), N being the letter's number in the bundle."""
    form = await request.form()
    whole = form.get("scope") == "bundle" or (form.get("scope") is None and "outcome" in form)
    outcome, reason = _text(form.get("outcome")), _text(form.get("reason"))
    submitted = _per_letter(form)
    delivery = _delivery(request)
    try:
        if whole:
            await handover.confirm_by_link(delivery, token, outcome, reason or None)
        else:
            await handover.answer_by_link(delivery, token, {
                number: (chosen, typed or None) for number, (chosen, typed) in submitted.items() if chosen})
    except NotFound:
        return await _not_found(request)
    except handover.AnswersRefused as refused:
        view, _ = await handover.open_link(delivery, token)
        return _bundle_page(request, token, view, 422, problems=refused.problems, scope="bundle" if whole else "",
                            submitted=submitted, whole=(outcome, reason))
    except Conflict:
        view, _ = await handover.open_link(delivery, token)
        return _bundle_page(request, token, view, 409, problems={0: "closed"})
    return _saved(request, token, "saved")


@router.post("/confirm/{token}/undo", response_model=None)
async def undo(token: str, request: Request) -> HTMLResponse | RedirectResponse:
    """Take back one answer (`letter`: its number) or all (`letter=all`) while the window is open."""
    chosen = _text((await request.form()).get("letter"))
    if chosen != "all" and not chosen.isdecimal():
        return _saved(request, token, "")  # nothing named: nothing to undo
    delivery = _delivery(request)
    try:
        await handover.undo_by_link(delivery, token, None if chosen == "all" else int(chosen))
    except NotFound:
        return await _not_found(request)
    except Conflict:
        view, _ = await handover.open_link(delivery, token)
        return _bundle_page(request, token, view, 409, problems={0: "too_late"})
    return _saved(request, token, "undone")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _per_letter(form: FormData) -> dict[int, tuple[str, str]]:
    """`letter-N` and `reason-N` fields, by N; what was typed is kept to show again on a problem."""
    numbers = {int(key[7:]) for key in form if key.startswith("letter-") and key[7:].isdecimal()}
    return {n: (_text(form.get(f"letter-{n}")), _text(form.get(f"reason-{n}"))) for n in sorted(numbers)}


async def _not_found(request: Request) -> HTMLResponse:
    """A link that opens nothing is a wrong token: counted, and past the limit answered 429."""
    try:
        await count_wrong_token(request)
    except TooManyWrongTokens as throttled:
        response = _render(request, "throttled.html", 429)
        response.headers.update(throttled.headers or {})
        return response
    return _render(request, "expired.html", 404)
