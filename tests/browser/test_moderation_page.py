"""The moderators' page in a real Chromium against the real services: sign in once, flagged
passages highlighted, approve and reject from the keyboard, redact a selection, photographed
pages shown, bulk approval, and a letter full of HTML shown as plain text."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.e2e.test_moderation import staff_token
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FLAGGED = "Здравствуйте! Держитесь, мы с вами. Слава Украине! Обнимаем."
HTML_LETTER = (
    'Привет! <script>window.__owned = 1</script><img src=x onerror="window.__owned = 2">'
    "<b>жирный</b> &amp; Слава Украине!"
)
CLEAN = "Добрый день! У нас цветут каштаны, и мы вспоминаем вас. Желаем здоровья."


@pytest.fixture
async def moderation_browser(browser: Browser, stack) -> AsyncIterator[BrowserContext]:
    """A fresh profile on sorting's origin; any uncaught error or CSP violation fails the test."""
    async with open_context(browser, stack.url("sorting"), viewport={"width": 1366, "height": 900}) as browsing:
        yield browsing.context


async def submit(stack, body: str, prisoner_id: str = "p_demo_01", pages: list[bytes] = (),
                 via_kiosk: bool = False) -> dict:
    letter = {
        "prisoner_id": prisoner_id,
        "body": body,
        "client_ref": str(uuid.uuid4()),
        "author": {"display_name": "Марта", "city": "Львов"},
        "source": {"channel": "kiosk" if via_kiosk else "web"},
    }
    # The web page refuses a released prisoner; a kiosk's letter (maybe written before the news) is taken.
    headers = {"Authorization": f"Bearer {stack.demo_token('kiosk token for k_demo_01')}"} if via_kiosk else {}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        if pages:
            files = [("pages", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(pages)]
            answer = await intake.post("/api/v1/letters", data={"letter": json.dumps(letter)}, files=files,
                                       headers=headers)
        else:
            answer = await intake.post("/api/v1/letters", json=letter, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def sorting_state(stack, token: str, letter_id: str) -> str | None:
    async with httpx.AsyncClient(base_url=stack.url("sorting")) as sorting:
        answer = await sorting.get(
            f"/api/v1/moderation/letters/{letter_id}", headers={"Authorization": f"Bearer {token}"}
        )
    return answer.json()["state"] if answer.status_code == 200 else None


async def wait_for_state(stack, token: str, letter_id: str, state: str) -> None:
    async def reached() -> bool:
        return await sorting_state(stack, token, letter_id) == state

    await eventually(reached, 30, f"letter {letter_id} to be {state}")


def photo() -> bytes:
    image = Image.new("RGB", (600, 800), (250, 246, 235))
    ImageDraw.Draw(image).text((40, 40), "Дорогой друг", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


async def sign_in(page: Page, token: str) -> None:
    await page.goto("/moderation")
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.get_by_label("Токен персоналу").fill(token)
    await page.get_by_role("button", name="Увійти").click()
    await expect(page.locator("#desk")).to_be_visible()


async def open_letter(page: Page, letter_id: str) -> None:
    await page.locator(f'.queue-item[data-letter-id="{letter_id}"] button.open').click()
    await expect(page.locator("#letter")).to_have_attribute("data-letter-id", letter_id)


async def test_moderator_signs_in_sees_highlights_approves_and_rejects(
    moderation_browser, stack, screenshot_dir
):
    token = await staff_token(stack, "moderator")
    approve_me = await submit(stack, FLAGGED)
    reject_me = await submit(stack, FLAGGED + " Второе письмо.")
    for accepted in (approve_me, reject_me):
        await wait_for_state(stack, token, accepted["id"], "review_needed")
    page = await moderation_browser.new_page()

    await sign_in(page, token)
    assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") == token
    await page.reload()
    await expect(page.locator("#desk")).to_be_visible()  # the token is remembered in this tab

    await open_letter(page, approve_me["id"])
    mark = page.locator("#letter-text mark", has_text="Слава Украине")
    await expect(mark).to_have_count(1)
    assert "slogans" in await mark.get_attribute("title")
    await expect(page.locator("#letter-findings .finding").first).to_contain_text("slogans")
    await page.screenshot(path=screenshot_dir / "moderation-flagged-letter.png", full_page=True)

    await page.locator("#letter-text").click()
    await page.keyboard.press("a")  # a block-level finding: the key opens the confirmation, never approves
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await page.locator("#confirm-list input[type=checkbox]").check()
    await page.get_by_role("button", name="Схвалити з цими знахідками").click()
    await expect(page.locator("#notice")).to_contain_text("Схвалено")
    await wait_for_state(stack, token, approve_me["id"], "ready")
    await expect(page.locator(f'.queue-item[data-letter-id="{approve_me["id"]}"]')).to_have_count(0)

    await open_letter(page, reject_me["id"])
    await page.locator("#letter-text").click()
    await page.keyboard.press("r")
    await expect(page.locator("#reject-reason")).to_be_focused()
    await page.keyboard.type("Лозунги в письме; напишите, пожалуйста, о себе и о доме.")
    await page.keyboard.press("Enter")
    await expect(page.locator("#notice")).to_contain_text("відхилено")
    await wait_for_state(stack, token, reject_me["id"], "rejected")


async def test_letter_with_html_is_shown_as_text_and_a_selection_can_be_redacted(moderation_browser, stack):
    token = await staff_token(stack, "moderator")
    accepted = await submit(stack, HTML_LETTER)
    await wait_for_state(stack, token, accepted["id"], "review_needed")
    page = await moderation_browser.new_page()
    await sign_in(page, token)

    await open_letter(page, accepted["id"])

    text = page.locator("#letter-text")
    await expect(text).to_contain_text("<script>window.__owned = 1</script>")
    await expect(text).to_contain_text("<b>жирный</b> &amp;")
    assert await text.locator("script, img, b").count() == 0
    assert await page.evaluate("window.__owned") is None

    # Select the flagged slogan as a moderator would, then redact it with the keyboard.
    await page.evaluate("""() => {
        const mark = [...document.querySelectorAll('#letter-text mark')].find(m => m.textContent.includes('Слава'));
        const range = document.createRange();
        range.selectNodeContents(mark);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
    }""")
    await page.keyboard.press("e")
    await expect(page.locator("#redact-replacement")).to_be_focused()
    await page.keyboard.type("[…]")
    await page.keyboard.press("Enter")
    await expect(text).to_contain_text("&amp; […]")
    await expect(text.locator("mark", has_text="Слава")).to_have_count(0)
    await expect(text.locator("mark", has_text="script")).to_have_count(1)  # the Latin text: a language finding
    await page.keyboard.press("a")
    await wait_for_state(stack, token, accepted["id"], "ready")


async def test_photographed_pages_are_shown_and_clean_letters_are_approved_in_bulk(
    moderation_browser, stack, screenshot_dir
):
    token = await staff_token(stack, "moderator")
    handwritten = await submit(stack, "", pages=[photo(), photo()])
    clean = [await submit(stack, f"{CLEAN} ({n})", prisoner_id="p_demo_04", via_kiosk=True) for n in range(2)]
    for accepted in (handwritten, *clean):
        await wait_for_state(stack, token, accepted["id"], "review_needed")
    page = await moderation_browser.new_page()
    await sign_in(page, token)

    await open_letter(page, handwritten["id"])
    images = page.locator("#letter-pages img")
    await expect(images).to_have_count(2)
    for n in range(2):
        await expect(images.nth(n)).to_have_js_property("complete", True)
        assert await images.nth(n).evaluate("img => img.naturalWidth") == 600
    await page.screenshot(path=screenshot_dir / "moderation-handwritten.png", full_page=True)

    for accepted in clean:
        await page.locator(f'.queue-item[data-letter-id="{accepted["id"]}"] input.choose').check()
    assert await page.locator(f'.queue-item[data-letter-id="{handwritten["id"]}"] input.choose').count() == 0
    await page.get_by_role("button", name="Схвалити вибрані чисті листи (2)").click()

    await expect(page.locator("#notice")).to_contain_text("Схвалено листів: 2.")
    for accepted in clean:
        await wait_for_state(stack, token, accepted["id"], "ready")
    assert await sorting_state(stack, token, handwritten["id"]) == "review_needed"


async def test_page_refuses_a_token_that_is_not_a_moderators(moderation_browser, stack):
    page = await moderation_browser.new_page()
    await page.goto("/moderation")
    await page.get_by_label("Токен персоналу").fill(await staff_token(stack, "operator"))
    await page.get_by_role("button", name="Увійти").click()
    await expect(page.locator("#sign-in-message")).to_contain_text("модератор або адміністратор")
    await page.get_by_label("Токен персоналу").fill("not-a-token")
    await page.get_by_role("button", name="Увійти").click()
    await expect(page.locator("#sign-in-message")).to_contain_text("Токен не прийнято")
    assert await page.evaluate("sessionStorage.getItem('letters.staffToken')") is None


async def test_page_is_served_with_a_strict_content_security_policy(stack):
    async with httpx.AsyncClient(base_url=stack.url("sorting")) as sorting:
        answer = await sorting.get("/moderation")
    csp = answer.headers["content-security-policy"]
    assert answer.status_code == 200
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert f"img-src 'self' blob: data: {stack.infra.s3_endpoint_url}" in csp
    assert "unsafe-inline" not in csp and " http: " not in csp


async def test_on_a_phone_a_letter_fits_and_the_page_speaks_the_chosen_language(browser, stack):
    token = await staff_token(stack, "moderator")
    # One unbroken word as long as a line of a letter: it wraps, never widens the page.
    accepted = await submit(stack, FLAGGED + " " + "Оченьдлинноесловобезпробелов" * 4)
    await wait_for_state(stack, token, accepted["id"], "review_needed")
    async with open_context(browser, stack.url("sorting"), viewport=PHONE) as browsing:
        page = await browsing.new_page()
        await sign_in(page, token)
        await expect(page.locator("#lane-careful")).to_contain_text("Уважна черга")
        await open_letter(page, accepted["id"])
        await expect(page.locator("#approve")).to_contain_text("Схвалити")
        await no_horizontal_overflow(page)

        await page.locator("#lang-switch button[data-lang=en]").click()
        await expect(page.locator("#approve")).to_contain_text("Approve")
        await expect(page.locator("#letter-to")).to_contain_text("To ")
        await page.reload()
        await expect(page.locator("#lane-careful")).to_contain_text("Careful lane")
        await page.locator("#lang-switch button[data-lang=ru]").click()
        await expect(page.locator("#lane-careful")).to_contain_text("Внимательная очередь")
        await no_horizontal_overflow(page)


def sideways_photo() -> bytes:
    """A page photographed with the phone turned: wider than tall."""
    image = Image.new("RGB", (800, 500), (250, 246, 235))
    ImageDraw.Draw(image).text((40, 40), "Привет из Полтавы", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


async def frame_size(page: Page) -> tuple[float, float]:
    box = await page.locator("dialog.kit-viewer .kit-viewer-frame").bounding_box()
    assert box is not None
    return box["width"], box["height"]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, PHONE], ids=["desktop", "phone"])
async def test_a_photographed_page_opens_large_to_zoom_turn_and_step_through(browser, stack, viewport):
    from axe_playwright_python.async_playwright import Axe

    token = await staff_token(stack, "moderator")
    handwritten = await submit(stack, "", pages=[sideways_photo(), photo()])
    await wait_for_state(stack, token, handwritten["id"], "review_needed")
    async with open_context(browser, stack.url("sorting"), viewport=viewport) as browsing:
        page = await browsing.new_page()
        await sign_in(page, token)
        await open_letter(page, handwritten["id"])
        await page.get_by_role("button", name="Відкрити сторінку 1 великою").click()
        viewer = page.locator("dialog.kit-viewer")
        await expect(viewer).to_be_visible()
        await expect(viewer.get_by_role("heading")).to_have_text("Сторінка 1 з 2")
        await expect(viewer.locator(".kit-viewer-frame img")).to_have_js_property("complete", True)
        await expect(viewer).to_have_attribute("data-rotation", "0")
        wide, tall = await frame_size(page)
        assert wide > tall  # the sideways photo, as photographed

        # Turned upright: the frame (what the stage scrolls over) takes the turned shape.
        await viewer.get_by_role("button", name="Повернути праворуч").click()
        await expect(viewer).to_have_attribute("data-rotation", "90")
        await expect(viewer.locator(".kit-viewer-state")).to_have_text("Масштаб 100 %, поворот 90°")
        turned_wide, turned_tall = await frame_size(page)
        assert turned_tall > turned_wide
        await viewer.get_by_role("button", name="Збільшити").click()
        await expect(viewer).to_have_attribute("data-zoom", "1.5")
        zoomed_wide, zoomed_tall = await frame_size(page)
        assert abs(zoomed_tall / turned_tall - 1.5) < 0.02 and abs(zoomed_wide / turned_wide - 1.5) < 0.02
        results = await Axe().run(page)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious

        # The next page keeps the reading scale but not the turn (each photo lies its own way);
        # the first stays turned when we come back to it.
        await page.keyboard.press("ArrowRight")
        await expect(viewer.get_by_role("heading")).to_have_text("Сторінка 2 з 2")
        await expect(viewer).to_have_attribute("data-rotation", "0")
        await expect(viewer).to_have_attribute("data-zoom", "1.5")
        await expect(viewer.get_by_role("button", name="Наступна сторінка")).to_be_disabled()
        await viewer.get_by_role("button", name="Попередня сторінка").click()
        await expect(viewer).to_have_attribute("data-rotation", "90")
        await no_horizontal_overflow(page)

        await page.keyboard.press("Escape")
        await expect(viewer).to_be_hidden()
        await expect(page.get_by_role("button", name="Відкрити сторінку 1 великою")).to_be_focused()
        # Turning is how the page is looked at, not a change to the letter: it stays as uploaded.
        assert await sorting_state(stack, token, handwritten["id"]) == "review_needed"


async def test_a_moderator_transcribes_photographed_pages_and_the_transcription_is_screened(
    moderation_browser, stack
):
    token = await staff_token(stack, "moderator")
    handwritten = await submit(stack, "", pages=[photo()])
    typed = await submit(stack, FLAGGED)
    for accepted in (handwritten, typed):
        await wait_for_state(stack, token, accepted["id"], "review_needed")
    page = await moderation_browser.new_page()
    await sign_in(page, token)

    await open_letter(page, typed["id"])
    await expect(page.locator("#transcription-form")).to_be_hidden()  # typed text is screened as it is

    await open_letter(page, handwritten["id"])
    await page.get_by_label("Розшифровка сторінок").fill("Дорогой друг! Слава Украине! Обнимаем.")
    await page.get_by_role("button", name="Перевірити й зберегти").click()
    await expect(page.locator("#notice")).to_contain_text("Розшифровку збережено; знахідок у ній: 1.")
    await expect(page.locator("#transcription-marked mark")).to_have_text("Слава Украине")
    await expect(page.locator('#letter-findings li[data-field="transcription"]')).to_contain_text("у розшифровці")

    # A block-level finding in the transcription asks for the same confirmation as one in typed text.
    await page.locator("#approve").click()
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await page.keyboard.press("Escape")
    assert await sorting_state(stack, token, handwritten["id"]) == "review_needed"
    async with httpx.AsyncClient(base_url=stack.url("sorting")) as sorting:
        shown = (await sorting.get(f"/api/v1/moderation/letters/{handwritten['id']}",
                                   headers={"Authorization": f"Bearer {token}"})).json()
    assert shown["transcription"] == "Дорогой друг! Слава Украине! Обнимаем."
    assert any(entry["decision"] == "redacted" for entry in shown["history"])


async def test_an_approval_parked_after_its_scan_kept_failing_is_listed_and_a_moderator_sends_it_again(
    moderation_browser, stack
):
    from datetime import timedelta

    from pymongo import AsyncMongoClient

    from shared.events import utc_now
    from shared.mongo import stored_time

    token = await staff_token(stack, "moderator")
    handwritten = await submit(stack, "", pages=[photo()])
    await wait_for_state(stack, token, handwritten["id"], "review_needed")
    # As the release sweep leaves a letter after its tenth failed scan (the failures themselves are
    # the unit and contract tests'): approved, undo window over, parked with the last error.
    client = AsyncMongoClient(stack.infra.mongodb_url)
    window_over = stored_time(utc_now() - timedelta(hours=1))
    try:
        await client[f"{stack.infra.namespace}-sorting"]["letters"].update_one(
            {"_id": handwritten["id"]},
            {"$set": {"state": "approved", "decided_by": "moderator", "undo_until": window_over,
                      "release_at": window_over, "release_parked": True, "release_failures": 10,
                      "release_error": "UnidentifiedImageError('cannot identify image file')"}})
    finally:
        await client.close()

    page = await moderation_browser.new_page()
    await sign_in(page, token)
    stuck = page.locator(f'#stuck .stuck-item[data-letter-id="{handwritten["id"]}"]')
    await expect(page.locator("#stuck h2")).to_have_text("Схвалені, але скан не вдається")
    await expect(stuck).to_contain_text("скан не вдався 10 раз(и)")
    await expect(stuck.locator(".error")).to_have_text("UnidentifiedImageError('cannot identify image file')")

    # The page is a real photo, so once given its attempts back the release sweep scans and sends it.
    await stuck.get_by_role("button", name="Спробувати ще раз").click()
    await expect(page.locator("#notice")).to_contain_text("знову піде на сканування")
    await expect(page.locator("#stuck")).to_be_hidden()
    await wait_for_state(stack, token, handwritten["id"], "ready")
