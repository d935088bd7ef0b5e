"""Help to write, in a real Chromium against the real services, in the Ukrainian, English and Russian
interfaces: the phrase bank on the writer's page and on the kiosk (also offline), the meaning of a kinder
wording, the kiosk's question before a letter the censor would stop, the receipt's QR code on the kiosk's
thank-you screen (decoded from a screenshot), and the city suggestions and country on the writer's page."""

from __future__ import annotations

import io
import re

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Page, expect

from services.intake.phrases import phrase_bank
from tests.browser.conftest import open_context, page_until
from tests.browser.test_kiosk_page import set_up_kiosk, write_letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOCALES = {"uk": "uk-UA", "en": "en-GB", "ru": "ru-RU"}
KIOSK = {"viewport": {"width": 1180, "height": 820}, "has_touch": True}
# A slogan the censor stops (block) and a word that reads as an insult (warn), each with a kinder wording.
FLAGGED = "Здравствуйте! Скоро русские уйдут из Крыма. Одни ватники вокруг. Обнимаю."
GLOSSES = {
    "en": ("slogans.occupiers_leave", "Meaning: I believe everything will change for the better"),
    "uk": ("insults.ambiguous", "Переклад: тілогрійка, стьобана ватяна куртка"),
}
BLOCKED = "Здравствуйте! Слава Украине! Желаю вам здоровья."
THANKS = {
    "uk": ("Відскануйте код", "Код для стеження за листом з'явиться тут"),
    "ru": ("Отсканируйте код", "Код для отслеживания письма появится здесь"),
}


def topic(topic_id: str):
    return next(item for item in phrase_bank().topics if item.id == topic_id)


async def open_topic(page: Page, bank: str, topic_id: str) -> None:
    await page.locator(f"#{bank} > summary").click()
    await page.locator(f'#{bank} .phrase-topic[data-topic="{topic_id}"]').click()
    await expect(page.locator(f"#{bank} .phrase-insert")).to_have_count(len(topic(topic_id).phrases))


def decoded_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "exactly one readable QR code on the thank-you screen"
    return found[0].text


async def assert_receipt_link_opens_the_letter(stack, url: str) -> None:
    match = re.fullmatch(re.escape(stack.url("intake")) + r"/receipt#(l_\w+)\.(\S+)", url)
    assert match, url
    async with httpx.AsyncClient(base_url=stack.url("intake")) as client:
        answer = await client.get(f"/api/v1/letters/{match[1]}", headers={"Authorization": f"Bearer {match[2]}"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("lang", ["uk", "en", "ru"])
async def test_a_phrase_goes_into_the_letter_at_the_cursor_with_its_meaning_beside_it(browser, stack, lang):
    food = topic("food")
    async with open_context(browser, stack.url("intake"), locale=LOCALES[lang]) as web:
        page = await web.new_page()
        await page.goto("/")
        await page.locator("#letter-body").fill("Здравствуйте!\nВсего доброго.")
        await page.evaluate("() => document.getElementById('letter-body').setSelectionRange(14, 14)")
        await open_topic(page, "phrase-bank", "food")
        await expect(page.locator('#phrase-bank .phrase-topic[data-topic="food"]')).to_have_text(
            getattr(food.title, lang))

        first = page.locator("#phrase-bank .phrase").first
        await expect(first.locator(".phrase-insert")).to_have_text(food.phrases[0].ru)
        if lang == "ru":  # a Russian interface needs no gloss of Russian
            await expect(first.locator(".phrase-gloss")).to_have_count(0)
        else:
            await expect(first.locator(".phrase-gloss")).to_have_text(getattr(food.phrases[0], lang))
        await first.locator(".phrase-insert").click()

        await expect(page.locator("#letter-body")).to_have_value(
            f"Здравствуйте!\n{food.phrases[0].ru} Всего доброго.")


async def test_a_sample_letter_starts_the_letter_and_the_gloss_can_be_german(web):
    faith = topic("faith")
    page = await web.new_page()
    await page.goto("/")
    await open_topic(page, "phrase-bank", "faith")
    await page.locator("#phrase-bank .phrase-gloss-select").select_option("de")
    await expect(page.locator("#phrase-bank .phrase-gloss").first).to_have_text(faith.phrases[0].de)
    samples = page.locator("#phrase-bank .phrase-sample")
    await expect(samples).to_have_count(len(faith.samples))
    await samples.nth(1).locator(".phrase-use-sample").click()

    await expect(page.locator("#letter-body")).to_have_value(faith.samples[1].ru)
    await expect(page.locator("#hints-summary")).to_have_text("All good so far.")


@pytest.mark.parametrize("lang", ["uk", "en", "ru"])
async def test_a_kinder_russian_wording_says_what_it_means_in_the_interface_language(browser, stack, lang):
    async with open_context(browser, stack.url("intake"), locale=LOCALES[lang]) as web:
        page = await web.new_page()
        await page.goto("/")
        await page.locator("#letter-body").fill(FLAGGED)
        await expect(page.locator("#findings li.finding")).to_have_count(2)
        await expect(page.locator("#findings .finding-suggestion")).to_have_count(2)
        if lang == "ru":
            await expect(page.locator("#findings .finding-gloss")).to_have_count(0)
            return
        rule, gloss = GLOSSES[lang]
        await expect(page.locator(f'#findings li[data-rule="{rule}"] .finding-gloss')).to_have_text(gloss)


async def test_kiosk_offers_the_phrase_bank_online_and_after_a_reload_without_network(browser, stack):
    seasons = topic("seasons")
    async with open_context(browser, stack.url("intake"), **KIOSK) as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack, query="?thanks=60&idle=600")
        await write_letter(page, "p_demo_01", "")
        await open_topic(page, "kiosk-phrase-bank", "seasons")
        await page.locator("#kiosk-phrase-bank .phrase-insert").nth(1).click()
        await expect(page.locator("#kiosk-body")).to_have_value(seasons.phrases[1].ru)

        await page_until(
            page, "navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)")
        await kiosk.context.set_offline(True)
        # Not the page's own copy: the service worker's, as after a kiosk's storage was cleared.
        await page.evaluate("() => localStorage.removeItem('letters.phrases')")
        response = await page.reload()
        assert response is not None and response.from_service_worker
        await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "false")
        await write_letter(page, "p_demo_01", "")
        await open_topic(page, "kiosk-phrase-bank", "seasons")
        await expect(page.locator("#kiosk-phrase-bank .phrase-gloss").first).to_have_text(seasons.phrases[0].en)
        await page.locator("#kiosk-phrase-bank .phrase-insert").first.click()
        await expect(page.locator("#kiosk-body")).to_have_value(seasons.phrases[0].ru)
        await kiosk.context.set_offline(False)


async def test_kiosk_asks_before_a_letter_the_censor_would_stop_and_shows_the_receipt_as_a_qr_code(
    browser, stack
):
    async with open_context(browser, stack.url("intake"), locale="uk-UA", **KIOSK) as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack, query="?thanks=120&idle=600")
        await write_letter(page, "p_demo_02", BLOCKED)
        await expect(page.locator('#kiosk-findings li[data-severity="block"]')).to_have_count(1)

        await page.locator("#kiosk-send").click()
        await expect(page.locator("#kiosk-block-confirm")).to_be_visible()
        await expect(page.locator("#kiosk-block-confirm")).to_contain_text("цензор не пропустить")
        await page.locator("#kiosk-confirm-fix").click()  # cancel: back to the letter, nothing stored
        await expect(page.locator("#kiosk-block-confirm")).to_be_hidden()
        await expect(page.locator("#screen-write")).to_be_visible()
        await expect(page.locator("#kiosk-body")).to_have_value(BLOCKED)
        assert await page.evaluate("window.kiosk.outbox.all().then((records) => records.length)") == 0

        await page.locator("#kiosk-send").click()
        await page.locator("#kiosk-confirm-send").click()  # the writer insists: a moderator decides
        await expect(page.locator("#screen-thanks")).to_be_visible()
        await expect(page.locator(".thanks-volunteer")).to_contain_text("прочитає волонтер")
        qr = page.locator("#thanks-qr")
        await expect(qr.locator("svg")).to_be_visible(timeout=20_000)
        await expect(page.locator("#thanks-qr-text")).to_contain_text(THANKS["uk"][0])
        url = await qr.get_attribute("data-url")
        assert decoded_qr(await qr.screenshot()) == url
        await assert_receipt_link_opens_the_letter(stack, url)


async def test_kiosk_offline_says_the_code_will_come_and_shows_it_once_the_letter_is_synced(browser, stack):
    async with open_context(browser, stack.url("intake"), locale="ru-RU", **KIOSK) as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack, query="?thanks=120&idle=600")
        await kiosk.context.set_offline(True)
        await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "false")
        await write_letter(page, "p_demo_03", "Здравствуйте! Пишу вам с ярмарки, здесь пахнет кофе и яблоками.")
        await page.locator("#kiosk-send").click()

        await expect(page.locator("#screen-thanks")).to_be_visible()
        await expect(page.locator("#thanks-qr-text")).to_contain_text(THANKS["ru"][1])
        await expect(page.locator("#thanks-qr")).to_be_hidden()
        await kiosk.context.set_offline(False)
        qr = page.locator("#thanks-qr")
        await expect(qr.locator("svg")).to_be_visible(timeout=60_000)
        await expect(page.locator("#thanks-qr-text")).to_contain_text(THANKS["ru"][0])
        url = await qr.get_attribute("data-url")
        assert decoded_qr(await qr.screenshot()) == url
        await assert_receipt_link_opens_the_letter(stack, url)


async def test_the_city_is_suggested_in_any_spelling_and_the_country_goes_with_the_letter(browser, stack):
    async with open_context(browser, stack.url("intake"), locale="uk-UA") as web:
        page = await web.new_page()
        sent = []
        page.on("request", lambda r: sent.append(r.post_data_json)
                if r.method == "POST" and r.url.endswith("/api/v1/letters") else None)
        await page.goto("/")
        await expect(page.locator("#country-names option", has_text="Німеччина")).to_have_count(1)
        await page.locator('label.prisoner[data-prisoner-id="p_demo_01"]').click()
        await page.locator("#letter-body").fill("Здравствуйте! Желаю вам здоровья и тёплых дней.")

        await page.locator("#author-city").press_sequentially("Kiew")
        suggestion = page.locator("#city-suggestions .city-suggestion")
        await expect(suggestion).to_have_count(1)
        await expect(suggestion).to_have_text("Київ · Україна")
        await suggestion.click()
        await expect(page.locator("#author-city")).to_have_value("Київ")
        await expect(page.locator("#author-country")).to_have_value("Україна")
        await expect(page.locator("#city-suggestions")).to_be_hidden()

        await page.locator("#author-city").fill("Хутір Ясний")  # not in the gazetteer: kept as typed
        await page.locator("#author-country").fill("Німеччина")
        await page.locator("#submit").click()
        await expect(page.locator("#done")).to_be_visible()
        assert sent[-1]["author"]["city"] == "Хутір Ясний"
        assert sent[-1]["author"]["country"] == "Німеччина"
