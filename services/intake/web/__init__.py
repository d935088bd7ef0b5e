"""The writer's page and the kiosk page, served by intake.

Plain HTML and JavaScript modules from `static/`, no build step and nothing from other origins.
Every answer carries a strict Content-Security-Policy: no inline scripts or styles, no eval,
and the pages talk only to this origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.pages import SecuredStaticFiles, page, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Photos taken on the kiosk are previewed from blob: URLs; the camera is its only device.
SECURITY_HEADERS = {
    **security_headers(extra_csp="media-src 'self' blob:"),
    "Permissions-Policy": "geolocation=(), microphone=(), payment=()",
}

router = APIRouter(include_in_schema=False)
router.mount("/static", SecuredStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS), name="static")


def _page(name: str) -> FileResponse:
    return page(STATIC_DIR, name, SECURITY_HEADERS)


@router.get("/")
async def writer_page() -> FileResponse:
    """The writer's page: choose a prisoner, write, get hints, submit, keep the receipt link."""
    return _page("writer.html")


@router.get("/receipt")
async def receipt_page() -> FileResponse:
    """Shows a letter's status; the id and receipt token come in the URL fragment."""
    return _page("receipt.html")


@router.get("/kiosk")
async def kiosk_page() -> FileResponse:
    """The event kiosk: full screen, offline-first, resets itself between visitors."""
    return _page("kiosk.html")


@router.get("/kiosk-sw.js")
async def kiosk_service_worker() -> FileResponse:
    """The kiosk's service worker, served from the root so its scope can cover /kiosk."""
    return _page("kiosk-sw.js")
