"""The intermediary's confirmation page in a real Chromium at phone size with JavaScript switched
off, as a relative or lawyer opens it on an old phone: in Russian (the default) and in Ukrainian,
letter by letter, with a reason, undo, and nothing wider than the screen. Each state the page can
be in is audited with axe-core like every other page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.browser.conftest import Browsing, open_context
from tests.browser.operators import Operators
from tests.browser.test_every_page import SERIOUS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}


async def sent_bundle(stack, name_ru: str, letters: int) -> str:
    """A manual bundle of `letters` letters marked sent: the path of its intermediary's link."""
    operators = Operators(stack)
    try:
        return await operators.confirmation_path(name_ru, letters)
    finally:
        await operators.close()


@dataclass
class Phone:
    """A phone with JavaScript off, and beside it a browser that audits what the phone shows."""

    browsing: Browsing
    auditor: Page

    async def new_page(self) -> Page:
        return await self.browsing.new_page()

    async def looks_right(self, page: Page) -> None:
        """No sideways scrolling on the phone, and no serious or critical accessibility violation.

        axe-core is a script and cannot run where scripts are off, so the phone's page (markup and
        stylesheet, which no script ever changes here) is audited as a copy at the same address."""
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
        html = await page.content()
        await self.auditor.goto(page.url)
        await self.auditor.set_content(html)
        assert await self.auditor.locator("main").inner_text() == await page.locator("main").inner_text()
        results = await Axe().run(self.auditor)
        serious = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
                   if v["impact"] in SERIOUS]
        assert serious == []


def without_error_pages(browsing: Browsing) -> None:
    # A refused answer is a 422 page and a late undo a 409 one: the page itself, as it should be.
    browsing.problems.errors[:] = [e for e in browsing.problems.errors
                                   if "status of 422" not in e and "status of 409" not in e]


@pytest.fixture
async def phone(browser, stack) -> AsyncIterator[Phone]:
    origin = stack.url("delivery")
    device = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "locale": "ru-RU"}
    async with open_context(browser, origin, java_script_enabled=False, **device) as browsing, \
            open_context(browser, origin, **device) as auditing:
        yield Phone(browsing, await auditing.new_page())
        without_error_pages(browsing)
        without_error_pages(auditing)


async def test_in_russian_some_letters_are_handed_over_one_blocked_and_one_undone(phone: Phone, stack,
                                                                                  screenshot_dir):
    path = await sent_bundle(stack, "Эскендер Телефонов", 3)
    page = await phone.new_page()

    await page.goto(path)
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.locator("h1")).to_have_text("Передача писем")
    await expect(page.locator("#summary")).to_contain_text("Эскендер Телефонов: 3 письма, отправлены")
    await expect(page.locator("#per-letter fieldset")).to_have_count(3)
    await phone.looks_right(page)

    await page.locator('input[name="letter-1"][value="handed_over"]').check()
    await page.locator('input[name="letter-2"][value="blocked"]').check()
    await page.locator("#reason-2").fill("Цензор не пропустил")
    await page.locator("#save-letters").click()

    await expect(page.locator("#notice")).to_contain_text("Сохранено")
    await expect(page.locator("#letter-1 .outcome")).to_have_text("передано")
    await expect(page.locator("#letter-2")).to_contain_text("Причина: Цензор не пропустил")
    await expect(page.locator("#letter-2 .time-left")).to_contain_text("Время на отмену: 10 минут")
    await expect(page.locator("#handed-over")).to_have_text("Я передал(а) остальные письма (1)")
    await phone.looks_right(page)
    await page.screenshot(path=screenshot_dir / "confirmation-ru-phone-answered.png", full_page=True)

    await page.locator("#letter-2 form.undo button").click()

    await expect(page.locator("#notice")).to_contain_text("Отметка отменена")
    await expect(page.locator("#per-letter fieldset")).to_have_count(2)
    await expect(page.locator("#letter-2 legend")).to_contain_text("Письмо 2 для Эскендер Телефонов")
    await expect(page.locator("#answered li")).to_have_count(1)
    await phone.looks_right(page)


async def test_in_ukrainian_a_return_needs_a_reason_and_the_rest_is_handed_over_at_once(phone: Phone, stack,
                                                                                         screenshot_dir):
    path = await sent_bundle(stack, "Наріман Мобільний", 2)
    page = await phone.new_page()
    await page.goto(path)

    await page.get_by_role("link", name="Українська").click()

    await expect(page.locator("html")).to_have_attribute("lang", "uk")
    await expect(page.locator("h1")).to_have_text("Передача листів")
    await expect(page.locator("#summary")).to_contain_text("2 листи, надіслано")
    await phone.looks_right(page)

    await page.locator('input[name="letter-2"][value="returned"]').check()
    await page.locator("#save-letters").click()

    await expect(page.locator("#problems")).to_contain_text("Напишіть коротко, чому лист не вдалося передати")
    await expect(page.locator("#reason-2")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator('input[name="letter-2"][value="returned"]')).to_be_checked()
    await phone.looks_right(page)
    await page.screenshot(path=screenshot_dir / "confirmation-uk-phone-problem.png", full_page=True)

    await page.locator("#reason-2").fill("Повернули з колонії поштою")
    await page.locator("#save-letters").click()
    await expect(page.locator("#letter-2 .outcome")).to_have_text("повернули")
    await page.locator("#handed-over").click()

    await expect(page.locator("h1")).to_have_text("Дякуємо!")
    await expect(page.locator("#thanks")).to_contain_text("Усі листи позначено")
    await expect(page.locator("#answered li")).to_have_count(2)
    await expect(page.locator("#undo-all")).to_have_text("Скасувати всі позначки")
    await phone.looks_right(page)

    # The choice is remembered: the same link opened again is still in Ukrainian.
    await page.goto(path)
    await expect(page.locator("html")).to_have_attribute("lang", "uk")
