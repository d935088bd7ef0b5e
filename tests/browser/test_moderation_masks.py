"""Masking a region of a photographed page on the moderators' page, in the Ukrainian interface, at
desktop and phone size: drawn with the mouse (or typed in per cent), saved with a note, shown burned
into the page, approved, and burned into the delivered scan's image (not drawn over it)."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image
from playwright.async_api import Page, expect
from pypdf import PdfReader

from shared.page_image import mask_pixels
from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context
from tests.browser.test_moderation_page import open_letter, sign_in, submit, wait_for_state
from tests.e2e.test_moderation import open_desk, staff_token
from tests.support import darkest_and_lightest, lined_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESKTOP = {"width": 1366, "height": 900}
# The line to hide: from 10 % to 90 % across, 30 % to 36 % down the page.
LINE = (0.1, 0.3, 0.8, 0.06)


async def draw_rectangle(page: Page, box: tuple[float, float, float, float]) -> None:
    image = await page.locator("#mask-image").bounding_box()
    assert image is not None
    x, y, w, h = box
    await page.mouse.move(image["x"] + x * image["width"], image["y"] + y * image["height"])
    await page.mouse.down()
    await page.mouse.move(image["x"] + (x + w) * image["width"], image["y"] + (y + h) * image["height"], steps=6)
    await page.mouse.up()


async def type_rectangle(page: Page, box: tuple[float, float, float, float]) -> None:
    for label, value in zip(("Зліва", "Згори", "Ширина", "Висота"), box, strict=True):
        await page.locator("#mask-form").get_by_label(label, exact=True).fill(str(round(value * 100, 1)))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_moderator_masks_a_line_of_a_photo_approves_and_the_scan_has_it_burned_in(browser, stack, viewport,
                                                                                       screenshot_dir):
    from axe_playwright_python.async_playwright import Axe

    token = await staff_token(stack, "moderator")
    handwritten = await submit(stack, "", pages=[lined_page()])
    await wait_for_state(stack, token, handwritten["id"], "review_needed")
    async with open_context(browser, stack.url("sorting"), viewport=viewport) as browsing:
        page = await browsing.new_page()
        await sign_in(page, token)
        await open_letter(page, handwritten["id"])
        masks = page.locator("#masks")
        await expect(masks.get_by_role("heading")).to_have_text("Закриті ділянки сторінок")
        await expect(masks).to_contain_text("Нічого не закрито.")

        await page.get_by_role("button", name="Закрити ділянку сторінки…").click()
        await expect(page.locator("#mask-image")).to_have_js_property("complete", True)
        if viewport is DESKTOP:
            await draw_rectangle(page, LINE)
        else:  # the keyboard's way, which a phone's keypad takes too
            await type_rectangle(page, LINE)
        await expect(page.locator("#mask-box")).to_be_visible()
        assert abs(float(await page.locator("#mask-x").input_value()) - 10) < 1.5
        assert abs(float(await page.locator("#mask-height").input_value()) - 6) < 1.5
        await page.get_by_label("Примітка (чому; не друкується)").fill("адреса на фото")
        await no_horizontal_overflow(page)
        await page.screenshot(path=screenshot_dir / f"moderation-mask-{viewport['width']}.png", full_page=True)
        results = await Axe().run(page)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious

        await page.get_by_role("button", name="Закрити ділянку", exact=True).click()
        await expect(page.locator("#notice")).to_contain_text("Ділянку сторінки 1 закрито")
        await expect(page.locator("#mask-list li")).to_contain_text("Сторінка 1")
        await expect(page.locator("#mask-list li")).to_contain_text("адреса на фото")
        await expect(page.locator("#mask-form")).to_be_hidden()
        # What the moderator now sees is the page as printed: the line is black in the image itself.
        thumbnail = page.locator("#letter-pages img")
        assert "pages/masked/" in (await thumbnail.get_attribute("src") or "")
        async with httpx.AsyncClient() as http:
            shown = Image.open(io.BytesIO((await http.get(await thumbnail.get_attribute("src"))).content))
        inside = mask_pixels(shown.size, LINE)
        assert darkest_and_lightest(shown, inside)[1] <= 1

        await page.keyboard.press("a")  # no block-level findings on a photo: approved at once
        await expect(page.locator("#notice")).to_contain_text("Схвалено")
        await wait_for_state(stack, token, handwritten["id"], "ready")

    async with open_desk(stack) as desk:
        letter = await desk.sorted_letter(handwritten["id"])
        scan = await desk.scan(handwritten["id"])
    (mask,) = letter["masks"]
    assert mask["by"] == "test-moderator" and mask["page"] == 1 and mask["note"] == "адреса на фото"
    (page_image,) = PdfReader(io.BytesIO(scan)).pages[0].images
    printed = page_image.image
    box = mask_pixels(printed.size, (mask["x"], mask["y"], mask["width"], mask["height"]))
    assert darkest_and_lightest(printed, box)[1] <= 1  # the handwriting under the mask is gone from the pixels
    assert darkest_and_lightest(printed, (0, 0, printed.width, box[1]))[0] < 80  # the lines above are printed as written
    assert b"/Annots" not in scan  # nothing lies over the page that could be lifted off
