"""The staff kit (shared/staff_kit) in a real Chromium: one token key and one answer to 429 on every
staff page. Its own intake with a low limit of wrong tokens under a namespace of its own, so the
session's services (which count wrong tokens from 127.0.0.1 too) are never throttled by it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from deploy.local import free_port, service_env, service_process, wait_ready
from shared.pages import security_headers
from tests.browser.conftest import open_context, page_until
from tests.integration.results.campaign import _remove as remove_intake_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WRONG_TOKENS = 3  # a small limit: the fourth wrong token from the address is answered 429


@pytest.fixture(scope="module")
async def throttling_intake(infra) -> AsyncIterator[str]:
    namespace = f"{infra.namespace}kit"
    log_dir = infra.log_dir / "staff-kit"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**infra.env(), "NAMESPACE": namespace, "S3_BUCKET": f"letters-{namespace}",
           "STAFF_SIGN_IN_LIMIT": f"{WRONG_TOKENS}/minute"}
    port = free_port()
    process = service_process("intake", service_env("intake", env, port), log_dir).start()
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_ready, url)
        yield url
    finally:
        process.terminate()
        await remove_intake_namespace(infra, namespace)


async def test_the_kit_is_served_under_the_pages_own_policy(throttling_intake):
    async with httpx.AsyncClient(base_url=throttling_intake) as http:
        for name in ("kit.js", "i18n.js", "strings.js", "kit.css"):
            answer = await http.get(f"/staff-kit/{name}")
            assert answer.status_code == 200, name
            policy = answer.headers["content-security-policy"]
            assert policy.startswith(security_headers()["Content-Security-Policy"]) and "unsafe" not in policy


async def test_past_the_limit_of_wrong_tokens_the_page_says_how_long_it_waits(browser, throttling_intake):
    async with open_context(browser, throttling_intake) as browsing:
        page = await browsing.new_page()
        await page.goto("/staff/directory-import")
        await expect(page.locator("#token")).to_be_visible()
        for _attempt in range(WRONG_TOKENS + 1):
            await page.evaluate("document.getElementById('sign-in-message').textContent = ''")
            await page.fill("#token", "not-a-token")
            await page.click("#sign-in-form button")
            await page_until(page, "document.getElementById('sign-in-message').textContent"
                                   " || !document.getElementById('notice').hidden")
        # The fourth: not "not accepted" but "too many", with the wait the server's Retry-After gave.
        await expect(page.locator("#notice")).to_have_text(re.compile(r"^Забагато запитів: чекаємо 60 с"))
        await expect(page.locator("#sign-in-message")).to_have_text("")
        assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") is None
