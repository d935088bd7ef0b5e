"""The receipt page closes the loop, in a real Chromium in the Ukrainian, English and Russian
interfaces: the moderator's reason and note, the letter as printed, correcting a rejected letter
and sending it again (once, however often the button is pressed), and withdrawing a letter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, expect
from pymongo import AsyncMongoClient

from shared.rejection_reasons import rejection_reasons
from tests.browser.conftest import Browsing, open_context
from tests.e2e.test_moderation import CLEAN, FLAGGED, staff_token
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOCALES = {"uk": "uk-UA", "en": "en-GB", "ru": "ru-RU"}
NOTE = "Уберите, пожалуйста, фразу с лозунгом."
CORRECTED = "Здравствуйте, Ремзи! Держитесь, мы с вами. Обнимаем вас всей семьёй, весной ждём вестей."


@pytest.fixture(params=list(LOCALES))
async def writer(request, browser: Browser, stack) -> AsyncIterator[tuple[str, Browsing]]:
    """A writer's fresh browser profile in one of the three interface languages."""
    async with open_context(browser, stack.url("intake"), locale=LOCALES[request.param]) as browsing:
        yield request.param, browsing


async def submit(stack, body: str) -> dict:
    letter = {"prisoner_id": "p_demo_01", "body": body, "client_ref": str(uuid.uuid4()),
              "author": {"display_name": "Оксана", "city": "Полтава"}, "source": {"channel": "web"}}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        answer = await intake.post("/api/v1/letters", json=letter)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def sorting_state(stack, letter_id: str, *states: str) -> None:
    moderator = {"Authorization": f"Bearer {await staff_token(stack, 'moderator')}"}
    async with httpx.AsyncClient(base_url=stack.url("sorting"), headers=moderator, timeout=30) as sorting:
        async def reached() -> bool:
            answer = await sorting.get(f"/api/v1/moderation/letters/{letter_id}")
            return answer.status_code == 200 and answer.json()["state"] in states

        await eventually(reached, 30, f"letter {letter_id} to be {' or '.join(states)} in sorting")


async def reject(stack, letter_id: str, code: str, note: str) -> None:
    await sorting_state(stack, letter_id, "review_needed")
    moderator = {"Authorization": f"Bearer {await staff_token(stack, 'moderator')}"}
    async with httpx.AsyncClient(base_url=stack.url("sorting"), headers=moderator, timeout=30) as sorting:
        answer = await sorting.post(f"/api/v1/moderation/letters/{letter_id}/reject",
                                    json={"reason_code": code, "note": note})
    assert answer.status_code == 200, answer.text


async def interface_strings(page, lang: str) -> dict[str, str]:
    """The page's own catalogue (strings.js), so the test reads what a writer reads in that language."""
    return await page.evaluate("async (lang) => (await import('/static/strings.js')).STRINGS[lang]", lang)


def link(accepted: dict) -> str:
    return f"/receipt?refresh=1#{accepted['id']}.{accepted['receipt_token']}"


async def versions_after(stack, letter_id: str) -> int:
    mongo = AsyncMongoClient(stack.infra.mongodb_url, tz_aware=True)
    try:
        return await mongo[f"{stack.infra.namespace}-intake"]["letters"].count_documents({"previous_version": letter_id})
    finally:
        await mongo.close()


async def test_a_rejected_letter_shows_its_reason_and_is_corrected_and_sent_again_once(writer, stack, screenshot_dir):
    lang, browsing = writer
    first = await submit(stack, FLAGGED)
    await reject(stack, first["id"], "slogan_or_symbol", NOTE)
    page = await browsing.new_page()

    await page.goto(link(first))
    text = await interface_strings(page, lang)
    await expect(page.locator("#status")).to_have_text(text["status.rejected"], timeout=30_000)
    await expect(page.locator("#receipt-reason-text")).to_have_text(
        rejection_reasons().get("slogan_or_symbol").writer.in_(lang))
    await expect(page.locator("#receipt-reason-note")).to_contain_text(NOTE)
    await expect(page.locator("#receipt-withdraw")).to_be_hidden()

    await page.screenshot(path=screenshot_dir / f"receipt-rejected-{lang}.png", full_page=True)

    await page.locator("#receipt-resend").click()
    await expect(page.locator("#receipt-resend-text")).to_have_value(FLAGGED)
    await page.locator("#receipt-resend-text").fill(CORRECTED)
    await page.locator("#receipt-resend-submit").dblclick()

    # The same link now shows the new version, printed as written (clean letters go straight on
    # in this stack), with the rejected first version listed below it.
    await expect(page.locator("#receipt-printed-text")).to_have_text(CORRECTED, timeout=30_000)
    await expect(page.locator("#receipt-printed-note")).to_have_text(text["receipt.printedAsWritten"])
    await expect(page.locator("#receipt-version-now")).to_have_text(text["receipt.versionNow"].replace("{n}", "2"))
    await expect(page.locator(".receipt-version")).to_have_count(1)
    await expect(page.locator(".receipt-version .letter-text")).to_have_text(FLAGGED)
    await expect(page.locator("#receipt-reason")).to_be_hidden()
    await expect(page.locator("#receipt-resend")).to_be_hidden()
    assert await versions_after(stack, first["id"]) == 1
    await page.screenshot(path=screenshot_dir / f"receipt-sent-again-{lang}.png", full_page=True)


async def test_a_letter_in_review_is_withdrawn_and_a_printed_one_is_too_late(writer, stack):
    lang, browsing = writer
    in_review = await submit(stack, FLAGGED)
    await sorting_state(stack, in_review["id"], "review_needed")
    page = await browsing.new_page()

    await page.goto(link(in_review))
    text = await interface_strings(page, lang)
    await page.locator("#receipt-withdraw").click()
    await page.locator("#receipt-withdraw-yes").click()
    await expect(page.locator("#receipt-withdrawal")).to_have_text(text["receipt.withdrawal.withdrawn"], timeout=30_000)
    await expect(page.locator("#status")).to_have_text(text["status.withdrawn"])
    await expect(page.locator("#timeline")).to_contain_text(text["status.withdrawal_requested"])
    await expect(page.locator("#receipt-withdraw")).to_be_hidden()
    await sorting_state(stack, in_review["id"], "withdrawn")

    # A clean letter goes straight to print here: the page offers no withdrawal, and a request
    # sent anyway (as from a page opened earlier) is answered "too late".
    printed = await submit(stack, CLEAN)
    await page.goto(link(printed))
    await expect(page.locator("#receipt-printed-text")).to_have_text(CLEAN, timeout=30_000)
    await expect(page.locator("#receipt-withdraw")).to_be_hidden()
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        asked = await intake.post(f"/api/v1/letters/{printed['id']}/withdrawal",
                                  params={"receipt_token": printed["receipt_token"]})
    assert asked.status_code == 202
    await expect(page.locator("#receipt-withdrawal")).to_have_text(
        text["receipt.withdrawal.refused.already_scanned"], timeout=30_000)
