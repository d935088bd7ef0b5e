"""The event kiosk in a real Chromium, against the real services: set-up, offline letters synced
exactly once, photographed pages, and the screen clearing itself between visitors."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Page, Route, expect
from pymongo import AsyncMongoClient

from tests.browser.conftest import Browsing, open_context, page_until
from tests.browser.kiosk import PIN, open_staff_panel, pair_kiosk
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KIOSK_ID = "k_demo_01"
EVENT_ID = "e_demo_kyiv_book_fair"
LETTERS = [
    (
        "p_demo_01",
        "Здравствуйте! Пишу вам с книжной ярмарки. Здесь много детей и пахнет кофе. Желаю здоровья!",
        "Ірина",
    ),
    ("p_demo_02", "Добрый день! Сегодня солнечно, на площади играет скрипач. Обнимаем вас.", "Tom"),
    ("p_demo_03", "Привет! Я читаю хорошую книгу о море и думаю о вас. Держитесь.", "Ayşe"),
]


@pytest.fixture
async def letters(stack) -> AsyncIterator:
    mongo = AsyncMongoClient(stack.infra.mongodb_url)
    yield mongo[f"{stack.infra.namespace}-intake"]["letters"]
    await mongo.close()


@pytest.fixture
async def kiosk_browser(browser, stack) -> AsyncIterator[Browsing]:
    """A kiosk device: a touch tablet in landscape, English by default."""
    options = {"viewport": {"width": 1180, "height": 820}, "has_touch": True}
    async with open_context(browser, stack.url("intake"), **options) as browsing:
        yield browsing


async def set_up_kiosk(page: Page, stack, query: str = "?thanks=2&idle=600", language: str | None = None) -> str:
    token = stack.demo_token("kiosk token")
    await page.goto(f"/kiosk{query}#token={token}")
    await pair_kiosk(page, language=language)
    await expect(page.locator("#kiosk-event")).to_have_text("Demo book fair · Kyiv")
    await expect(page.locator("#screen-home")).to_be_visible()
    # The directory is loaded once the kiosk is paired (and kept for a day without network).
    await expect(page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_01"]')).to_be_visible()
    return token


async def write_letter(page: Page, prisoner_id: str, body: str, name: str = "") -> None:
    await page.locator(f'button.kiosk-prisoner[data-prisoner-id="{prisoner_id}"]').click()
    await expect(page.locator("#screen-write")).to_be_visible()
    await page.locator("#kiosk-body").fill(body)
    if name:
        await page.get_by_label("First name").fill(name)


async def count(page: Page, chip: str) -> int:
    return int(await page.locator(f"#kiosk-{chip}").get_attribute("data-count"))


def page_photo(number: int) -> bytes:
    image = Image.new("RGB", (900, 1200), "white")
    draw = ImageDraw.Draw(image)
    for line in range(20):
        draw.line((60, 120 + line * 50, 840, 120 + line * 50), fill=(180, 190, 220), width=2)
    draw.text((80, 80), f"page {number}", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def test_kiosk_is_set_up_from_a_link_and_forgets_the_link(kiosk_browser, stack, screenshot_dir):
    page = await kiosk_browser.new_page()
    token = await set_up_kiosk(page, stack)
    assert "#" not in page.url and token not in page.url  # out of the address bar and the history
    assert await page.evaluate("localStorage.getItem('kiosk.token')") == token
    stored = await page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert "kiosk.staffPin" in stored and PIN not in stored  # the staff PIN as a salted hash only
    cards = page.locator("button.kiosk-prisoner")
    for demo in ("p_demo_01", "p_demo_02", "p_demo_03", "p_demo_04"):  # other tests may add more
        await expect(page.locator(f'button.kiosk-prisoner[data-prisoner-id="{demo}"]')).to_have_count(1)
    await expect(page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_04"]')).to_be_disabled()
    for target in [
        *await cards.all(),
        page.get_by_role("button", name="English"),
        page.locator("#staff-open"),
    ]:
        box = await target.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48, box  # fingers, not mouse pointers
    await page.screenshot(path=screenshot_dir / "kiosk-home.png")

    await page.reload()  # the set-up is remembered
    await expect(page.locator("#kiosk-event")).to_have_text("Demo book fair · Kyiv")
    await expect(page.locator("#screen-home")).to_be_visible()


async def test_kiosk_with_a_wrong_token_asks_for_set_up(kiosk_browser, stack):
    page = await kiosk_browser.new_page()
    await page.goto("/kiosk#token=not-a-kiosk-token")
    await expect(page.get_by_label("Kiosk token")).to_have_value("not-a-kiosk-token")  # from the link
    await pair_kiosk(page)
    await expect(page.locator("#screen-setup")).to_be_visible()
    await expect(page.locator("#setup-message")).to_have_text(re.compile("not accepted"))
    assert await page.evaluate("localStorage.getItem('kiosk.token')") is None  # nothing paired
    await page.get_by_label("Kiosk token").fill(stack.demo_token("kiosk token"))
    await pair_kiosk(page)
    await expect(page.locator("#screen-home")).to_be_visible()
    await expect(page.locator("#kiosk-event")).to_have_text("Demo book fair · Kyiv")


async def test_offline_kiosk_keeps_three_letters_and_syncs_them_exactly_once(
    kiosk_browser, stack, letters, screenshot_dir
):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack)
    await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "true")
    from_kiosk_before = await letters.count_documents({"kiosk_id": KIOSK_ID})
    await expect(page.locator("#kiosk-collected")).to_have_attribute("data-count", str(from_kiosk_before))

    await kiosk_browser.context.set_offline(True)
    await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "false")
    for number, (prisoner_id, body, name) in enumerate(LETTERS, start=1):
        await write_letter(page, prisoner_id, body, name)
        await page.locator("#kiosk-send").click()
        await expect(page.locator("#screen-thanks")).to_be_visible()
        await expect(page.locator("#thanks-status")).to_have_text(re.compile("saved on this kiosk"))
        await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", str(number))
        # Cleared for the next visitor after the thank-you screen (2 s here).
        await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    await expect(page.locator("#kiosk-collected")).to_have_attribute("data-count", str(from_kiosk_before + 3))
    await page.screenshot(path=screenshot_dir / "kiosk-offline-waiting.png")

    queued = await page.evaluate("window.kiosk.outbox.all()")
    client_refs = [record["client_ref"] for record in queued]
    assert len(set(client_refs)) == 3
    assert [record["letter"]["body"] for record in queued] == [body for _, body, _ in LETTERS]
    assert await letters.count_documents({"client_ref": {"$in": client_refs}}) == 0  # nothing got out

    await kiosk_browser.context.set_offline(False)
    await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "0", timeout=60_000)
    await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "true")

    stored = await letters.find({"client_ref": {"$in": client_refs}}).to_list()
    assert sorted(doc["client_ref"] for doc in stored) == sorted(client_refs)  # each exactly once
    for doc in stored:
        assert (doc["channel"], doc["kiosk_id"], doc["campaign_event_id"]) == ("kiosk", KIOSK_ID, EVENT_ID)
    assert {doc["body"] for doc in stored} == {body for _, body, _ in LETTERS}
    assert await letters.count_documents({"kiosk_id": KIOSK_ID}) == from_kiosk_before + 3
    assert await page.evaluate("window.kiosk.outbox.all().then(records => records.length)") == 0
    # The count now comes from the server, and it still says three more.
    await expect(page.locator("#kiosk-collected")).to_have_attribute("data-count", str(from_kiosk_before + 3))
    await page.screenshot(path=screenshot_dir / "kiosk-synced.png")


async def test_lost_answer_is_retried_and_answered_with_the_same_letter(browser, stack, letters):
    # Service workers blocked: request interception must see the page's own requests.
    async with open_context(browser, stack.url("intake"), service_workers="block") as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack, query="?thanks=60&idle=600")
        answers: list[int] = []

        async def lose_first_answer(route: Route) -> None:
            if route.request.method != "POST" or answers:
                await route.continue_()
                return
            response = await route.fetch()  # the server stores the letter...
            answers.append(response.status)
            await route.abort("connectionreset")  # ...and the answer never arrives

        await page.route("**/api/v1/letters", lose_first_answer)
        page.on(
            "response",
            lambda r: (
                answers.append(r.status)
                if r.request.method == "POST" and r.url.endswith("/letters")
                else None
            ),
        )
        await write_letter(page, "p_demo_02", "Здравствуйте! Это письмо дошло со второй попытки. Обнимаю.")
        await page.locator("#kiosk-send").click()
        await expect(page.locator("#screen-thanks")).to_be_visible()
        client_ref = await page.evaluate("window.kiosk.state.thanksFor")
        assert isinstance(client_ref, str)
        await expect(page.locator("#thanks-status")).to_have_text("The letter has been sent.", timeout=30_000)
        await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "0")
        assert answers == [201, 200]
        assert await letters.count_documents({"client_ref": client_ref}) == 1


async def test_photographed_letter_is_sent_with_its_pages(
    kiosk_browser, stack, letters, tmp_path, screenshot_dir
):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, query="?thanks=60&idle=600")
    files = []
    for number in (1, 2, 3):
        path = tmp_path / f"page-{number}.jpg"
        path.write_bytes(page_photo(number))
        files.append(path)

    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_03"]').click()
    photo_input = page.locator("#photo-input")
    assert await photo_input.get_attribute("capture") == "environment"
    assert await photo_input.get_attribute("accept") == "image/*"
    await photo_input.set_input_files(files[:2])
    await photo_input.set_input_files(files[2:])
    thumbnails = page.locator(".kiosk-page img")
    await expect(thumbnails).to_have_count(3)
    assert await thumbnails.first.evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(page.locator("#pages-count")).to_have_text("Pages: 3 of 10")
    await page.get_by_label("Remove page 3").click()
    await expect(thumbnails).to_have_count(2)
    await page.get_by_label("First name").fill("Mykola")
    await page.locator("#kiosk-send").scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_dir / "kiosk-photos.png")

    await page.locator("#kiosk-send").click()  # no typed text: the photos are the letter
    await expect(page.locator("#screen-thanks")).to_be_visible()
    client_ref = await page.evaluate("window.kiosk.state.thanksFor")
    assert isinstance(client_ref, str)
    await expect(page.locator("#thanks-status")).to_have_text("The letter has been sent.", timeout=30_000)
    await page.screenshot(path=screenshot_dir / "kiosk-thanks.png")
    stored = await letters.find_one({"client_ref": client_ref})
    assert stored is not None and len(stored["page_keys"]) == 2
    assert stored["body"] == "" and stored["kiosk_id"] == KIOSK_ID


async def test_kiosk_clears_itself_after_a_letter_and_after_inactivity(kiosk_browser, stack, screenshot_dir):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, query="?thanks=2&idle=3")
    await write_letter(page, "p_demo_01", "Здравствуйте! Хорошего вам дня и крепкого здоровья.", "Olha")
    await page.get_by_label("City").fill("Львов")
    await page.locator("#kiosk-body").press_sequentially(" Слава Украине")
    await expect(page.locator("mark.flag")).to_have_count(1)  # the same hints as on the writer's page
    await page.screenshot(path=screenshot_dir / "kiosk-write.png")
    await page.locator("#kiosk-body").fill("Здравствуйте! Хорошего вам дня и крепкого здоровья.")
    await page.locator("#kiosk-send").click()
    await expect(page.locator("#screen-thanks")).to_be_visible()
    await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "0", timeout=30_000)

    # Nothing of the last visitor is left for the next one.
    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_01"]').click()
    await expect(page.locator("#kiosk-body")).to_have_value("")
    await expect(page.get_by_label("First name")).to_have_value("")
    await expect(page.get_by_label("City")).to_have_value("")
    await expect(page.locator("mark.flag")).to_have_count(0)

    # A visitor who walks away mid-letter: the screen clears after the idle time (3 s here).
    await page.locator("#kiosk-body").fill("Здравствуйте! Я начала писать и ушла")
    await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_02"]').click()
    await expect(page.locator("#kiosk-body")).to_have_value("")


async def test_kiosk_page_reloads_without_network(kiosk_browser, stack):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack)
    listed = await page.locator("button.kiosk-prisoner").count()
    await page_until(
        page, "navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"
    )
    await kiosk_browser.context.set_offline(True)
    response = await page.reload()
    assert response is not None and response.from_service_worker
    await expect(page.locator("#kiosk-event")).to_have_text("Demo book fair · Kyiv")
    await expect(page.locator("#kiosk-online")).to_have_attribute("data-online", "false")
    await expect(page.locator("button.kiosk-prisoner")).to_have_count(listed)  # kept from last time
    await write_letter(page, "p_demo_01", "Здравствуйте! Письмо, написанное совсем без сети.")
    await page.locator("#kiosk-send").click()
    await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "1")
    await kiosk_browser.context.set_offline(False)
    await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "0", timeout=60_000)


async def test_refused_letter_stays_on_the_kiosk_for_staff(browser, stack, letters, screenshot_dir):
    async with open_context(
        browser, stack.url("intake"), service_workers="block", viewport={"width": 1180, "height": 820}
    ) as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack)
        refusals = ["busy", "refused"]

        async def troubled_server(route: Route) -> None:
            if route.request.method != "POST" or not refusals:
                await route.continue_()
                return
            match refusals.pop(0):
                case "busy":  # retried after Retry-After, the letter stays waiting
                    await route.fulfill(
                        status=503, headers={"Retry-After": "1"}, json={"detail": "store down"}
                    )
                case "refused":  # a 4xx other than 408/429: failed, kept and shown to staff
                    await route.fulfill(
                        status=422, json={"detail": [{"loc": ["body", "body"], "msg": "too odd"}]}
                    )

        await page.route("**/api/v1/letters", troubled_server)
        await write_letter(page, "p_demo_03", "Здравствуйте! Это письмо сначала не приняли.")
        await page.locator("#kiosk-send").click()
        await expect(page.locator("#kiosk-failed")).to_have_attribute("data-count", "1", timeout=20_000)
        await expect(page.locator("#kiosk-failed")).to_be_visible()
        await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "0")
        [record] = await page.evaluate("window.kiosk.outbox.all()")
        assert record["state"] == "failed" and record["attempts"] == 2
        assert await letters.count_documents({"client_ref": record["client_ref"]}) == 0

        await open_staff_panel(page)
        failed = page.locator("#staff-failed li")
        await expect(failed).to_have_count(1)
        await expect(failed).to_contain_text("Reason: 422 body: too odd")
        await expect(failed).not_to_contain_text("сначала")  # no letter text for passers-by
        await page.screenshot(path=screenshot_dir / "kiosk-staff.png")
        await failed.get_by_role("button", name="Send again").click()
        await expect(page.locator("#staff-failed-none")).to_be_visible()
        await expect(page.locator("#kiosk-failed")).to_be_hidden()

        async def stored_once() -> bool:
            return await letters.count_documents({"client_ref": record["client_ref"]}) == 1

        await eventually(stored_once, 20, "the letter sent again to be stored")
        await page_until(page, "window.kiosk.outbox.all().then((records) => records.length === 0)")


async def test_a_flagged_name_is_shown_next_to_it_and_the_thanks_say_a_volunteer_reads_the_letter(
    kiosk_browser, stack
):
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, query="?thanks=60&idle=600")
    await write_letter(page, "p_demo_02", "Здравствуйте! Хорошего вам дня и крепкого здоровья.", "🇺🇦Olha")
    flagged = page.locator('#kiosk-name-findings li[data-rule="symbols.flag_emoji"] .finding-excerpt')
    await expect(flagged).to_have_text("🇺🇦")
    await expect(page.locator("#kiosk-findings li.finding")).to_have_count(0)

    await page.get_by_label("First name").fill("Olha")
    await expect(flagged).to_have_count(0)
    await page.locator("#kiosk-send").click()

    await expect(page.locator("#screen-thanks")).to_be_visible()
    await expect(page.locator(".thanks-volunteer")).to_have_text(re.compile("A volunteer .* reads every letter"))
