"""The moderators' page with the production policy (tests/conftest.py `campaign_stack`), in a real
Chromium: the approve key opens a dialog that lists block-level findings and only ticking each
and confirming approves; an approval waits in "going to delivery" with Undo; the two lanes; the
name and city shown as printed, with their findings, and corrected in place; the agreement figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Browsing, open_context
from tests.e2e.test_moderation import staff_token
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FLAGGED = "Здравствуйте! Держитесь, мы с вами. Слава Украине! Обнимаем."
CLEAN = "Добрый день! У нас цветут каштаны, и мы вспоминаем вас. Желаем здоровья."


@pytest.fixture
async def moderation_page(browser, campaign_stack) -> AsyncIterator[Browsing]:
    async with open_context(browser, campaign_stack.url("sorting"), viewport={"width": 1366, "height": 1000}) as web:
        yield web


async def submit(stack, body: str, *, city: str = "Львов", prisoner_id: str = "p_demo_01") -> dict:
    letter = {"prisoner_id": prisoner_id, "body": body, "client_ref": str(uuid.uuid4()),
              "author": {"display_name": "Марта", "city": city}, "source": {"channel": "web"}}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        answer = await intake.post("/api/v1/letters", json=letter)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def moderation_api(stack, token: str, path: str, **params) -> dict | None:
    async with httpx.AsyncClient(base_url=stack.url("sorting"), timeout=30) as sorting:
        answer = await sorting.get(f"/api/v1/moderation{path}", params=params,
                                   headers={"Authorization": f"Bearer {token}"})
    return answer.json() if answer.status_code == 200 else None


async def state_of(stack, token: str, letter_id: str) -> str | None:
    letter = await moderation_api(stack, token, f"/letters/{letter_id}")
    return letter["state"] if letter else None


async def wait_for_state(stack, token: str, letter_id: str, state: str) -> None:
    async def reached() -> bool:
        return await state_of(stack, token, letter_id) == state

    await eventually(reached, 30, f"letter {letter_id} to be {state}")


async def signed_in(web: Browsing, token: str) -> Page:
    page = await web.new_page()
    await page.goto("/moderation")
    await page.get_by_label("Токен персоналу").fill(token)
    await page.get_by_role("button", name="Увійти").click()
    await expect(page.locator("#desk")).to_be_visible()
    return page


def queued(page: Page, letter_id: str):
    return page.locator(f'.queue-item[data-letter-id="{letter_id}"]')


async def open_letter(page: Page, letter_id: str) -> None:
    await queued(page, letter_id).locator("button.open").click()
    await expect(page.locator("#letter")).to_have_attribute("data-letter-id", letter_id)


async def test_the_approve_key_opens_a_dialog_and_only_confirming_each_block_finding_approves(
    moderation_page, campaign_stack, screenshot_dir
):
    token = await staff_token(campaign_stack, "moderator")
    accepted = await submit(campaign_stack, FLAGGED, city="+380671234567")
    await wait_for_state(campaign_stack, token, accepted["id"], "review_needed")
    page = await signed_in(moderation_page, token)
    await open_letter(page, accepted["id"])
    dialog = page.locator("#confirm-dialog")

    await page.locator("#letter-text").click()
    await page.keyboard.press("a")

    await expect(dialog).to_be_visible()
    items = dialog.locator(".confirm-item")
    await expect(items).to_have_count(2)
    await expect(items.filter(has_text="у місті")).to_contain_text("+380671234567")
    await expect(items.filter(has_text="у тексті")).to_contain_text("Слава Украине")
    await expect(page.locator("#confirm-approve")).to_be_disabled()
    await page.screenshot(path=screenshot_dir / "moderation-confirm-block-findings.png")
    for key in ("a", "Enter"):  # no key approves: Enter is on Cancel, which closes the dialog
        await page.keyboard.press(key)
    await expect(dialog).to_be_hidden()
    assert await state_of(campaign_stack, token, accepted["id"]) == "review_needed"

    await page.keyboard.press("a")
    await items.nth(0).locator("input").check()
    await expect(page.locator("#confirm-approve")).to_be_disabled()
    await items.nth(1).locator("input").check()
    await page.locator("#confirm-approve").click()

    await expect(page.locator("#notice")).to_contain_text("піде на доставку через")
    assert await state_of(campaign_stack, token, accepted["id"]) == "approved"
    going = page.locator(f'.going-item[data-letter-id="{accepted["id"]}"]')
    await expect(going.locator(".countdown")).to_contain_text("йде на доставку через 00:")
    await going.get_by_role("button", name="Повернути").click()
    await expect(page.locator("#notice")).to_contain_text("Повернуто")
    await wait_for_state(campaign_stack, token, accepted["id"], "review_needed")
    await expect(going).to_have_count(0)
    await expect(queued(page, accepted["id"])).to_have_count(1)


async def test_clean_letters_wait_in_the_fast_lane_and_flagged_ones_in_the_careful_lane(
    moderation_page, campaign_stack, screenshot_dir
):
    token = await staff_token(campaign_stack, "moderator")
    clean, flagged = await submit(campaign_stack, CLEAN), await submit(campaign_stack, FLAGGED)
    for accepted in (clean, flagged):
        await wait_for_state(campaign_stack, token, accepted["id"], "review_needed")
    page = await signed_in(moderation_page, token)
    lanes = (await moderation_api(campaign_stack, token, "/letters"))["lanes"]

    await expect(page.locator("#lane-careful")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#count-careful")).to_have_text(f"({lanes['careful']})")
    await expect(page.locator("#count-fast")).to_have_text(f"({lanes['fast']})")
    await expect(queued(page, flagged["id"])).to_have_count(1)
    await expect(queued(page, clean["id"])).to_have_count(0)

    await page.locator("#lane-fast").click()

    await expect(page.locator("#lane-fast")).to_have_attribute("aria-selected", "true")
    await expect(queued(page, clean["id"])).to_have_count(1)
    await expect(queued(page, flagged["id"])).to_have_count(0)
    await queued(page, clean["id"]).locator("input.choose").check()
    await page.get_by_role("button", name="Схвалити вибрані чисті листи (1)").click()
    await expect(page.locator("#notice")).to_contain_text("Схвалено листів: 1.")
    assert await state_of(campaign_stack, token, clean["id"]) == "approved"
    await expect(page.locator(f'.going-item[data-letter-id="{clean["id"]}"]')).to_have_count(1)
    await page.screenshot(path=screenshot_dir / "moderation-fast-lane-going-to-delivery.png", full_page=True)


async def test_the_name_and_city_are_shown_as_printed_with_their_findings_and_can_be_corrected(
    moderation_page, campaign_stack
):
    token = await staff_token(campaign_stack, "moderator")
    accepted = await submit(campaign_stack, CLEAN, city="Львов, +380671234567")
    await wait_for_state(campaign_stack, token, accepted["id"], "review_needed")
    page = await signed_in(moderation_page, token)
    await open_letter(page, accepted["id"])
    signature = page.locator("#letter-signature")
    seen = await moderation_api(campaign_stack, token, f"/letters/{accepted['id']}")

    await expect(signature).to_have_text(f"Підпис: {seen['signature']}")
    await expect(signature.locator('[data-field="writer_city"] mark')).to_contain_text("+380671234567")
    await expect(page.locator('#letter-findings .finding[data-field="writer_city"]').first).to_contain_text("у місті")

    await page.get_by_role("button", name="Виправити місто…").click()
    await page.locator("#field-value").fill("Львов")
    await page.keyboard.press("Enter")

    await expect(signature).to_have_text("Підпис: Марта, Львов")
    await expect(signature.locator("mark")).to_have_count(0)
    view = await moderation_api(campaign_stack, token, f"/letters/{accepted['id']}")
    assert (view["writer_city"], view["original_writer_city"], view["revision"]) == ("Львов", "Львов, +380671234567", 1)
    assert view["history"][-1]["field"] == "writer_city"


async def test_the_agreement_panel_shows_the_figures_over_the_last_n_decided_letters(moderation_page, campaign_stack):
    token = await staff_token(campaign_stack, "moderator")
    accepted = await submit(campaign_stack, FLAGGED)
    await wait_for_state(campaign_stack, token, accepted["id"], "review_needed")
    async with httpx.AsyncClient(base_url=campaign_stack.url("sorting"), timeout=30) as sorting:
        rejected = await sorting.post(f"/api/v1/moderation/letters/{accepted['id']}/reject",
                                      json={"reason": "лозунги"}, headers={"Authorization": f"Bearer {token}"})
    assert rejected.status_code == 200, rejected.text
    page = await signed_in(moderation_page, token)

    for last in ("200", "1"):
        await page.locator("#agreement-last").fill(last)
        await page.locator("#agreement-last").press("Enter")
        figures = await moderation_api(campaign_stack, token, "/agreement", last=last)
        await expect(page.locator("#agreement-decided")).to_have_text(str(figures["decided"]))
        for name, element in (("agreed", "#agreement-agreed"), ("missed_by_screening", "#agreement-missed"),
                              ("flagged_needlessly", "#agreement-needless")):
            await expect(page.locator(element)).to_have_text(re.compile(rf"^{figures[name]['count']} \(\d+,\d\s?%\)$"))
    assert figures["decided"] == 1
