"""The operators' monitor in a real Chromium against the session's services, in its Ukrainian interface: it
shows the queue as the API reports it, updates itself in place without reloading (what an operator types
into a row survives), its actions work, and it fits a phone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PHONE, Browsing, no_horizontal_overflow, open_context
from tests.browser.operators import Operators, next_refresh, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATES = ("queued", "bundled", "sent", "handed_over", "held", "failed", "returned", "blocked")


@pytest.fixture
async def monitor_browser(browser, stack) -> AsyncIterator[Browsing]:
    async with open_context(browser, stack.url("delivery"), viewport={"width": 1440, "height": 1400}) as browsing:
        yield browsing


async def expect_counts_match_the_api(page: Page, operators: Operators) -> None:
    counts = (await operators.monitor())["counts"]
    for state in STATES:
        await expect(page.locator(f"#count-{state}")).to_have_text(str(counts[state]))


async def test_the_monitor_shows_the_queue_updates_by_itself_and_marks_a_manual_bundle_sent(
        monitor_browser: Browsing, operators: Operators, screenshot_dir):
    prisoner_id, intermediary_id, queued = await operators.queued_letters("Ленур Мониторов", 2, capacity=2)
    stranded_id, _ = await operators.prisoner("Али Безмаршрутный", intermediary=False)
    held = await operators.letters(stranded_id, 1)
    await operators.wait(held, "held")
    bundle_id = await operators.build_bundle(intermediary_id)
    await operators.wait(queued, "bundled")

    page = await monitor_browser.new_page()
    await sign_in(page, operators.token)
    await expect(page.locator("#monitor")).to_be_visible()

    await expect_counts_match_the_api(page, operators)
    bundle_row = page.locator("#bundles-ready tbody tr", has_text=bundle_id)
    await expect(bundle_row).to_contain_text("manual")
    await expect(bundle_row.locator("td").nth(4)).to_have_text("2")
    held_row = page.locator("#held tbody tr", has_text=held[0])
    await expect(held_row).to_contain_text("no active intermediary")
    await expect(page.locator("#by-prisoner tbody tr", has_text="Ленур Мониторов")).to_contain_text("2")
    await expect(page.locator("#by-intermediary tbody tr", has_text=intermediary_id[2:])).to_be_visible()
    # Two letters waiting for a lawyer who takes two at a time: a full bundle's worth.
    near = page.locator("#near-capacity tbody tr", has_text=intermediary_id[2:])
    await expect(near.locator("td")).to_have_text([f"Адвокат {intermediary_id[2:]}", prisoner_id, "2", "2", "100%"])
    await expect(page.locator("#status")).to_contain_text("Оновлено о")

    # Live: a new letter appears without reloading the page.
    before = (await operators.monitor())["counts"]["queued"]
    more = await operators.letters(prisoner_id, 1)
    await operators.wait(more, "queued")
    await expect(page.locator("#count-queued")).to_have_text(str(before + 1), timeout=15_000)

    # The operator hands the manual bundle on and marks it sent; the link for the intermediary is shown once.
    await bundle_row.get_by_role("button", name="Позначити надісланим").click()
    await expect(page.locator("#action-result")).to_contain_text("/confirm/")
    await expect(page.locator("#bundles-ready tbody tr", has_text=bundle_id)).to_have_count(0)
    await operators.wait(queued, "sent")
    await expect_counts_match_the_api(page, operators)
    await page.screenshot(path=str(screenshot_dir / "operators-monitor.png"), full_page=True)

    # The token stays for this tab: a reload keeps the operator signed in.
    await page.reload()
    await expect(page.locator("#monitor")).to_be_visible()
    await expect(page.locator("#sign-in")).to_be_hidden()


async def test_the_monitor_refuses_a_wrong_token_and_forgets_it(monitor_browser: Browsing, stack):
    page = await monitor_browser.new_page()
    await sign_in(page, "not-a-staff-token")
    await expect(page.locator("#sign-in-message")).to_contain_text("Токен не прийнято")
    await expect(page.locator("#monitor")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") is None

    await sign_in(page, stack.demo_token("staff token (moderator)"))
    await expect(page.locator("#sign-in-message")).to_contain_text("оператор або адміністратор")


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 1000}, PHONE], ids=["desktop", "phone"])
async def test_a_reason_typed_into_a_held_letter_survives_the_refresh(browser, stack, operators: Operators,
                                                                        viewport, screenshot_dir):
    stranded_id, _ = await operators.prisoner("Рустем Затриманий", intermediary=False)
    (held,) = await operators.letters(stranded_id, 1)
    await operators.wait([held], "held")
    async with open_context(browser, stack.url("delivery"), viewport=viewport) as browsing:
        page = await browsing.new_page()
        await sign_in(page, operators.token)
        await expect(page.locator("h1")).to_have_text("Вихідні листи")
        reason = page.locator("#held tbody tr", has_text=held).locator("input.why")
        await expect(reason).to_have_attribute("placeholder", "чому в архів")
        await reason.click()
        await page.keyboard.type("рідні просили зачека")

        # A change elsewhere in the queue, then two redraws: the row is updated, never rebuilt.
        await operators.letters(stranded_id, 1)
        await next_refresh(page)
        await next_refresh(page)
        await expect(reason).to_have_value("рідні просили зачека")
        await expect(reason).to_be_focused()
        await page.keyboard.type("ти")
        await expect(reason).to_have_value("рідні просили зачекати")

        await no_horizontal_overflow(page)
        await page.screenshot(path=str(screenshot_dir / f"operators-monitor-{viewport['width']}.png"), full_page=True)


async def test_the_monitor_speaks_ukrainian_first_and_remembers_another_language(monitor_browser: Browsing,
                                                                                   operators: Operators):
    page = await monitor_browser.new_page()
    await sign_in(page, operators.token)
    await expect(page.locator("#h-counts")).to_have_text("Листи за станом")
    assert await page.evaluate("document.documentElement.lang") == "uk"

    await page.locator("#lang-switch button[data-lang=en]").click()
    await expect(page.locator("#h-counts")).to_have_text("Letters by state")
    await expect(page.locator("#counts [data-state=handed_over] dt")).to_have_text("handed over")
    await expect(page.locator("#status")).to_contain_text("Updated")
    await page.reload()
    await expect(page.locator("#h-counts")).to_have_text("Letters by state")

    await page.locator("#lang-switch button[data-lang=ru]").click()
    await expect(page.locator("#h-counts")).to_have_text("Письма по состоянию")
    assert await page.evaluate("document.documentElement.lang") == "ru"
