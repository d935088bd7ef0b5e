"""The writer's page tells the writer what they need to know before writing: the facility's rules, and who
the prisoner is (story, interests, what to write about), in the page's language. A real Chromium, against
the real services; the facility and the prisoner are entered through the staff API."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.async_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKED = "2026-11-01"


@pytest.fixture
async def operator(stack):
    headers = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=headers, timeout=30) as client:
        yield client


async def add_prisoner(operator: httpx.AsyncClient, **fields) -> str:
    prisoner_id = f"p_{uuid.uuid4().hex[:8]}"
    answer = await operator.post("/api/v1/prisoners", json={
        "id": prisoner_id, "names": {"uk": "Тестовий В'язень", "ru": "Тестовый Узник", "en": "Test Prisoner"},
        "status": "detained", **fields})
    assert answer.status_code == 201, answer.text
    return prisoner_id


async def test_the_card_shows_what_the_facility_does_not_hand_over_in_the_page_s_language(web, operator,
                                                                                         screenshot_dir):
    facility_id = f"f_{uuid.uuid4().hex[:8]}"
    created = await operator.post("/api/v1/facilities", json={
        "id": facility_id, "name": "СИЗО-2 Проверочное", "kind": "pre_trial_centre", "region": "Крым",
        "address": {"lines": ["ул. Проверочная, 1"], "postcode": "295000", "city": "Симферополь"},
        "rules": {"strangers_letters": {"value": "yes", "verified_on": CHECKED},
                  "drawings": {"value": "no", "verified_on": CHECKED},
                  "page_limit": {"value": 2, "verified_on": CHECKED},
                  "notes": {"value": "Конверт без марок.", "verified_on": CHECKED}}})
    assert created.status_code == 201, created.text
    prisoner_id = await add_prisoner(operator)
    placed = await operator.post(f"/api/v1/prisoners/{prisoner_id}/facility", json={"facility_id": facility_id})
    assert placed.status_code == 200, placed.text

    page = await web.new_page()
    await page.goto("/")
    notes = page.locator(f'label.prisoner[data-prisoner-id="{prisoner_id}"] .prisoner-facility')
    await expect(notes).to_contain_text("СИЗО-2 Проверочное")
    await expect(notes.locator("li")).to_have_text(
        ["Drawings are not handed over here.", "No more than 2 pages per letter.", "Конверт без марок."])

    await page.get_by_role("button", name="Українська").click()
    await expect(notes.locator("li")).to_have_text(
        ["Малюнки тут не передають.", "Сторінок у листі — не більше 2.", "Конверт без марок."])
    await expect(notes).to_contain_text("Місце утримання:")
    await page.locator(f'label.prisoner[data-prisoner-id="{prisoner_id}"]').screenshot(
        path=screenshot_dir / "writer-facility-notes.png")


async def test_the_card_tells_who_the_prisoner_is_falling_back_from_the_page_s_language(web, operator):
    prisoner_id = await add_prisoner(
        operator,
        story={"ru": "Учитель музыки из Ялты.", "en": "A music teacher from Yalta."},
        interests={"en": "Jazz, the sea"},
        write_about={"uk": "Про море й музику.", "ru": "О море и музыке.", "en": "The sea and music."})

    page = await web.new_page()
    await page.goto("/")
    card = page.locator(f'label.prisoner[data-prisoner-id="{prisoner_id}"]')
    await expect(card.locator(".prisoner-story")).to_have_text("A music teacher from Yalta.")
    await expect(card.locator(".prisoner-interests")).to_have_text("Interests: Jazz, the sea")
    await expect(card.locator(".prisoner-write-about")).to_have_text("What to write about: The sea and music.")
    await expect(card.locator(".prisoner-facility")).to_have_count(0)  # no facility known: nothing to say

    await page.get_by_role("button", name="Українська").click()
    await expect(card.locator(".prisoner-story")).to_have_text("Учитель музыки из Ялты.")  # no uk: ru
    await expect(card.locator(".prisoner-interests")).to_have_text("Захоплення: Jazz, the sea")
    await expect(card.locator(".prisoner-write-about")).to_have_text("Про що написати: Про море й музику.")
    # The radio is named by the prisoner's name; the story describes it.
    await expect(card.get_by_role("radio", name="Тестовий В'язень", exact=True)).to_have_count(1)
