"""Each service's API documentation pages, served from the project's own files.

/docs (Swagger UI) and /redoc (ReDoc) read the service's /openapi.json, /asyncapi reads its
/asyncapi.json. Nothing comes from another origin: the Swagger UI and ReDoc bundles are the files
that the pinned `fastapi-offline` package ships (uv.lock holds its hash), and each page starts its
viewer from a served script, so the pages run under the same strict Content-Security-Policy as
every other page: the kiosk keeps its token on this origin, and no third-party code may run
beside it. The AsyncAPI page is our own small renderer (static/asyncapi.js): the AsyncAPI React
component parses with code it compiles at run time, which the policy rightly refuses.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from shared.pages import SecuredStaticFiles, page, security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
# swagger-ui-bundle.js, swagger-ui.css and redoc.standalone.js, pinned with the package in uv.lock.
OFFLINE_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
HEADERS = security_headers()
# ReDoc adds two <style> elements of its own: an empty one that styled-components fills through
# the CSSOM (which the policy does not govern; without the element's sheet ReDoc stops), and the
# fixed CSS of its scroll bars. Their hashes admit exactly these two and nothing else: no
# 'unsafe-inline', any other <style> is still refused. A new ReDoc with other CSS shows up as a
# CSP violation in the browser tests.
REDOC_STYLES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty string
                "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='")  # perfect-scrollbar's CSS
REDOC_HEADERS = {**HEADERS, "Content-Security-Policy": HEADERS["Content-Security-Policy"].replace(
    "style-src 'self';", f"style-src 'self' {' '.join(REDOC_STYLES)};")}
# ReDoc's footer shows Redocly's logo from their CDN, unconditionally. Pointed at an empty data:
# URL it fails to load, and ReDoc then leaves the image out: no request leaves the origin.
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    bundle = (OFFLINE_DIR / "redoc.standalone.js").read_bytes()
    if REDOCLY_LOGO not in bundle:
        raise RuntimeError("ReDoc's bundle changed: check what it loads from other origins")
    return bundle.replace(REDOCLY_LOGO, b"data:,")


def docs_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/api-docs/redoc.standalone.js")
    async def redoc_script() -> Response:
        return Response(redoc_bundle(), media_type="text/javascript; charset=utf-8", headers=HEADERS)

    router.mount("/api-docs/static", SecuredStaticFiles(directory=STATIC_DIR, headers=HEADERS), name="api-docs")
    router.mount("/api-docs/offline", SecuredStaticFiles(directory=OFFLINE_DIR, headers=HEADERS),
                 name="api-docs-offline")

    @router.get("/docs")
    async def swagger_ui() -> FileResponse:
        """The HTTP API, interactive (Swagger UI)."""
        return page(STATIC_DIR, "swagger.html", HEADERS)

    @router.get("/redoc")
    async def redoc() -> FileResponse:
        """The HTTP API, readable (ReDoc)."""
        return page(STATIC_DIR, "redoc.html", REDOC_HEADERS)

    @router.get("/asyncapi")
    async def asyncapi() -> FileResponse:
        """The service's messages, readable (AsyncAPI)."""
        return page(STATIC_DIR, "asyncapi.html", HEADERS)

    return router
