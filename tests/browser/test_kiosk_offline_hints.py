"""Hints on the kiosk without a network: the browser screens with the rules intake exports
(shared/screening/offline.py, GET /api/v1/screening/offline-rules) and the real offline-hints.js,
and on the labelled letters it finds exactly what the server's engine finds with those rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Route, expect

from shared.screening import screen
from shared.screening.engine import default_rules
from shared.screening.normalize import canonicalise
from tests.browser.conftest import PHONE, no_horizontal_overflow, page_until
from tests.browser.test_every_page import SERIOUS
from tests.browser.test_kiosk_page import kiosk_browser, set_up_kiosk  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "data"
LABELLED = ("letters.jsonl", "screening_cases.jsonl")
# The share of the server's block findings on the labelled letters that the word, phrase and symbol
# rules make (the rest are detectors: phones, languages, acrostics...). Measured 62 of 83.
MIN_BLOCK_COVERAGE = 0.7

SCREEN_IN_BROWSER = """async (letters) => {
  const { OfflineRules, OFFLINE_RULES_URL } = await import("/static/offline-hints.js");
  const doc = await (await fetch(OFFLINE_RULES_URL)).json();
  const rules = new OfflineRules(doc);
  const points = (text, unit) => [...text.slice(0, unit)].length;  // the server counts code points
  return {
    version: doc.rules_version,
    exported: doc.rules.map((rule) => rule.id),
    letters: letters.map(({ id, text }) => ({
      id,
      reading: rules.reading(text),
      findings: rules.screen(text, { lang: "uk" }).map((f) => [f.rule, points(text, f.start), points(text, f.end)]),
    })),
  };
}"""


def labelled_letters() -> list[dict]:
    return [json.loads(line) for name in LABELLED for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


async def test_the_browser_finds_what_the_server_finds_with_the_exported_rules(kiosk_browser, stack):  # noqa: F811
    letters = labelled_letters()
    page = await kiosk_browser.new_page()
    await page.goto("/kiosk?sw=0")
    answer = await page.evaluate(SCREEN_IN_BROWSER, [{"id": e["id"], "text": e["text"]} for e in letters])
    assert answer["version"] == default_rules().version
    exported = set(answer["exported"])
    in_browser = {found["id"]: found for found in answer["letters"]}

    read_alike, read_apart, blocks, covered = 0, [], 0, 0
    for letter in letters:
        result = screen(letter["text"], lang="uk")
        server = {(f.rule, f.start, f.end) for f in result.findings if f.rule in exported}
        browser = {tuple(found) for found in in_browser[letter["id"]]["findings"]}
        blocks += sum(f.severity == "block" for f in result.findings)
        covered += sum(f.severity == "block" and f.rule in exported for f in result.findings)
        reading = canonicalise(letter["text"])
        if reading.text == in_browser[letter["id"]]["reading"] and not reading.spaced_out:
            read_alike += 1
            assert browser == server, letter["id"]
        else:
            # The server read a disguise with its dictionary (digits for letters, "Сла ва", backwards
            # text): the browser may miss it, but never reports a rule the server did not.
            read_apart.append(letter["id"])
            assert {rule for rule, _, _ in browser} <= {rule for rule, _, _ in server}, letter["id"]
    print(f"\nread alike: {read_alike} of {len(letters)}; read apart (server's dictionary): {read_apart}")
    print(f"block findings the offline rules cover: {covered} of {blocks} ({covered / blocks:.0%})")
    assert read_alike >= 0.9 * len(letters)
    assert covered / blocks >= MIN_BLOCK_COVERAGE


async def test_a_ukrainian_kiosk_without_check_shows_offline_hints_and_the_server_takes_over_again(
    kiosk_browser, stack  # noqa: F811
):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, language="uk")
    # The service worker keeps the exported rules for a kiosk that reloads without a network.
    await page_until(page, """caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name)
        .then((cache) => cache.match("/api/v1/screening/offline-rules"))))).then((found) => found.some(Boolean))""")

    async def cut(route: Route) -> None:
        await route.abort("internetdisconnected")

    await page.route("**/api/v1/letters/check", cut)
    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_01"]').click()
    await page.locator("#kiosk-body").fill("Держитесь! Слава Украине!")
    summary = page.locator("#kiosk-hints-summary")
    await expect(summary).to_have_attribute("data-source", "offline")
    await expect(summary).to_contain_text("Це підказки без мережі")
    hint = page.locator('#kiosk-findings li[data-rule="slogans.glory_to_ukraine"]')
    await expect(hint).to_be_visible()
    await expect(hint.locator(".finding-excerpt")).to_have_text("Слава Украине")
    await expect(hint.locator(".finding-severity")).to_have_text("Цензор не пропустить")
    await expect(page.locator('#kiosk-mirror mark[data-rule="slogans.glory_to_ukraine"]')).to_have_text("Слава Украине")

    await page.set_viewport_size(PHONE)
    await expect(hint).to_be_visible()
    await no_horizontal_overflow(page)
    results = await Axe().run(page)
    serious = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
               if v["impact"] in SERIOUS]
    assert serious == []

    # Online again: the server's answer replaces the offline hints at the next check.
    await page.unroute("**/api/v1/letters/check", cut)
    await page.locator("#kiosk-body").press_sequentially(" Обнимаю.")
    await expect(summary).to_have_attribute("data-source", "server")
    await expect(summary).not_to_contain_text("без мережі")
    await expect(page.locator('#kiosk-findings li[data-rule="slogans.glory_to_ukraine"]')).to_be_visible()


async def test_a_kiosk_reloaded_without_network_hints_from_the_service_workers_copy(kiosk_browser, stack):  # noqa: F811
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, language="uk")
    await page_until(page, "navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)")
    await page_until(page, """caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name)
        .then((cache) => cache.match("/api/v1/screening/offline-rules"))))).then((found) => found.some(Boolean))""")

    await kiosk_browser.context.set_offline(True)
    response = await page.reload()
    assert response is not None and response.from_service_worker
    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_01"]').click()
    await page.locator("#kiosk-body").fill("Тримайтеся! Слава Україні!")
    summary = page.locator("#kiosk-hints-summary")
    await expect(summary).to_have_attribute("data-source", "offline")
    await expect(page.locator('#kiosk-findings li[data-rule="slogans.glory_to_ukraine"]')).to_be_visible()
    # The server would add that the letter is in Ukrainian: the language rules are the server's only.
    rules = await page.locator("#kiosk-findings li.finding").evaluate_all("(items) => items.map((i) => i.dataset.rule)")
    assert rules == ["slogans.glory_to_ukraine"]
    await kiosk_browser.context.set_offline(False)
