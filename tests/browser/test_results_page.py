"""The results page in headless Chromium against its own seeded intake: token, figures, charts, exports, CSP."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from services.intake.results import public
from services.intake.results.api import CONTENT_SECURITY_POLICY
from services.intake.results.domain import PublicSummary
from services.intake.results.texts import Texts
from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.integration.results.campaign import QUIET_PRISONER, results_intake, seed_campaign
from tests.support import eventually, pdf_text, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOSTILE_CITY = "<img src=x onerror=window.__xss=1>"
FORMULA_CITY = '=HYPERLINK("evil";"click me")'  # no link in it: a link is "not a place", never printed
# Five letters from each: enough for the public page to name the city rather than fold it into "other".
HOSTILE_LETTERS = 5


@pytest.fixture(scope="module")
async def seeded(infra):
    async with results_intake(infra, name="rb") as intake:
        ledger = await seed_campaign(intake, infra.amqp_url)
        async with httpx.AsyncClient(base_url=intake.url) as http:
            for city in [HOSTILE_CITY, FORMULA_CITY] * HOSTILE_LETTERS:
                letter = {"prisoner_id": "p_res_01", "client_ref": str(uuid.uuid4()), "body": "Здравствуйте!",
                          "author": {"city": city}, "source": {"channel": "web"}}
                answer = await http.post("/api/v1/letters", json=letter)
                assert answer.status_code == 201, answer.text
        yield intake, len(ledger.letters) + 2 * HOSTILE_LETTERS


async def until(page: Page, expression: str, timeout: float = 15) -> None:
    """Poll an expression with evaluate: wait_for_function would need eval(), which the page's CSP refuses."""

    async def holds() -> bool:
        return bool(await page.evaluate(expression))

    await eventually(holds, timeout, expression)


async def signed_in(browsing, intake, role: str = "operator"):
    page = await browsing.new_page()
    response = await page.goto("/results")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    await page.fill("#token", intake.token(f"staff token ({role})"))
    await page.click("#sign-in-form button")
    await page.wait_for_selector("#cards .card")
    return page


async def test_staff_paste_their_token_once_and_see_the_campaigns_results(browser, seeded, screenshot_dir):
    intake, letters = seeded
    async with open_context(browser, intake.url) as browsing:
        page = await signed_in(browsing, intake)
        first_card = page.locator("#cards .card").first
        assert await first_card.locator(".value").text_content() == str(letters)
        assert await first_card.locator(".label").text_content() == "листів написано"  # Ukrainian first
        channels = await page.locator("#by-channel tbody td:first-child").all_text_contents()
        assert channels == ["онлайн", "кіоск", "на папері"]
        assert "Briefe nach Krim" in await page.locator("#by-event").text_content()
        for name in ("letters-over-time", "cities", "prisoners"):
            await until(page, f"document.getElementById('chart-{name}').naturalWidth > 100")
        await page.wait_for_selector("#fewest tbody tr")
        assert "Тихий Приклад" in await page.locator("#fewest tbody tr").first.text_content()
        assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") == intake.token("staff token (operator)")
        await page.screenshot(path=str(screenshot_dir / "results-page.png"), full_page=True)

        await page.reload()
        await page.wait_for_selector("#cards .card")
        assert await page.locator("#sign-in").is_hidden()


async def test_on_a_phone_the_results_fit_the_screen(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url, viewport=PHONE) as browsing:
        page = await browsing.new_page()
        await page.goto("/results")
        await no_horizontal_overflow(page)
        await page.fill("#token", intake.token("staff token (operator)"))
        await page.click("#sign-in-form button")
        await page.wait_for_selector("#by-city tbody tr")  # the hostile and formula cities: long, unbroken
        await until(page, "document.getElementById('chart-cities').naturalWidth > 100")
        assert await page.locator("#cards .card .label").first.text_content() == "листів написано"
        await no_horizontal_overflow(page)


async def test_writers_text_is_shown_as_text_never_as_markup(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url) as browsing:
        page = await signed_in(browsing, intake)
        await page.wait_for_selector("#by-city tbody tr")
        assert HOSTILE_CITY in await page.locator("#by-city").text_content()
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("#by-city img").count() == 0


async def test_a_wrong_token_asks_again_and_is_not_kept(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url) as browsing:
        page = await browsing.new_page()
        await page.goto("/results")
        await page.fill("#token", "not-a-token")
        await page.click("#sign-in-form button")
        await expect(page.locator("#sign-in-message")).to_have_text(re.compile("Токен не прийнято"))
        assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") is None


async def test_the_filters_narrow_the_figures_and_the_exports_download(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url, accept_downloads=True) as browsing:
        page = await signed_in(browsing, intake, role="moderator")
        await page.select_option("#event", "e_r_berlin")
        await page.click("#filter button[type=submit]")
        await expect(page.locator("#cards .card .value").first).to_have_text("5")
        assert "e_r_berlin" in await page.locator("#period").text_content()
        async with page.expect_download() as pending:
            await page.click("[data-export=csv]")
        download = await pending.value
        content = Path(await download.path()).read_text(encoding="utf-8-sig")  # with a BOM, for spreadsheets
        assert content.startswith("section,key,value") and "totals,letters,5" in content
        async with page.expect_download() as pending:
            await page.click("[data-export=pdf]")
        assert Path(await (await pending.value).path()).read_bytes()[:4] == b"%PDF"


async def test_the_page_has_no_inline_script_or_style(seeded):
    intake, _ = seeded
    async with httpx.AsyncClient(base_url=intake.url) as http:
        html = (await http.get("/results")).text
        asset = await http.get("/results/static/results.js")
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert re.search(r"\son[a-z]+\s*=", html) is None  # no inline event handlers
    assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert QUIET_PRISONER not in html


async def test_staff_read_the_results_in_ukrainian_and_switch_to_english(browser, seeded):
    intake, letters = seeded
    async with open_context(browser, intake.url, locale="uk-UA") as browsing:
        page = await signed_in(browsing, intake)
        first_card = page.locator("#cards .card").first
        assert await page.evaluate("document.documentElement.lang") == "uk"
        assert await first_card.locator(".label").text_content() == "листів написано"
        assert await page.locator("h1").text_content() == "Результати кампанії"
        assert await page.locator("#by-channel tbody td:first-child").all_text_contents() == [
            "онлайн", "кіоск", "на папері"]
        assert "Не на заході" in await page.locator("#by-event").text_content()
        assert "Німеччина" in await page.locator("#by-country").text_content()
        assert await page.get_attribute("#chart-cities", "alt") == "Листи за містами авторів"
        await expect(page.locator("#status")).to_have_text(re.compile("^Оновлено о"))
        await page.click("#lang-switch button[data-lang=en]")
        await expect(first_card.locator(".label")).to_have_text("letters written")
        assert await page.locator("h1").text_content() == "Campaign results"
        assert "Germany" in await page.locator("#by-country").text_content()
        assert await page.evaluate("localStorage.getItem('letters.staffLang')") == "en"
        assert await first_card.locator(".value").text_content() == str(letters)


async def test_staff_read_the_results_in_russian_too(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url, locale="ru-RU") as browsing:
        page = await signed_in(browsing, intake)
        assert await page.locator("#cards .card .label").first.text_content() == "писем написано"
        assert await page.locator("#sign-out").text_content() == "Забыть токен"


async def test_the_pdf_is_downloaded_in_the_pages_language(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url, locale="uk-UA", accept_downloads=True) as browsing:
        page = await signed_in(browsing, intake)
        async with page.expect_download() as pending:
            await page.click("[data-export=pdf]")
        text = squash(pdf_text(Path(await (await pending.value).path()).read_bytes()))
        assert "Результати кампанії" in text and "Листів написано" in text


PUBLIC_HEADINGS = {"uk": "Результати кампанії", "en": "The campaign's results", "ru": "Результаты кампании"}


@pytest.mark.parametrize("lang", ["uk", "en", "ru"])
async def test_the_public_page_shows_the_summary_in_each_language(browser, seeded, lang, screenshot_dir):
    intake, letters = seeded
    async with httpx.AsyncClient(base_url=intake.url) as http:
        summary = PublicSummary.model_validate((await http.get("/api/v1/results/public")).json())
    tx = Texts(lang)
    async with open_context(browser, intake.url) as browsing:
        page = await browsing.new_page()
        response = await page.goto(f"/campaign?lang={lang}")
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert await page.evaluate("document.documentElement.lang") == lang
        assert await page.locator("h1").text_content() == PUBLIC_HEADINGS[lang]
        assert await page.locator("#headline").text_content() == public.headline(summary, tx)
        assert await page.locator("#cards .card .value").first.text_content() == tx.number(letters)
        assert "Briefe nach Krim" in await page.locator("#events").text_content()
        assert await page.locator("#cities svg rect").count() == len(summary.cities)
        await until(page, "document.getElementById('share').naturalWidth === 1200")
        assert await page.get_attribute("meta[property='og:image']", "content") == \
            await page.evaluate("document.getElementById('share').src")
        await page.screenshot(path=str(screenshot_dir / f"public-results-{lang}.png"), full_page=True)


async def test_the_public_page_switches_language_and_follows_the_browser(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url, locale="ru-RU") as browsing:
        page = await browsing.new_page()
        await page.goto("/campaign")
        assert await page.evaluate("document.documentElement.lang") == "ru"
        await page.click(".langs a[data-lang=uk]")
        await expect(page.locator("h1")).to_have_text(PUBLIC_HEADINGS["uk"])
        assert await page.get_attribute(".langs a[data-lang=uk]", "aria-current") == "page"


async def test_the_public_page_prints_hostile_cities_as_text(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url) as browsing:
        page = await browsing.new_page()
        await page.goto("/campaign?lang=en")
        cities = await page.locator("#cities th").all_text_contents()
        assert HOSTILE_CITY in cities and FORMULA_CITY in cities
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("#cities img").count() == 0
        assert await page.locator("script").count() == 0


async def test_the_staff_page_prints_a_formula_city_as_text(browser, seeded):
    intake, _ = seeded
    async with open_context(browser, intake.url) as browsing:
        page = await signed_in(browsing, intake)
        await page.wait_for_selector("#by-city tbody tr")
        assert FORMULA_CITY in await page.locator("#by-city tbody td:first-child").all_text_contents()

