"""The operators' monitor's actions that used to be API calls only, in a real Chromium against the session's
services, in the Ukrainian interface, at desktop width and on a 390 px phone: the letters kept for a released
prisoner handed over, archived or redirected all at once after a confirmation (issue 18), a letter found by
its id (issue 17), bundles sent and awaiting confirmation (issue 17), and the overdue letters' panel.

The overdue check (GET /api/v1/monitor/overdue) is another change: its rendering is tested through a route
interception with the contract's shape, and against the real endpoint only as far as it is deployed."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, expect

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.browser.operators import Operators, next_refresh, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VIEWPORTS = pytest.mark.parametrize("viewport", [{"width": 1440, "height": 1000}, PHONE], ids=["desktop", "phone"])


@asynccontextmanager
async def monitor_at(browser, stack, operators: Operators, viewport: dict) -> AsyncIterator[Page]:
    async with open_context(browser, stack.url("delivery"), viewport=viewport) as browsing:
        page = await browsing.new_page()
        await sign_in(page, operators.token)
        await expect(page.locator("#monitor")).to_be_visible()
        yield page


async def released_with_kept_letters(operators: Operators, name_ru: str, count: int) -> tuple[str, str, list[str]]:
    """A prisoner with an intermediary, `count` letters queued, then released: the letters are kept."""
    prisoner_id, intermediary_id, letters = await operators.queued_letters(name_ru, count)
    released = await operators.intake.post(f"/api/v1/prisoners/{prisoner_id}/status", json={"status": "released"},
                                           headers=operators.admin)
    assert released.status_code == 200, released.text
    await operators.wait(letters, "held")
    return prisoner_id, intermediary_id, letters


async def kept_now(operators: Operators, prisoner_id: str) -> list[str]:
    answer = await operators.delivery.get(f"/api/v1/prisoners/{prisoner_id}/kept-letters", headers=operators.operator)
    return [letter["letter_id"] for letter in answer.json()]


async def letter(operators: Operators, letter_id: str) -> dict:
    return (await operators.delivery.get(f"/api/v1/letters/{letter_id}", headers=operators.operator)).json()


async def is_pdf(url: str) -> bool:
    async with httpx.AsyncClient(timeout=30) as client:
        return (await client.get(url)).content.startswith(b"%PDF")


async def no_serious_accessibility_violation(page: Page) -> None:
    """axe-core, as the every-page audit runs it, here with the panels' rows and dialog present."""
    results = await Axe().run(page)
    found = [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert found == [], found


async def panels_fit(page: Page) -> None:
    """Nothing scrolls sideways: neither the page nor any panel inside it."""
    await no_horizontal_overflow(page)
    wide = await page.evaluate(
        "[...document.querySelectorAll('.panel')].filter((p) => !p.hidden && p.scrollWidth > p.clientWidth + 1)"
        ".map((p) => p.getAttribute('aria-labelledby'))")
    assert wide == [], f"panels wider than the screen: {wide}"


@VIEWPORTS
async def test_the_letters_kept_for_a_released_prisoner_are_handed_over_in_one_bundle_once_confirmed(
        browser, stack, operators: Operators, viewport, screenshot_dir):
    prisoner_id, _, letters = await released_with_kept_letters(operators, "Эскендер Освобождённый", 2)
    async with monitor_at(browser, stack, operators, viewport) as page:
        row = page.locator(f'#kept tbody tr[data-key="{prisoner_id}"]')
        await expect(row).to_contain_text("Эскендер Освобождённый")
        await expect(row.locator(".tag")).to_have_text("звільнений")
        for letter_id in letters:
            await expect(row.locator(f'li[data-letter="{letter_id}"]')).to_contain_text("в'язня звільнено")

        # What the operator types into the row survives the refreshes, focus and all.
        reason = row.locator("input.kept-why")
        await reason.click()
        await page.keyboard.type("поки не архівуємо")
        await next_refresh(page)
        await next_refresh(page)
        await expect(reason).to_have_value("поки не архівуємо")
        await expect(reason).to_be_focused()
        await row.screenshot(path=str(screenshot_dir / f"monitor-kept-row-{viewport['width']}.png"))
        await no_serious_accessibility_violation(page)

        # Asked first; cancelling changes nothing.
        await row.locator("select.recipient").select_option("family")
        await row.get_by_role("button", name="Передати всі").click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("Листів: 2")
        await expect(dialog).to_contain_text("Кому: родині")
        await page.screenshot(path=str(screenshot_dir / f"monitor-confirm-{viewport['width']}.png"))
        await no_serious_accessibility_violation(page)
        await dialog.get_by_role("button", name="Скасувати").click()
        await expect(dialog).to_be_hidden()
        assert sorted(await kept_now(operators, prisoner_id)) == sorted(letters)

        await row.get_by_role("button", name="Передати всі").click()
        await dialog.get_by_role("button", name="Передати всі").click()

        result = page.locator("#kept-results li.result-entry").first
        await expect(result).to_contain_text("Эскендер Освобождённый: передано (родині), листів: 2")
        link = result.locator("a.bundle-link")
        await expect(link).to_contain_text("посилання чинне")
        assert await is_pdf(await link.get_attribute("href"))
        await operators.wait(letters, "handed_over")
        # The row leaves with the letters; the bundle's link stays where the operator can still take it.
        await expect(row).to_have_count(0, timeout=15_000)
        await expect(link).to_be_visible()
        await panels_fit(page)
        await page.screenshot(path=str(screenshot_dir / f"monitor-kept-{viewport['width']}.png"), full_page=True)


@VIEWPORTS
async def test_kept_letters_are_archived_all_with_a_reason_and_a_redirect_lists_the_letter_that_failed(
        browser, stack, operators: Operators, viewport):
    archived_id, _, to_archive = await released_with_kept_letters(operators, "Асан Архивный", 2)
    redirected_id, lawyer, to_redirect = await released_with_kept_letters(operators, "Ленур Перенаправленный", 2)
    async with monitor_at(browser, stack, operators, viewport) as page:
        dialog = page.locator("#confirm-dialog")

        # Archiving is for good: without a reason nothing is asked and nothing archived.
        archive_row = page.locator(f'#kept tbody tr[data-key="{archived_id}"]')
        await archive_row.get_by_role("button", name="Архівувати всі").click()
        await expect(archive_row.locator(".row-note")).to_have_text("Вкажіть причину архівування.")
        await expect(archive_row.locator("input.kept-why")).to_be_focused()
        await expect(dialog).to_be_hidden()
        assert len(await kept_now(operators, archived_id)) == 2
        await archive_row.locator("input.kept-why").fill("родина просила не передавати")
        await archive_row.get_by_role("button", name="Архівувати всі").click()
        await expect(dialog).to_contain_text("Причина: «родина просила не передавати»")
        await dialog.get_by_role("button", name="Архівувати всі").click()
        await expect(page.locator("#kept-results li.result-entry").first).to_contain_text(
            "Асан Архивный: архівовано 2 з 2.")
        assert await kept_now(operators, archived_id) == []
        assert [(await letter(operators, i))["archived"] for i in to_archive] == [True, True]

        # Redirecting: one letter is archived by someone else while the operator confirms; it fails
        # with its reason, and the other still goes.
        redirect_row = page.locator(f'#kept tbody tr[data-key="{redirected_id}"]')
        await expect(redirect_row.locator("select.kept-redirect-to")).to_have_value(lawyer)
        await redirect_row.get_by_role("button", name="Перенаправити всі").click()
        await expect(dialog).to_contain_text("Листів: 2")
        meanwhile = await operators.delivery.post(f"/api/v1/letters/{to_redirect[0]}/archive",
                                                  json={"reason": "другий оператор"}, headers=operators.operator)
        assert meanwhile.status_code == 200, meanwhile.text
        await dialog.get_by_role("button", name="Перенаправити всі").click()

        result = page.locator("#kept-results li.result-entry").first
        await expect(result).to_contain_text("Ленур Перенаправленный: перенаправлено 1 з 2.")
        await expect(result.locator(f'.failures li[data-letter="{to_redirect[0]}"]')).to_contain_text("archived")
        moved = await letter(operators, to_redirect[1])
        assert moved["intermediary_id"] == lawyer and moved["redirected"] and moved["state"] != "held", moved
        assert (await letter(operators, to_redirect[0]))["state"] == "held"
        await panels_fit(page)


@VIEWPORTS
async def test_a_letter_is_found_by_its_id_with_its_state_and_history_and_an_unknown_id_is_not_found(
        browser, stack, operators: Operators, viewport):
    prisoner_id, _, (handed,) = await released_with_kept_letters(operators, "Наиль Найденный", 1)
    answer = await operators.delivery.post(f"/api/v1/prisoners/{prisoner_id}/release-hand-over",
                                           json={"recipient": "person"}, headers=operators.operator)
    assert answer.status_code == 201, answer.text
    await operators.wait([handed], "handed_over")
    async with monitor_at(browser, stack, operators, viewport) as page:
        search = page.locator("#find-id")
        await search.fill(handed)
        await search.press("Enter")
        card = page.locator("#letter-card")
        await expect(card).to_have_attribute("data-letter-id", handed)
        await expect(page.locator("#letter-title")).to_have_text(f"Лист {handed}")
        await expect(page.locator("#letter-facts .fact").first).to_have_text("Станпередано")  # dt, then dd
        await expect(page.locator("#letter-facts")).to_contain_text(prisoner_id)
        await expect(page.locator("#letter-history li")).to_have_count(1)
        await expect(page.locator("#letter-history li")).to_contain_text("передано після звільнення → передано")
        await no_serious_accessibility_violation(page)

        unknown = f"l_nobody_{uuid.uuid4().hex[:6]}"
        await search.fill(unknown)
        await page.get_by_role("button", name="Відкрити").click()
        await expect(page.locator("#find-message")).to_contain_text(f"Лист «{unknown}» не знайдено")
        await expect(card).to_be_hidden()

        # What is typed into the field is the operator's: the refreshes leave it alone.
        await search.fill("l_")
        await search.press("End")
        await page.keyboard.type("набирається")
        await next_refresh(page)
        await expect(search).to_have_value("l_набирається")
        await expect(search).to_be_focused()
        await panels_fit(page)


@VIEWPORTS
async def test_a_sent_bundle_awaits_confirmation_gives_a_new_pdf_link_and_takes_an_outcome(
        browser, stack, operators: Operators, viewport, screenshot_dir):
    _, intermediary_id, letters = await operators.queued_letters("Февзи Ожидающий", 2, capacity=2)
    bundle_id = await operators.build_bundle(intermediary_id)
    assert (await operators.send_bundle(bundle_id))["bundle"]["state"] == "sent"
    async with monitor_at(browser, stack, operators, viewport) as page:
        row = page.locator(f'#awaiting tbody tr[data-key="{bundle_id}"]')
        await expect(row).to_contain_text("Февзи Ожидающий")
        await expect(row).to_contain_text("2 з 2")
        await expect(row.locator("td.ago")).to_have_text(re.compile(r"менше хвилини|\d+ хв"))
        await no_serious_accessibility_violation(page)

        await row.get_by_role("button", name="Нове посилання на PDF").click()
        made = page.locator("#awaiting-results li.result-entry").first
        await expect(made).to_contain_text(f"Пакунок {bundle_id}: нове посилання.")
        assert await is_pdf(await made.locator("a.bundle-link").get_attribute("href"))

        # Returned needs a reason; one being typed survives the refreshes.
        await row.locator("select.outcome").select_option("returned")
        await row.get_by_role("button", name="Записати").click()
        await expect(row.locator(".row-note")).to_contain_text("потрібна причина")
        why = row.locator("input.outcome-why")
        await why.click()
        await page.keyboard.type("колонія не прийняла")
        await next_refresh(page)
        await expect(why).to_have_value("колонія не прийняла")
        await row.get_by_role("button", name="Записати").click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_contain_text("«повернуто» для всіх листів пакунка, ще не підтверджених (листів: 2)")
        await dialog.get_by_role("button", name="Записати").click()

        await expect(page.locator("#awaiting-results li.result-entry").first).to_contain_text(
            f"Пакунок {bundle_id}: «повернуто» записано, листів: 2.")
        await operators.wait(letters, "returned")
        await expect(row).to_have_count(0)
        await panels_fit(page)
        await page.screenshot(path=str(screenshot_dir / f"monitor-awaiting-{viewport['width']}.png"), full_page=True)


# The overdue check's contract (GET /api/v1/monitor/overdue), as another change serves it.
OVERDUE = {"reports": [
    {"service": "sorting", "checked_at": "2026-12-04T18:00:00+00:00", "overdue": [
        {"letter_id": "l_late_1", "state": "held", "since": "2026-12-01T09:30:00+00:00",
         "note": "чекає на перекладача понад три дні"}]},
    {"service": "delivery", "checked_at": "2026-12-04T18:05:00+00:00", "overdue": []},
]}


def answering(status: int, body: dict):
    async def handle(route: Route) -> None:
        await route.fulfill(status=status, json=body)

    return handle


@VIEWPORTS
async def test_the_overdue_panel_shows_each_services_check_and_its_late_letters(browser, stack, operators: Operators,
                                                                                viewport):
    """Through a route interception: the endpoint is another change's, so its answer here is the contract's."""
    async with open_context(browser, stack.url("delivery"), viewport=viewport) as browsing:
        await browsing.context.route("**/api/v1/monitor/overdue", answering(200, OVERDUE))
        page = await browsing.new_page()
        await sign_in(page, operators.token)
        panel = page.locator("#overdue-panel")
        await expect(panel).to_be_visible()
        await expect(page.locator("#h-overdue")).to_have_text("Прострочені листи")

        sorting = panel.locator('.overdue-report[data-service="sorting"]')
        checked = await page.evaluate("new Intl.DateTimeFormat('uk-UA', {dateStyle: 'medium', timeStyle: 'short'})"
                                      ".format(new Date('2026-12-04T18:00:00+00:00'))")
        await expect(sorting.locator("h3")).to_have_text("Сортування")
        await expect(sorting.locator("p.hint")).to_have_text(f"Перевірено {checked}")
        late = sorting.locator('tbody tr[data-key="l_late_1|held"] td')
        await expect(late.nth(0)).to_have_text("l_late_1")
        await expect(late.nth(1)).to_have_text("затримано")
        await expect(late.nth(2)).to_contain_text("2026")
        await expect(late.nth(3)).to_contain_text("дн")
        await expect(late.nth(4)).to_have_text("чекає на перекладача понад три дні")
        delivery = panel.locator('.overdue-report[data-service="delivery"]')
        await expect(delivery.locator("h3")).to_have_text("Доставка")
        await expect(delivery.locator("td.empty")).to_have_text("Усі листи вчасно.")
        await expect(panel.locator(".overdue-report")).to_have_count(2)
        await no_serious_accessibility_violation(page)
        await panels_fit(page)

        await page.locator("#lang-switch button[data-lang=en]").click()
        await expect(delivery.locator("td.empty")).to_have_text("All letters on time.")
        await expect(sorting.locator("th").first).to_have_text("Letter")
        await expect(sorting.locator("p.hint")).to_contain_text("Checked")
        await page.locator("#lang-switch button[data-lang=uk]").click()


async def test_the_overdue_panel_says_nothing_while_the_check_is_not_deployed(browser, stack, operators: Operators):
    async with open_context(browser, stack.url("delivery")) as browsing:
        await browsing.context.route("**/api/v1/monitor/overdue", answering(404, {"detail": "Not Found"}))
        page = await browsing.new_page()
        await sign_in(page, operators.token)
        await next_refresh(page)
        await expect(page.locator("#overdue-panel")).to_be_hidden()
        await expect(page.locator("#notice")).to_be_hidden()


async def test_the_overdue_panel_follows_the_real_endpoint_as_far_as_it_is_deployed(browser, stack,
                                                                                   operators: Operators):
    answer = await operators.delivery.get("/api/v1/monitor/overdue", headers=operators.operator)
    async with monitor_at(browser, stack, operators, {"width": 1280, "height": 900}) as page:
        await next_refresh(page)
        if answer.status_code == 404:  # not deployed in this checkout: nothing shown, nothing said
            await expect(page.locator("#overdue-panel")).to_be_hidden()
            await expect(page.locator("#notice")).to_be_hidden()
            return
        assert answer.status_code == 200, answer.text
        await expect(page.locator("#overdue-panel")).to_be_visible()
        reports = answer.json()["reports"]
        await expect(page.locator("#overdue-reports .overdue-report")).to_have_count(len(reports))
        for report in reports:
            block = page.locator(f'#overdue-reports .overdue-report[data-service="{report["service"]}"]')
            await expect(block.locator("p.hint")).to_contain_text("Перевірено")
            if not report["overdue"]:
                await expect(block.locator("td.empty")).to_have_text("Усі листи вчасно.")
