"""The writer's page and the kiosk page, served by intake.

Jinja2 templates from `templates/` (the public pages share `public_page.html`, the operators'
page the staff kit's skeleton) with CSS and JavaScript modules from `static/`, no build step and
nothing from other origins.
Every answer carries a strict Content-Security-Policy: no inline scripts or styles, no eval,
and the pages talk only to this origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from shared.events import MAX_LETTER_CHARS, MAX_WRITER_FIELD_CHARS
from shared.pages import PageTemplates, SecuredStaticFiles, page, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Photos taken on the kiosk are previewed from blob: URLs; the camera is its only device.
SECURITY_HEADERS = {
    **security_headers(extra_csp="media-src 'self' blob:"),
    "Permissions-Policy": "geolocation=(), microphone=(), payment=()",
}

# The forms stop typing where the API would refuse: each limit as the server defines it.
TEMPLATES = PageTemplates(TEMPLATES_DIR, SECURITY_HEADERS, max_letter_chars=MAX_LETTER_CHARS,
                          max_writer_field_chars=MAX_WRITER_FIELD_CHARS)

router = APIRouter(include_in_schema=False)
router.mount("/static", SecuredStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS), name="static")


@router.get("/")
async def writer_page(request: Request) -> Response:
    """The writer's page: choose a prisoner, write, get hints, submit, keep the receipt link."""
    return TEMPLATES.response(request, "writer.html")


@router.get("/receipt")
async def receipt_page(request: Request) -> Response:
    """Shows a letter's status; the id and receipt token come in the URL fragment."""
    return TEMPLATES.response(request, "receipt.html")


@router.get("/kiosk")
async def kiosk_page(request: Request) -> Response:
    """The event kiosk: full screen, offline-first, resets itself between visitors."""
    return TEMPLATES.response(request, "kiosk.html")


@router.get("/kiosk-sw.js")
async def kiosk_service_worker() -> FileResponse:
    """The kiosk's service worker, served from the root so its scope can cover /kiosk."""
    return page(STATIC_DIR, "kiosk-sw.js", SECURITY_HEADERS)
