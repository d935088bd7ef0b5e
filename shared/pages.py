"""Serving a service's own pages: Jinja2 templates and static files with a strict
Content-Security-Policy on every answer.

No inline scripts or styles, no eval, nothing from other origins unless named (e.g. the object
store whose presigned links a page shows), so whatever a writer typed can never run in a staff
member's browser.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


def security_headers(*, img_src: str = "'self' blob: data:", extra_csp: str = "") -> dict[str, str]:
    csp = (
        f"default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; connect-src 'self'; "
        f"frame-ancestors 'none'; base-uri 'none'; form-action 'self'{'; ' + extra_csp if extra_csp else ''}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        # Letter ids, tokens in fragments and presigned links must not leak through the Referer.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(), microphone=(), payment=()",
        # Revalidate every time (ETag makes that cheap): a fixed page reaches kiosks at their next load.
        "Cache-Control": "no-cache",
    }


class SecuredStaticFiles(StaticFiles):
    """StaticFiles whose every answer carries the given security headers."""

    def __init__(self, *, directory: Path, headers: dict[str, str]) -> None:
        super().__init__(directory=directory)
        self._headers = headers

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self._headers)
        return response


# The staff kit (sign-in, requests, tables, i18n) that every staff page imports, at one path on every service.
STAFF_KIT_DIR = Path(__file__).resolve().parent / "staff_kit" / "static"
# The skeleton every staff page extends (`{% extends "staff_page.html" %}`): head, header, sign-in.
STAFF_KIT_TEMPLATES = Path(__file__).resolve().parent / "staff_kit" / "templates"
STAFF_KIT_PATH = "/staff-kit"


def mount_staff_kit(router: APIRouter, headers: dict[str, str]) -> None:
    """Serve the staff kit at /staff-kit/ with the same headers as the service's own pages."""
    router.mount(STAFF_KIT_PATH, SecuredStaticFiles(directory=STAFF_KIT_DIR, headers=headers), name="staff-kit")


class PageTemplates:
    """A service's pages as Jinja2 templates, autoescaped. A page holds no per-request data (the
    JavaScript fetches it), so each is rendered once, on first use, and answered with an ETag: a
    kiosk or a staff browser revalidates cheaply and gets a fixed page at its next load."""

    def __init__(self, directory: Path, headers: dict[str, str], **context: Any) -> None:
        self._env = Environment(loader=FileSystemLoader([directory, STAFF_KIT_TEMPLATES]),
                                autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
        self._headers = headers
        self._context = context
        self._rendered: dict[str, tuple[bytes, str]] = {}

    def render(self, name: str) -> str:
        return self._env.get_template(name).render(**self._context)

    def response(self, request: Request, name: str) -> Response:
        if name not in self._rendered:
            body = self.render(name).encode()
            self._rendered[name] = body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        body, etag = self._rendered[name]
        headers = {**self._headers, "ETag": etag}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return HTMLResponse(body, headers=headers)


def page(directory: Path, name: str, headers: dict[str, str]) -> FileResponse:
    media_type = "text/html; charset=utf-8" if name.endswith(".html") else "text/javascript; charset=utf-8"
    return FileResponse(directory / name, media_type=media_type, headers=headers)
