"""The kiosk as a writing table at an event: staff choose N, the kiosk offers only the N prisoners most in
need by the fair-attention order and spreads visitors across them. A real Chromium, the real services."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.kiosk import open_staff_panel
from tests.browser.test_kiosk_page import kiosk_browser, set_up_kiosk, write_letter  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LETTER = "Добрый день! Сегодня солнечно, на площади играет скрипач. Обнимаем вас."


@pytest.fixture
async def enough_prisoners(stack) -> None:
    """More prisoners than the table offers, whatever other tests left in the directory."""
    headers = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=headers, timeout=30) as client:
        for number in range(6):
            answer = await client.post("/api/v1/prisoners", json={
                "id": f"p_{uuid.uuid4().hex[:8]}", "status": "detained",
                "names": {"uk": f"Стіл {number}", "ru": f"Стол {number}", "en": f"Table {number}"}})
            assert answer.status_code == 201, answer.text


async def most_in_need(stack, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as client:
        return [p["id"] for p in (await client.get("/api/v1/prisoners")).json() if p["writable"]][:n]


async def choose_table(page: Page, size: str) -> None:
    await open_staff_panel(page)
    await page.get_by_label("Writing table").select_option(size)
    await page.locator("#staff-close").click()


async def offered(page: Page) -> list[str]:
    return [await card.get_attribute("data-prisoner-id") for card in await page.locator("button.kiosk-prisoner").all()]


async def suggested(page: Page) -> str:
    return await page.locator("button.kiosk-prisoner-suggested").get_attribute("data-prisoner-id")


async def test_a_writing_table_offers_only_the_five_most_in_need(kiosk_browser, stack, enough_prisoners,  # noqa: F811
                                                                 screenshot_dir):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack)
    everyone = page.locator("button.kiosk-prisoner")
    await expect(everyone.first).to_be_visible()
    assert await everyone.count() > 5

    await choose_table(page, "5")
    await expect(everyone).to_have_count(5)
    await expect(page.locator("#kiosk-table-lead")).to_be_visible()
    assert sorted(await offered(page)) == sorted(await most_in_need(stack, 5))
    await expect(page.locator("button.kiosk-prisoner-suggested")).to_have_count(1)
    await expect(page.locator("button.kiosk-prisoner-suggested")).to_contain_text("Suggested for you")
    await page.screenshot(path=screenshot_dir / "kiosk-writing-table.png")

    await page.reload()  # the table is a setting of this device
    await expect(everyone).to_have_count(5)
    await choose_table(page, "")
    await expect(everyone).not_to_have_count(5)


async def test_consecutive_visitors_are_sent_to_different_prisoners(kiosk_browser, stack, enough_prisoners):  # noqa: F811
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack)
    await choose_table(page, "5")
    await expect(page.locator("button.kiosk-prisoner")).to_have_count(5)

    first = await suggested(page)
    await write_letter(page, first, LETTER)
    await page.locator("#kiosk-send").click()
    await expect(page.locator("#screen-thanks")).to_be_visible()
    await page.locator("#thanks-new").click()
    await expect(page.locator("#screen-home")).to_be_visible()
    await expect(page.locator("button.kiosk-prisoner")).to_have_count(5)
    # The prisoner written to just now is offered last, if still among the five.
    await expect(page.locator("button.kiosk-prisoner-suggested")).not_to_have_attribute("data-prisoner-id", first)
    cards = await offered(page)
    assert first not in cards or cards[-1] == first, cards

    # Visitors who leave without writing still move the suggestion on, each to someone else.
    previous = await suggested(page)
    seen = {previous}
    for _ in range(3):
        await page.evaluate("window.kiosk.reset()")
        await expect(page.locator("button.kiosk-prisoner-suggested")).not_to_have_attribute(
            "data-prisoner-id", previous)
        previous = await suggested(page)
        seen.add(previous)
    assert len(seen) == 4, seen
