"""A real Chromium (Debian's, no browser downloads) driven by Playwright against the session's stack.

The async Playwright API is used throughout: pytest-asyncio runs one session-wide event loop, in
which the sync API cannot run. Screenshots go to $BROWSER_SCREENSHOTS (default: a folder under the
system's temp directory), never into the repository.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from tests.browser.operators import Operators
from tests.support import eventually

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", Path(tempfile.gettempdir()) / "letters-screenshots"))
# Failed API calls are expected (offline tests, a wrong receipt link answered 404) and the pages
# handle them; any other console error, such as a missing asset, is not.
EXPECTED_CONSOLE = re.compile(r"net::ERR_INTERNET_DISCONNECTED")


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: scripts/test installs Debian's chromium, or set CHROMIUM_PATH")
    return path


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@dataclass
class PageProblems:
    """Uncaught errors, CSP violations and unexpected console errors seen by a context's pages."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.errors.append(f"CSP: {text}")
        elif message.type == "error" and not (
            EXPECTED_CONSOLE.search(text) or "/api/" in (message.location or {}).get("url", "")
        ):
            self.errors.append(f"console error: {text}")


@dataclass
class Browsing:
    context: BrowserContext
    base_url: str
    problems: PageProblems

    async def new_page(self) -> Page:
        return await self.context.new_page()  # watched through the context's "page" event


@asynccontextmanager
async def open_context(browser: Browser, base_url: str, **options) -> AsyncIterator[Browsing]:
    """A fresh browser profile (empty storage); fails the test on page errors or CSP violations."""
    options = {"locale": "en-GB", "viewport": {"width": 1280, "height": 900}, **options}
    context = await browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(15_000)
    problems = PageProblems()
    context.on("page", problems.watch)
    try:
        yield Browsing(context, base_url, problems)
    finally:
        await context.close()
    assert problems.errors == [], "\n".join(problems.errors)


@pytest.fixture
async def web(browser: Browser, stack) -> AsyncIterator[Browsing]:
    """A fresh browser profile (empty storage) for one test, English by default."""
    async with open_context(browser, stack.url("intake")) as browsing:
        yield browsing


async def page_until(page: Page, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression (which may be a promise) until it is truthy.

    Page.wait_for_function would poll with eval(), which the pages' CSP rightly refuses.
    """

    async def holds() -> bool:
        return bool(await page.evaluate(expression))

    await eventually(holds, timeout, expression)


# A phone's width: every staff page must fit it without scrolling sideways.
PHONE = {"width": 390, "height": 844}


async def no_horizontal_overflow(page: Page) -> None:
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


@pytest.fixture
async def operators(stack) -> AsyncIterator[Operators]:
    """The operators' side of the stack; the prisoners it made leave the writers' list afterwards."""
    staff = Operators(stack)
    yield staff
    await staff.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
