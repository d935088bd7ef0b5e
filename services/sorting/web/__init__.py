"""The moderators' page, served by sorting at /moderation, and the translators' page at /translation.

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

from shared.pages import SecuredStaticFiles, mount_staff_kit, page, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def pages_router(s3_public_url: str) -> APIRouter:
    # Page photos come as presigned links to the object store: the only other origin allowed.
    headers = {
        **security_headers(img_src=f"'self' blob: data: {origin_of(s3_public_url)}"),
        "Permissions-Policy": "geolocation=(), microphone=(), camera=(), payment=()",
    }
    router = APIRouter(include_in_schema=False)
    router.mount("/static", SecuredStaticFiles(directory=STATIC_DIR, headers=headers), name="static")
    mount_staff_kit(router, headers)

    @router.get("/moderation")
    async def moderation_page() -> FileResponse:
        """The moderators' page: the queue, one letter with its flagged passages, decisions."""
        return page(STATIC_DIR, "moderation.html", headers)

    @router.get("/translation")
    async def translation_page() -> FileResponse:
        """The translators' page: letters waiting for a Russian version, the original beside the translation."""
        return page(STATIC_DIR, "translation.html", headers)

    return router
