"""The moderators' page offers the rejection presets (shared/rejection_reasons.yaml), shows what the
writer will read, and sends the chosen preset with the note; a note with personal data is refused
and the letter stays in review. Real Chromium, real services."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from shared.rejection_reasons import rejection_reasons
from tests.browser.test_moderation_page import (  # noqa: F401 (the fixture)
    FLAGGED,
    moderation_browser,
    open_letter,
    pytestmark,
    sign_in,
    submit,
    wait_for_state,
)
from tests.e2e.test_moderation import staff_token
from tests.support import eventually

NOTE = "Уберите, пожалуйста, лозунг в конце."


async def test_a_moderator_rejects_with_a_preset_and_a_note_the_writer_sees(moderation_browser, stack):  # noqa: F811
    token = await staff_token(stack, "moderator")
    accepted = await submit(stack, FLAGGED + " Пресет.")
    await wait_for_state(stack, token, accepted["id"], "review_needed")
    page = await moderation_browser.new_page()
    await sign_in(page, token)
    await open_letter(page, accepted["id"])

    await page.locator("#reject").click()
    preset = rejection_reasons().get("slogan_or_symbol")
    await expect(page.locator("#reject-code option")).to_have_count(len(rejection_reasons().reasons))
    await page.locator("#reject-code").select_option("slogan_or_symbol")
    await expect(page.locator("#reject-writer-text")).to_contain_text(preset.writer.uk)
    await page.locator("#reject-reason").fill("Пишите на olena@example.org")
    await page.get_by_role("button", name="Відхилити лист").click()
    await expect(page.locator("#notice")).to_contain_text("e-mail")
    assert (await page.locator("#letter").get_attribute("data-letter-id")) == accepted["id"]

    await page.locator("#reject").click()
    await page.locator("#reject-code").select_option("slogan_or_symbol")
    await page.locator("#reject-reason").fill(NOTE)
    await page.get_by_role("button", name="Відхилити лист").click()
    await expect(page.locator("#notice")).to_contain_text("відхилено")
    await wait_for_state(stack, token, accepted["id"], "rejected")

    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        async def told() -> bool:
            view = (await intake.get(f"/api/v1/letters/{accepted['id']}", params={"receipt_token": accepted["receipt_token"]},
                                     headers={"Accept-Language": "en"})).json()
            return view.get("reason") == {"code": "slogan_or_symbol", "text": preset.writer.en, "note": NOTE,
                                          "fixable": True}

        await eventually(told, 30, "the writer's receipt to give the preset and the note")
