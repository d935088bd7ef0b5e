"""The pages intake serves carry a strict Content-Security-Policy, and nothing a writer or a
stranger sends comes back as HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.security.conftest import bearer
from tests.support import letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGES = ["/", "/kiosk", "/receipt"]


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [word.lower() for word in words[1:]]
    return directives


@pytest.mark.parametrize("path", PAGES)
async def test_a_page_is_served_with_a_strict_content_security_policy(probe, path):
    answer = await probe.request("intake", "GET", path, expect=200, what="page", hostile=False, inspect_body=False)
    assert answer.headers["content-type"].startswith("text/html")
    header = answer.headers.get("content-security-policy")
    assert header, f"{path} has no Content-Security-Policy"
    directives = policy(header)
    scripts = directives.get("script-src", directives.get("default-src"))
    styles = directives.get("style-src", directives.get("default-src"))
    assert scripts and styles, f"{path}: no script-src/style-src/default-src in {header!r}"
    for source in scripts + styles + directives.get("default-src", []):
        assert source not in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"), \
            f"{path}: {source} in {header!r}"
    assert "'unsafe-inline'" not in header.lower() and "'unsafe-eval'" not in header.lower()
    assert directives.get("frame-ancestors") in (["'none'"], ["'self'"]), "the page can be framed"
    assert directives.get("object-src", directives.get("default-src")) in (["'none'"], ["'self'"])
    assert "base-uri" in directives
    assert answer.headers.get("x-content-type-options", "").lower() == "nosniff"
    assert answer.headers.get("referrer-policy", "").lower() == "no-referrer", \
        "the receipt token must never travel in a Referer"


class _InlineCode(HTMLParser):
    """Finds what a strict policy would block: inline scripts and styles, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self._in = "script"
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if value and re.match(r"\s*javascript:", value, re.IGNORECASE):
                self.found.append(f"{tag} {name}=javascript:")
            if name in ("src", "href") and value and re.match(r"\s*(https?:)?//", value, re.IGNORECASE):
                self.found.append(f"{tag} {name} from another origin: {value}")

    def handle_data(self, data):
        if self._in == "script" and data.strip():
            self.found.append("inline <script>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = None


@pytest.mark.parametrize("path", PAGES)
async def test_a_page_needs_nothing_its_policy_forbids(probe, path):
    answer = await probe.request("intake", "GET", path, expect=200, what="page", hostile=False, inspect_body=False)
    parser = _InlineCode()
    parser.feed(answer.text)
    assert not parser.found, f"{path}: {parser.found}"


async def test_the_pages_scripts_are_served_with_the_same_policy(probe):
    html = (await probe.request("intake", "GET", "/", expect=200, what="page", hostile=False, inspect_body=False)).text
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts
    for src in scripts:
        answer = await probe.request("intake", "GET", src, expect=200, what="script", hostile=False, inspect_body=False)
        assert "javascript" in answer.headers["content-type"]
        assert answer.headers.get("x-content-type-options", "").lower() == "nosniff"
        assert not re.search(r"(?<![\w.])eval\(|new Function\(", answer.text), f"{src} evaluates strings"


MARKUP = "<script>alert(document.domain)</script><img src=x onerror=alert(1)>"


async def test_hostile_markup_comes_back_only_as_json(probe, tokens):
    """Wherever input is echoed (errors, ids, names), the answer is JSON with nosniff, never HTML."""
    answers = [
        await probe.request("intake", "GET", f"/api/v1/letters/{MARKUP}", expect=404, what="markup id",
                            params={"receipt_token": MARKUP}),
        await probe.request("intake", "POST", "/api/v1/letters", expect=422, what="markup field",
                            json=letter(**{MARKUP: 1})),
        await probe.request("intake", "POST", "/api/v1/letters", expect=404, what="markup prisoner",
                            json=letter(prisoner_id=MARKUP[:64])),
        await probe.request("intake", "POST", "/api/v1/letters/check", expect=200, what="markup letter",
                            json=letter(body=MARKUP)),
        await probe.request("intake", "POST", "/api/v1/events", expect=422, what="markup event",
                            json={"id": MARKUP, "name": MARKUP}, headers=bearer(tokens["admin"])),
        await probe.request("intake", "GET", f"/{MARKUP}", expect=404, what="markup path"),
    ]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/json"), answer.request.url
        assert "text/html" not in answer.headers["content-type"]
