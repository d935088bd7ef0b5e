"""The operators' directory-import page in a real Chromium against the real services: sign in, upload a
list, read the diff, confirm only some changes; a name from the list is shown as text, never markup. The page
speaks Ukrainian first, switches language, and fits a phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect
from pymongo import AsyncMongoClient
from unidecode import unidecode

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.e2e.test_directory import Directory, unique_word

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_an_operator_reads_the_diff_and_applies_only_the_changes_they_tick(web, stack):
    mongo = AsyncMongoClient(stack.infra.mongodb_url, tz_aware=True)
    operator = stack.demo_token("staff token (operator)")
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        directory = Directory(intake, {"Authorization": f"Bearer {operator}"}, {}, mongo, stack.infra.namespace)
        word = unique_word()
        here = await directory.facility(f"СИЗО-{word}")
        released = await directory.prisoner(f"Ленур Іслямов{word}", f"Ленур Ислямов{word}",
                                             f"Lenur Islyamov{unidecode(word)}", here)
        died = await directory.prisoner(f"Таїр Асанов{word}", f"Таир Асанов{word}", f"Tair Asanov{unidecode(word)}",
                                        here)
        csv = "\n".join([
            "id,name_uk,name_ru,name_lat,status,status_since,facility,birthday",
            f",,Ленур Ислямов{word},,released,2026-11-30,,",
            f"{died},,,,deceased,2026-10-01,,",
            f",<img src=x onerror=window.__owned=1>{word},Новый{word},,detained,,{here},",
        ]).encode()

        page = await web.new_page()
        await page.goto("/staff/directory-import")
        await page.locator("#token").fill(operator)
        await page.locator("#token").press("Enter")
        await expect(page.locator("#upload-form")).to_be_visible()
        await page.locator("#source").fill("список для перевірки")
        await page.locator("#file").set_input_files({"name": "list.csv", "mimeType": "text/csv", "buffer": csv})
        await page.locator("#compare").click()

        rows = page.locator("#changes tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(0)).to_contain_text("Звільнення")
        await expect(rows.nth(0)).to_contain_text(released)
        await expect(rows.nth(1)).to_contain_text("Зміна статусу")
        await expect(rows.nth(2)).to_contain_text("Нова людина")
        await expect(rows.nth(2)).to_contain_text("<img src=x onerror=window.__owned=1>")
        await page.locator("#choose-c1").check()
        await page.locator("#choose-c2").check()
        await page.locator("#apply").click()

        await expect(page.locator("#notice")).to_contain_text("Застосовано: 2 / 2")
        await expect(rows.nth(0)).to_have_class("applied")
        await expect(page.locator("#choose-c1")).to_be_disabled()
        await expect(page.locator("#choose-c3")).to_be_enabled()
        await expect(rows.nth(2)).not_to_have_class("applied")
        assert await page.evaluate("window.__owned") is None
        staff = {p["id"]: p for p in (await intake.get("/api/v1/staff/prisoners",
                                                       headers=directory.operator)).json()}
        assert staff[released]["status"] == "released" and staff[died]["status"] == "deceased"
        assert not any(p["names"]["ru"] == f"Новый{word}" for p in staff.values()), "not ticked: not added"

        await page.reload()  # the proposal's id is in the fragment: the diff comes back as it was left
        await expect(rows).to_have_count(3)
        await expect(rows.nth(1)).to_have_class("applied")
    await mongo.close()


async def test_on_a_phone_the_diff_fits_and_the_language_can_be_switched(browser, stack):
    operator = stack.demo_token("staff token (operator)")
    async with open_context(browser, stack.url("intake"), viewport=PHONE) as browsing:
        page = await browsing.new_page()
        await page.goto("/staff/directory-import")
        await expect(page.locator("#sign-in h2")).to_have_text("Вхід")
        await page.locator("#token").fill(operator)
        await page.locator("#token").press("Enter")
        await expect(page.locator("#upload-title")).to_have_text("Список")
        csv = "id,name_uk,name_ru,name_lat,status,status_since,facility,birthday\n" \
              f",,Дуже Довге Прізвище {unique_word()} Без Пробілів-І-Ще-Довше,,detained,,,\n"
        await page.locator("#file").set_input_files({"name": "list.csv", "mimeType": "text/csv",
                                                      "buffer": csv.encode()})
        await page.locator("#compare").click()
        await expect(page.locator("#changes tr")).to_have_count(1)
        await no_horizontal_overflow(page)

        await page.locator("#lang-switch button[data-lang=en]").click()
        await expect(page.locator("#upload-title")).to_have_text("The list")
        await expect(page.locator("#changes tr").first).to_contain_text("New person")
        await no_horizontal_overflow(page)
