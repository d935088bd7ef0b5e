"""The live moderation queue, in the Ukrainian interface at desktop and phone size: a letter that
arrives while a moderator types a rejection reason shows up (and is announced) without a reload, one
another moderator decided leaves the list, and the moderator's typing, focus and open letter survive."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.browser.test_moderation_page import (
    FLAGGED,
    open_letter,
    sign_in,
    sorting_state,
    submit,
    wait_for_state,
)
from tests.e2e.test_moderation import staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONFIRM_SLOGAN = [{"rule": "slogans.glory_to_ukraine", "field": "body"}]
REASON = "Лозунги в письме; напишите, пожалуйста, о себе"
# The page asks every 5 s; a letter's way through intake and sorting takes a few more.
ARRIVES_S = 30_000


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, PHONE], ids=["desktop", "phone"])
async def test_a_new_letter_shows_up_while_a_reject_reason_is_typed_and_the_typing_survives(browser, stack, viewport):
    from axe_playwright_python.async_playwright import Axe

    token = await staff_token(stack, "moderator")
    reading = await submit(stack, FLAGGED + " Первое письмо.")
    decided_elsewhere = await submit(stack, FLAGGED + " Второе письмо.")
    for accepted in (reading, decided_elsewhere):
        await wait_for_state(stack, token, accepted["id"], "review_needed")
    async with open_context(browser, stack.url("sorting"), viewport=viewport) as browsing:
        page = await browsing.new_page()
        await sign_in(page, token)
        await open_letter(page, reading["id"])
        await page.locator("#letter-text").click()
        await page.keyboard.press("r")
        reason = page.locator("#reject-reason")
        await expect(reason).to_be_focused()
        await page.keyboard.type(REASON)

        arriving = await submit(stack, FLAGGED + " Третье письмо, пришло только что.")
        async with httpx.AsyncClient(base_url=stack.url("sorting"), timeout=30) as sorting:
            approved = await sorting.post(f"/api/v1/moderation/letters/{decided_elsewhere['id']}/approve",
                                          json={"confirmed_findings": CONFIRM_SLOGAN},
                                          headers={"Authorization": f"Bearer {token}"})
        assert approved.status_code == 200, approved.text

        new_item = page.locator(f'.queue-item[data-letter-id="{arriving["id"]}"]')
        await expect(new_item).to_have_count(1, timeout=ARRIVES_S)
        await expect(new_item.locator(".badge.fresh")).to_have_text("новий")
        await expect(page.locator("#arrivals")).to_have_text("Нових листів: 1")
        await expect(page.locator(f'.queue-item[data-letter-id="{decided_elsewhere["id"]}"]')).to_have_count(
            0, timeout=ARRIVES_S)
        # Nothing the moderator was doing moved: the same letter, the form, the focus and every letter typed.
        await expect(page.locator("#letter")).to_have_attribute("data-letter-id", reading["id"])
        await expect(page.locator("#reject-form")).to_be_visible()
        await expect(reason).to_be_focused()
        await expect(reason).to_have_value(REASON)
        await no_horizontal_overflow(page)
        results = await Axe().run(page)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious

        await page.keyboard.type(" и о доме.")
        await page.keyboard.press("Enter")
        await expect(page.locator("#notice")).to_contain_text("відхилено")
        await wait_for_state(stack, token, reading["id"], "rejected")
        # The letter that arrived was never acted on: it waits for someone to read it.
        assert await sorting_state(stack, token, arriving["id"]) == "review_needed"
        async with httpx.AsyncClient(base_url=stack.url("sorting")) as sorting:
            rejected = (await sorting.get(f"/api/v1/moderation/letters/{reading['id']}",
                                          headers={"Authorization": f"Bearer {token}"})).json()
        assert rejected["reason"] == REASON + " и о доме."

        # Opened, it is no longer new.
        await open_letter(page, arriving["id"])
        await expect(new_item.locator(".badge.fresh")).to_have_count(0)
        await expect(page.locator("#arrivals")).to_have_text("")
