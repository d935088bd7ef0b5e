"""Delivery's pages: the operators' monitor (static HTML/CSS/JS) and the intermediary's confirmation page.

Nothing from other origins, no inline scripts or styles: a strict Content-Security-Policy on every
answer. The monitor asks the JSON API with the staff token the operator pasted (kept in
sessionStorage); every value is put on the page with textContent. The confirmation page is plain
HTML with a form, so it works without JavaScript on any phone; the token in its address is
single-purpose (one bundle), stored only hashed, and expires.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse

from services.delivery import handover
from services.delivery.service import Delivery, Invalid, NotFound
from shared.auth import TooManyWrongTokens, count_wrong_token
from shared.pages import SecuredStaticFiles, page, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = security_headers(img_src="'self' data:")
# The confirmation page posts its form to itself, is never cached and never indexed.
CONFIRM_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}

router = APIRouter(include_in_schema=False)
router.mount("/static", SecuredStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS), name="static")


@router.get("/monitor")
async def monitor_page() -> FileResponse:
    """The operators' monitor: the whole outgoing queue, updated every few seconds."""
    return page(STATIC_DIR, "monitor.html", SECURITY_HEADERS)


def _delivery(request: Request) -> Delivery:
    return request.app.state.delivery


@router.get("/confirm/{token}")
async def confirmation_page(token: str, request: Request) -> HTMLResponse:
    """The intermediary's personal page: say the letters were handed over, or why not."""
    try:
        view, _ = await handover.open_link(_delivery(request), token)
    except NotFound:
        return await _not_found(request)
    return _page(_answered(view) if view.answered else _form(view))


@router.post("/confirm/{token}")
async def confirm(token: str, request: Request, outcome: Annotated[Literal["handed_over", "returned"], Form()],
                  reason: Annotated[str, Form(max_length=500)] = "") -> HTMLResponse:
    try:
        view = await handover.confirm_by_link(_delivery(request), token, outcome, reason.strip() or None)
    except NotFound:
        return await _not_found(request)
    except Invalid:
        view, _ = await handover.open_link(_delivery(request), token)
        return _page(_form(view, "Пожалуйста, коротко напишите, почему письма не удалось передать."), 422)
    return _page(_answered(view))


async def _not_found(request: Request) -> HTMLResponse:
    """A link that opens nothing is a wrong token: counted, and past the limit answered 429."""
    try:
        await count_wrong_token(request)
    except TooManyWrongTokens as throttled:
        response = _page(_THROTTLED, 429)
        response.headers.update(throttled.headers or {})
        return response
    return _page(_EXPIRED, 404)


def _page(body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><link rel="icon" href="data:,">'
        '<title>Письма: подтверждение</title><link rel="stylesheet" href="/static/confirm.css"></head>'
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=CONFIRM_HEADERS)


_THROTTLED = ("<h1>Слишком много попыток</h1>"
              "<p>С этого адреса открыто слишком много неверных ссылок. Подождите минуту и попробуйте снова.</p>")

_EXPIRED = ("<h1>Ссылка недействительна</h1>"
            "<p>Эта ссылка неверна или её срок истёк. Напишите, пожалуйста, организаторам.</p>")


def _summary(view: handover.LinkView) -> str:
    sent = datetime.fromtimestamp(view.sent_epoch, UTC).strftime("%d.%m.%Y") if view.sent_epoch else ""
    return (f'<p class="summary">Письма для <strong>{html.escape(view.prisoner_name_ru)}</strong>: '
            f'<span id="letters">{view.letters}</span>' + (f", отправлены {sent}" if sent else "") + ".</p>")


def _form(view: handover.LinkView, problem: str = "") -> str:
    note = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return (
        f"<h1>Передача писем</h1>{_summary(view)}{note}"
        '<form method="post" class="handed">'
        '<input type="hidden" name="outcome" value="handed_over">'
        '<button type="submit" id="handed-over">Я передал(а) письма</button></form>'
        '<form method="post" class="returned"><input type="hidden" name="outcome" value="returned">'
        '<label for="reason">Не удалось передать — почему?</label>'
        '<textarea id="reason" name="reason" maxlength="500" rows="3"></textarea>'
        '<button type="submit" id="not-handed-over">Сообщить</button></form>'
    )


def _answered(view: handover.LinkView) -> str:
    what = "переданы" if view.answered == "handed_over" else "не переданы"
    return f'<h1>Спасибо!</h1>{_summary(view)}<p id="answer">Отмечено: письма {what}.</p>'
