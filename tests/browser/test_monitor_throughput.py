"""The operators' monitor's throughput over time (issue 17) in a real Chromium against the session's services,
in the Ukrainian interface, at desktop width and on a 390 px phone: letters seeded through the real pipeline
(written at intake, sorted, queued, held, bundled, sent and handed over through delivery's API) show in the
charts and in their table with the counts the API gives; the range switch shows 30 days; a refresh keeps the
focus where the operator left it; nothing scrolls sideways; axe finds nothing serious."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.operators import Operators, next_refresh
from tests.browser.test_monitor_operator_actions import (
    monitor_at,
    no_serious_accessibility_violation,
    panels_fit,
)
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STEPS = ("queued", "sent", "handed_over", "held")
WORDS = {"48h": "За 48 год: прибули {queued}, надіслано {sent}, передано {handed_over}, затримано {held}.",
         "30d": "За 30 днів: прибули {queued}, надіслано {sent}, передано {handed_over}, затримано {held}."}


async def throughput(operators: Operators, range_: str) -> dict:
    answer = await operators.delivery.get("/api/v1/monitor/throughput", params={"range": range_},
                                          headers=operators.operator)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def seed_every_step(operators: Operators) -> None:
    """Three letters arrive, one of them held (nobody carries it), two bundled and sent, one handed over."""
    _, intermediary_id, carried = await operators.queued_letters("Лиля Графикова", 2, capacity=2)
    stranded_id, _ = await operators.prisoner("Наиль Без Посредника", intermediary=False)
    held = await operators.letters(stranded_id, 1)
    await operators.wait(held, "held")
    await operators.send_bundle(await operators.build_bundle(intermediary_id))
    await operators.wait(carried, "sent")
    handed = await operators.delivery.post(f"/api/v1/letters/{carried[0]}/outcome", json={"outcome": "handed_over"},
                                           headers=operators.operator)
    assert handed.status_code == 200, handed.text


async def table_numbers(page: Page) -> list[list[str]]:
    return await page.evaluate(
        "[...document.querySelectorAll('#flow-table tbody tr')].map((tr) => [...tr.cells].slice(1)"
        ".map((td) => td.textContent))")


async def expect_the_page_to_show(page: Page, operators: Operators, range_: str) -> dict:
    """The totals line, the table and the bars agree with what the API answers (read until both settle)."""
    seen: dict = {}

    async def agree() -> bool:
        answer = await throughput(operators, range_)
        seen["answer"] = answer
        rows = [[str(bucket[step]) for step in STEPS] for bucket in answer["buckets"]]
        totals = (await page.locator("#flow-totals").text_content()) or ""
        return totals == WORDS[range_].format(**answer["totals"]) and await table_numbers(page) == rows

    await eventually(agree, 30, f"the monitor's {range_} throughput to match the API")
    answer = seen["answer"]
    charts = page.locator("#flow-charts figure")
    await expect(charts).to_have_count(4)
    for n, step in enumerate(STEPS):
        bars = await charts.nth(n).locator("rect").evaluate_all("(bars) => bars.map((b) => Number(b.getAttribute('height')) > 0)")
        assert bars == [bucket[step] > 0 for bucket in answer["buckets"]], step
    await expect(charts.nth(0).locator("figcaption")).to_have_text(f"Прибули в доставку: {answer['totals']['queued']}")
    await expect(charts.nth(3).locator("figcaption")).to_have_text(f"Затримано: {answer['totals']['held']}")
    return answer


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 1000}, PHONE], ids=["desktop", "phone"])
async def test_the_monitor_charts_letters_over_48_hours_and_30_days_as_the_api_counts_them(
        browser, stack, operators: Operators, viewport, screenshot_dir):
    before = (await throughput(operators, "48h"))["totals"]
    await seed_every_step(operators)
    after = (await throughput(operators, "48h"))["totals"]
    assert all(after[step] - before[step] >= grew
               for step, grew in {"queued": 3, "sent": 2, "handed_over": 1, "held": 1}.items()), (before, after)

    async with monitor_at(browser, stack, operators, viewport) as page:
        panel = page.locator("#flow-panel")
        await expect(panel.locator("h2")).to_have_text("Листи за часом")
        await panel.scroll_into_view_if_needed()
        await expect(panel.locator("#flow-hint")).to_contain_text("за UTC")
        await panel.locator("#flow-details summary").click()
        await expect(page.locator("#flow-table thead th").first).to_have_text("Коли (UTC)")
        hours = await expect_the_page_to_show(page, operators, "48h")
        await expect(page.locator("#flow-table tbody tr")).to_have_count(48)
        assert hours["bucket"] == "hour"
        # The newest hour, labelled in UTC: the current UTC hour, written as Ukrainian writes times.
        newest = await page.locator("#flow-table tbody tr").last.locator("td").first.text_content()
        hour = hours["buckets"][-1]["start"][11:16]
        assert newest and newest.endswith(hour), (newest, hour)
        await no_serious_accessibility_violation(page)
        await panels_fit(page)
        await panel.screenshot(path=str(screenshot_dir / f"monitor-throughput-48h-{viewport['width']}.png"))

        # The operator switches to 30 days; the switch keeps the focus through the refreshes.
        month = panel.get_by_role("button", name="30 днів")
        await month.click()
        await expect(month).to_have_attribute("aria-pressed", "true")
        await expect(panel.get_by_role("button", name="48 год")).to_have_attribute("aria-pressed", "false")
        days = await expect_the_page_to_show(page, operators, "30d")
        await expect(page.locator("#flow-table tbody tr")).to_have_count(30)
        assert days["bucket"] == "day" and days["totals"]["queued"] >= after["queued"]
        await next_refresh(page)
        await next_refresh(page)
        await expect(month).to_be_focused()
        await expect(page.locator("#flow-details")).to_have_attribute("open", "")
        await no_serious_accessibility_violation(page)
        await panels_fit(page)
        await panel.screenshot(path=str(screenshot_dir / f"monitor-throughput-30d-{viewport['width']}.png"))
