"""The translators' page in a real Chromium against the real services: sign in with a translator's
token, pick a German letter from the queue by language, read the original beside the text box, see
the Russian screened while typing, and submit it to the moderators."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.e2e.test_moderation import staff_token
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GERMAN = ("Liebe Elmira, wir denken oft an dich. Im Garten blühen die Rosen, und die Katze schläft in der "
          "Sonne. Wir warten auf dich!")
RUSSIAN = "Дорогая Эльмира, мы часто думаем о вас. В саду цветут розы, а кошка спит на солнце. Мы ждём вас!"


@pytest.fixture
async def translation_browser(browser: Browser, stack) -> AsyncIterator[BrowserContext]:
    """A Ukrainian profile on sorting's origin; any uncaught error or CSP violation fails the test."""
    async with open_context(browser, stack.url("sorting"), locale="uk-UA",
                            viewport={"width": 1366, "height": 900}) as browsing:
        yield browsing.context


async def submit_german(stack) -> dict:
    letter = {"prisoner_id": "p_demo_01", "body": GERMAN, "client_ref": str(uuid.uuid4()),
              "author": {"display_name": "Anna", "city": "Berlin"}, "source": {"channel": "web"},
              "translation_requested": True}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        answer = await intake.post("/api/v1/letters", json=letter)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_translator_translates_a_german_letter_in_the_ukrainian_interface(translation_browser, stack):
    token = await staff_token(stack, "translator")
    translator = {"Authorization": f"Bearer {token}"}
    accepted = await submit_german(stack)
    async with httpx.AsyncClient(base_url=stack.url("sorting"), headers=translator) as sorting:
        async def waiting() -> bool:
            return (await sorting.get(f"/api/v1/translation/letters/{accepted['id']}")).status_code == 200

        await eventually(waiting, 30, "the German letter to wait for a translator")
    page = await translation_browser.new_page()

    await page.goto("/translation")
    await expect(page.locator("#sign-in h2")).to_have_text("Вхід")  # Ukrainian first
    await page.locator("#token").fill(token)
    await page.locator("#token").press("Enter")
    await expect(page.locator("#desk")).to_be_visible()
    await page.locator("#filter-lang").select_option("de")
    item = page.locator(".queue-item", has_text="Liebe Elmira")
    await expect(item.first).to_be_visible()
    await item.first.locator("button.open").click()
    await expect(page.locator("#original-text")).to_have_text(GERMAN)
    await expect(page.locator("#letter-signature")).to_contain_text("Anna, Berlin")

    await page.locator("#translation-text").fill(RUSSIAN + " Слава Украине!")
    await expect(page.locator("#draft-findings .finding.block")).to_have_count(1)
    await page.locator("#translation-text").fill(RUSSIAN)
    await expect(page.locator("#draft-findings .finding.clean")).to_be_visible()
    await page.get_by_role("button", name="Надіслати переклад").click()

    await expect(page.locator("#notice")).to_contain_text("передано модератору")
    await expect(page.locator(".queue-item", has_text="Liebe Elmira")).to_have_count(0)
    moderator = {"Authorization": f"Bearer {await staff_token(stack, 'moderator')}"}
    async with httpx.AsyncClient(base_url=stack.url("sorting"), headers=moderator) as sorting:
        seen = (await sorting.get(f"/api/v1/moderation/letters/{accepted['id']}")).json()
    assert (seen["state"], seen["text"], seen["original_text"]) == ("review_needed", RUSSIAN, GERMAN)
    assert seen["translation"]["by"] == "test-translator"

    # Approved (this stack sends it on at once): the writer's receipt shows the Russian as printed,
    # says a volunteer translated it, and keeps what the writer sent beside it.
    async with httpx.AsyncClient(base_url=stack.url("sorting"), headers=moderator) as sorting:
        approved = await sorting.post(f"/api/v1/moderation/letters/{accepted['id']}/approve",
                                      json={"revision": seen["revision"]})
    assert approved.status_code == 200, approved.text
    receipt = await translation_browser.new_page()
    await receipt.goto(f"{stack.url('intake')}/receipt?refresh=1#{accepted['id']}.{accepted['receipt_token']}")
    await expect(receipt.locator("#receipt-printed-text")).to_have_text(RUSSIAN, timeout=30_000)
    await expect(receipt.locator("#receipt-printed-note")).to_contain_text("переклав")
    await expect(receipt.locator("#receipt-original-text")).to_have_text(GERMAN)
    await expect(receipt.locator("#timeline")).to_contain_text("Чекає на переклад")


async def test_on_a_phone_the_translators_page_fits_and_switches_language(browser, stack):
    token = await staff_token(stack, "translator")
    async with open_context(browser, stack.url("sorting"), viewport=PHONE) as browsing:
        page = await browsing.new_page()
        await page.goto("/translation")
        await page.locator("#token").fill(token)
        await page.locator("#token").press("Enter")
        await expect(page.locator("#queue-title")).to_have_text("Чекають на переклад")
        await no_horizontal_overflow(page)
        await page.locator("#lang-switch button[data-lang=ru]").click()
        await expect(page.locator("#queue-title")).to_have_text("Ждут перевода")
        await page.reload()  # the choice is remembered
        await expect(page.locator("#queue-title")).to_have_text("Ждут перевода")
        await no_horizontal_overflow(page)
