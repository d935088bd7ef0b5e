"""Pairing the kiosk page and opening its staff panel, as a volunteer does: shared by the kiosk's browser tests."""

from __future__ import annotations

from playwright.async_api import Page, expect

# Eight digits: a string that turns up in storage or a request by chance is all but impossible.
PIN = "73915086"


async def pair_kiosk(page: Page, *, pin: str = PIN, language: str | None = None) -> None:
    """On the set-up screen (the token already in its field, from a link or typed): choose the PIN and save."""
    await expect(page.locator("#screen-setup")).to_be_visible()
    await page.locator("#setup-pin").fill(pin)
    await page.locator("#setup-pin-again").fill(pin)
    if language:
        await page.locator("#setup-language").select_option(language)
    await page.locator("#setup-save").click()


async def open_staff_panel(page: Page, pin: str = PIN) -> None:
    await page.locator("#staff-open").click()
    await expect(page.locator("#pin-dialog")).to_be_visible()
    await page.locator("#pin-input").fill(pin)
    await page.locator("#pin-submit").click()
    await expect(page.locator("#staff")).to_be_visible()
