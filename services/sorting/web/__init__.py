"""The moderators' page, served by sorting at /moderation.

Plain HTML, CSS and one JavaScript module from `static/`, no build step and nothing from other
origins. Every answer carries a strict Content-Security-Policy: no inline scripts or styles, no
eval; the page talks only to this origin, and loads images only from here and from the object
store that the presigned page links point at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(image_origin: str) -> dict[str, str]:
    csp = (
        f"default-src 'self'; img-src 'self' blob: data: {image_origin}; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        # Presigned links and letter ids must not leak to the object store or anywhere else.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(), microphone=(), camera=(), payment=()",
        "Cache-Control": "no-cache",
    }


def pages_router(s3_public_url: str) -> APIRouter:
    headers = security_headers(origin_of(s3_public_url))
    router = APIRouter(include_in_schema=False)

    class _StaticFiles(StaticFiles):
        async def get_response(self, path: str, scope: Scope) -> Response:
            response = await super().get_response(path, scope)
            response.headers.update(headers)
            return response

    router.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")

    @router.get("/moderation")
    async def moderation_page() -> FileResponse:
        """The moderators' page: the queue, one letter with its flagged passages, decisions."""
        return FileResponse(STATIC_DIR / "moderation.html", media_type="text/html; charset=utf-8", headers=headers)

    return router
