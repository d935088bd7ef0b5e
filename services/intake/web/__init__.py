"""The writer's page and the kiosk page, served by intake.

Plain HTML and JavaScript modules from `static/`, no build step and nothing from other origins.
Every answer carries a strict Content-Security-Policy: no inline scripts or styles, no eval,
and the pages talk only to this origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The receipt token travels in the URL fragment, which browsers never send; no referrer either way.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(), microphone=(), payment=()",
    # Revalidate every time (ETag makes that cheap): a fixed page must reach kiosks at their next load.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


class _StaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


router.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")


def _page(name: str, **extra_headers: str) -> FileResponse:
    return FileResponse(
        STATIC_DIR / name,
        media_type="text/html; charset=utf-8" if name.endswith(".html") else "text/javascript; charset=utf-8",
        headers={**SECURITY_HEADERS, **extra_headers},
    )


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
