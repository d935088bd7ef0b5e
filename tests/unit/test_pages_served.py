"""Every service's pages, requested in-process (`httpx.ASGITransport` on `create_app`): no server, no
broker, no database is needed to serve a page, since a page carries no data (its JavaScript fetches it)."""

from __future__ import annotations

import httpx
import pytest

from services.delivery.main import create_app as delivery_app
from services.intake.main import create_app as intake_app
from services.sorting.main import create_app as sorting_app

PAGES = [(intake_app, "/"), (intake_app, "/receipt"), (intake_app, "/kiosk"), (intake_app, "/staff/directory-import"),
         (intake_app, "/results"),
         (sorting_app, "/moderation"), (sorting_app, "/translation"), (delivery_app, "/monitor")]


@pytest.mark.parametrize(("make_app", "path"), PAGES, ids=[path for _, path in PAGES])
async def test_a_page_is_whole_html_under_the_strict_policy_and_revalidates_by_etag(make_app, path):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://service") as client:
        first = await client.get(path)
        again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and first.headers["content-type"] == "text/html; charset=utf-8"
    assert first.text.startswith("<!doctype html>") and first.text.rstrip().endswith("</html>")
    assert "{{" not in first.text and "{%" not in first.text  # nothing of the template left unrendered
    policy = first.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert first.headers["cache-control"] == "no-cache" and first.headers["referrer-policy"] == "no-referrer"
    assert again.status_code == 304 and again.content == b""
