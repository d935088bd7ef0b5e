"""The moderators' page, served by sorting at /moderation, and the translators' page at /translation.

Jinja2 templates from `templates/` (extending the staff kit's skeleton) with CSS and JavaScript
modules from `static/`, no build step and nothing from other origins. Every answer carries a strict Content-Security-Policy: no inline scripts or styles, no
eval; the page talks only to this origin, and loads images only from here and from the object
store that the presigned page links point at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.sorting.domain import MAX_MASK_NOTE_CHARS
from shared.events import MAX_LETTER_CHARS, MAX_WRITER_FIELD_CHARS
from shared.pages import PageTemplates, SecuredStaticFiles, mount_staff_kit, security_headers
from shared.rejection_reasons import MAX_NOTE_CHARS

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# The forms stop typing where the API would refuse: each limit as the server defines it.
LIMITS = {"max_letter_chars": MAX_LETTER_CHARS, "max_mask_note_chars": MAX_MASK_NOTE_CHARS,
          "max_writer_field_chars": MAX_WRITER_FIELD_CHARS, "max_reject_note_chars": MAX_NOTE_CHARS}


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
    templates = PageTemplates(TEMPLATES_DIR, headers, **LIMITS)

    @router.get("/moderation")
    async def moderation_page(request: Request) -> Response:
        """The moderators' page: the queue, one letter with its flagged passages, decisions."""
        return templates.response(request, "moderation.html")

    @router.get("/translation")
    async def translation_page(request: Request) -> Response:
        """The translators' page: letters waiting for a Russian version, the original beside the translation."""
        return templates.response(request, "translation.html")

    return router
