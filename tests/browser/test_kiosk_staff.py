"""The kiosk between visitors and for its staff, in a real Chromium against the real services: the staff
panel behind the PIN chosen at pairing (throttled when guessed), the countdown before a letter left alone
is cleared, every visitor starting in the kiosk's language, Send in view on a phone and a tablet, and a
kiosk unpaired by the organisers that says so and keeps its unsent letters."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PHONE, no_horizontal_overflow, open_context, page_until
from tests.browser.kiosk import PIN, open_staff_panel, pair_kiosk
from tests.browser.test_kiosk_page import (  # noqa: F401 - fixtures
    kiosk_browser,
    letters,
    set_up_kiosk,
    write_letter,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TABLET = {"width": 1180, "height": 820}
LETTER = "Здравствуйте! Пишу вам с ярмарки. Желаю здоровья и сил."


async def pin_attempt(page: Page, pin: str) -> None:
    await page.locator("#pin-input").fill(pin)
    await page.locator("#pin-submit").click()


async def test_the_staff_panel_opens_only_with_the_pin_chosen_at_pairing(kiosk_browser, stack):  # noqa: F811
    sent: list[str] = []
    kiosk_browser.context.on("request", lambda r: sent.append(f"{r.url} {r.headers} {r.post_data or ''}"))
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack)
    kept = await page.evaluate("JSON.parse(localStorage.getItem('kiosk.staffPin'))")
    assert set(kept) == {"salt", "iterations", "hash"} and kept["iterations"] >= 100_000
    await expect(page.locator("#staff-unlink")).to_be_hidden()

    await page.locator("#staff-open").click()
    await expect(page.locator("#pin-dialog")).to_be_visible()
    await pin_attempt(page, "0000")
    await expect(page.locator("#pin-message")).to_have_text("Wrong PIN.")
    await expect(page.locator("#staff")).to_be_hidden()
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#pin-dialog")).to_be_hidden()
    await expect(page.locator("#staff")).to_be_hidden()

    await open_staff_panel(page)
    await expect(page.locator("#staff-unlink")).to_be_visible()
    await expect(page.locator("#staff-valid")).to_have_text(re.compile(r"^The token works from .+ to .+\.$"))
    await page.locator("#staff-close").click()
    # Asked again at the next opening: a visitor after the volunteer finds the panel locked.
    await page.locator("#staff-open").click()
    await expect(page.locator("#pin-dialog")).to_be_visible()
    await expect(page.locator("#staff")).to_be_hidden()
    assert sent and not [request for request in sent if PIN in request]  # the PIN never left the device


async def test_wrong_pins_are_throttled_on_the_device_with_a_growing_wait(kiosk_browser, stack):  # noqa: F811
    page = await kiosk_browser.new_page()
    await page.clock.install()
    await set_up_kiosk(page, stack)
    await page.locator("#staff-open").click()
    for _ in range(2):
        await pin_attempt(page, "1111")
        await expect(page.locator("#pin-message")).to_have_text("Wrong PIN.")
        await expect(page.locator("#pin-input")).to_be_enabled()
    await pin_attempt(page, "2222")  # the third wrong one
    await expect(page.locator("#pin-message")).to_have_text(re.compile(r"Try again in (30|29) s"))
    await expect(page.locator("#pin-input")).to_be_disabled()
    await expect(page.locator("#pin-submit")).to_be_disabled()

    await page.reload()  # the wait is kept on the device, not in the page
    await expect(page.locator("#screen-home")).to_be_visible()
    await page.locator("#staff-open").click()
    await expect(page.locator("#pin-input")).to_be_disabled()
    await page.clock.fast_forward("00:31")
    await expect(page.locator("#pin-input")).to_be_enabled()
    await pin_attempt(page, "3333")  # wrong again: the next wait is twice as long
    await expect(page.locator("#pin-message")).to_have_text(re.compile(r"Try again in (60|59) s"))
    await page.clock.fast_forward("00:31")
    await expect(page.locator("#pin-input")).to_be_disabled()  # still waiting: right or wrong, nothing is tried
    await page.clock.fast_forward("00:30")
    await pin_attempt(page, PIN)
    await expect(page.locator("#staff")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('kiosk.staffPinFailures')") is None  # counted afresh


async def test_a_letter_left_alone_is_cleared_after_a_countdown_that_any_input_stops(kiosk_browser, stack):  # noqa: F811
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, query="?thanks=60&idle=6")  # the last 3 s counted down
    await write_letter(page, "p_demo_01", LETTER)
    warning = page.locator("#idle-warning")
    await expect(warning).to_be_visible(timeout=10_000)
    await expect(warning).to_have_text(re.compile(r"The letter will be cleared in [1-3] s — continue\?"))
    await page.get_by_role("button", name="Keep writing").click()
    await expect(warning).to_be_hidden()
    await expect(page.locator("#kiosk-body")).to_have_value(LETTER)

    await expect(warning).to_be_visible(timeout=10_000)
    await page.locator("#kiosk-body").press("End")  # any input keeps the letter
    await expect(warning).to_be_hidden()
    await expect(page.locator("#screen-write")).to_be_visible()
    await expect(page.locator("#kiosk-body")).to_have_value(LETTER)

    await expect(warning).to_be_visible(timeout=10_000)  # and this time nobody comes back
    await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    await expect(warning).to_be_hidden()
    await page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_01"]').click()
    await expect(page.locator("#kiosk-body")).to_have_value("")


async def test_every_visitor_starts_in_the_kiosks_language(kiosk_browser, stack):  # noqa: F811
    page = await kiosk_browser.new_page()
    await set_up_kiosk(page, stack, query="?thanks=2&idle=4", language="uk")  # an English browser
    welcome = page.locator(".kiosk-welcome")
    await expect(welcome).to_have_text("Напишіть лист кримському політв'язню")

    # A visitor switches to English, writes and sends: the next one is greeted in Ukrainian.
    await page.get_by_role("button", name="English").click()
    await expect(welcome).to_have_text("Write a letter to a Crimean political prisoner")
    await write_letter(page, "p_demo_02", LETTER)
    await page.locator("#kiosk-send").click()
    await expect(page.locator("#screen-thanks")).to_be_visible()
    await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    await expect(welcome).to_have_text("Напишіть лист кримському політв'язню")
    assert await page.evaluate("document.documentElement.lang") == "uk"

    # One switches to Russian and walks away mid-letter: the idle reset brings Ukrainian back too.
    await page.get_by_role("button", name="Русский").click()
    await write_letter(page, "p_demo_01", "Здравствуйте!")
    await expect(page.locator("#kiosk-send")).to_have_text("Отправить письмо")
    await expect(page.locator("#screen-home")).to_be_visible(timeout=15_000)
    await expect(welcome).to_have_text("Напишіть лист кримському політв'язню")

    # Staff choose English in the panel; it stays the kiosk's language after a reload.
    await open_staff_panel(page)
    await page.locator("#staff-language").select_option("en")
    await page.locator("#staff-close").click()
    await expect(welcome).to_have_text("Write a letter to a Crimean political prisoner")
    await page.get_by_role("button", name="Українська").click()
    await page.reload()
    await expect(welcome).to_have_text("Write a letter to a Crimean political prisoner")


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
async def test_send_stays_in_view_and_clear_of_the_letter_while_writing(browser, stack, viewport, screenshot_dir):
    async with open_context(browser, stack.url("intake"), viewport=viewport, has_touch=True) as kiosk:
        page = await kiosk.new_page()
        await set_up_kiosk(page, stack, query="?thanks=60&idle=600")
        long_letter = "\n".join(f"Строка {n}: здравствуйте, у нас сегодня солнечно и тепло." for n in range(40))
        await write_letter(page, "p_demo_01", long_letter)
        await page.locator("#kiosk-body").press("End")
        await page.locator("#kiosk-body").press_sequentially(" Обнимаю.")
        send = page.locator("#kiosk-send")

        async def in_view_and_uncovered() -> dict:
            return await page.evaluate("""() => {
              const rect = (id) => document.getElementById(id).getBoundingClientRect();
              const send = rect("kiosk-send"), bar = rect("kiosk-send-bar");
              const footer = document.querySelector(".kiosk-footer").getBoundingClientRect();
              const hit = document.elementFromPoint(send.left + send.width / 2, send.top + send.height / 2);
              return {send: [send.top, send.bottom], bar: [bar.top, bar.bottom], footer: footer.top,
                      field: rect("kiosk-body").bottom, height: innerHeight,
                      onTop: Boolean(hit && hit.closest("#kiosk-send"))};
            }""")

        # Typing at the end keeps the line just typed above Send (scrolled once the field has grown).
        await page_until(page, "document.getElementById('kiosk-body').getBoundingClientRect().bottom "
                               "<= document.getElementById('kiosk-send-bar').getBoundingClientRect().top + 1")
        at_the_end = await in_view_and_uncovered()
        assert 0 <= at_the_end["send"][0] and at_the_end["send"][1] <= at_the_end["height"], at_the_end
        assert at_the_end["onTop"], at_the_end  # nothing covers it, the status bar neither
        assert at_the_end["bar"][1] <= at_the_end["footer"] + 1, at_the_end  # above the status bar
        assert at_the_end["field"] <= at_the_end["bar"][0] + 1, at_the_end  # the line just typed is above Send
        await page.screenshot(path=screenshot_dir / f"kiosk-send-in-view-{viewport['width']}.png")

        await page.evaluate("window.scrollTo(0, 0)")  # reading the letter from its start
        at_the_top = await in_view_and_uncovered()
        assert at_the_top["send"][1] <= at_the_top["height"] and at_the_top["onTop"], at_the_top
        await no_horizontal_overflow(page)
        await expect(send).to_be_visible()
        await send.click()
        await expect(page.locator("#screen-thanks")).to_be_visible()


async def unpairable_kiosk(stack) -> tuple[str, str, str]:
    """An event of today and a kiosk of its own (the demo kiosk is everyone's): event id, kiosk id, token."""
    today = datetime.now(UTC).date()
    event = {"id": f"e_{uuid.uuid4().hex[:8]}", "name": "Letters evening", "city": "Lviv", "country": "UA",
             "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=1)).isoformat()}
    headers = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=headers, timeout=30) as client:
        assert (await client.post("/api/v1/events", json=event)).status_code == 201
        kiosk_id = f"k_{uuid.uuid4().hex[:8]}"
        made = await client.post(f"/api/v1/events/{event['id']}/kiosks", json={"kiosk_id": kiosk_id, "name": "Stand"})
        assert made.status_code == 201, made.text
    return event["id"], kiosk_id, made.json()["token"]


async def unpair(stack, event_id: str, kiosk_id: str) -> None:
    headers = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=headers, timeout=30) as client:
        assert (await client.delete(f"/api/v1/events/{event_id}/kiosks/{kiosk_id}")).status_code == 204


async def test_a_kiosk_unpaired_by_the_organisers_says_so_and_keeps_its_unsent_letters(
    kiosk_browser, stack, letters, screenshot_dir  # noqa: F811
):
    event_id, kiosk_id, token = await unpairable_kiosk(stack)
    page = await kiosk_browser.new_page()
    await page.goto(f"/kiosk?thanks=2&idle=600#token={token}")
    await pair_kiosk(page)
    await expect(page.locator("#kiosk-event")).to_have_text("Letters evening · Lviv")
    await expect(page.locator('button.kiosk-prisoner[data-prisoner-id="p_demo_03"]')).to_be_visible()

    await kiosk_browser.context.set_offline(True)
    await write_letter(page, "p_demo_03", LETTER)
    await page.locator("#kiosk-send").click()
    await expect(page.locator("#kiosk-waiting")).to_have_attribute("data-count", "1")
    await expect(page.locator("#screen-home")).to_be_visible(timeout=10_000)
    [record] = await page.evaluate("window.kiosk.outbox.all()")

    await unpair(stack, event_id, kiosk_id)
    await kiosk_browser.context.set_offline(False)  # the next request is refused
    await expect(page.locator("#screen-unpaired")).to_be_visible(timeout=30_000)
    await expect(page.locator("#screen-unpaired h1")).to_have_text("This kiosk was unpaired by the organisers.")
    await expect(page.locator("#unpaired-kept")).to_have_text(re.compile("not yet sent from this kiosk: 1"))
    await expect(page.locator("#kiosk-auth")).to_have_attribute("data-reason", "unpaired")
    await expect(page.locator("#screen-home")).to_be_hidden()
    await page.screenshot(path=screenshot_dir / "kiosk-unpaired.png")

    kept = await page.evaluate("window.kiosk.outbox.all()")
    assert [(r["client_ref"], r["state"]) for r in kept] == [(record["client_ref"], "waiting")]
    assert await letters.count_documents({"client_ref": record["client_ref"]}) == 0

    await page.reload()  # still unpaired, still keeping the letter
    await expect(page.locator("#screen-unpaired")).to_be_visible()
    await open_staff_panel(page)
    await expect(page.locator("#staff-unpaired")).to_be_visible()
    waiting = page.locator("#staff-waiting li")
    await expect(waiting).to_have_count(1)
    await expect(waiting).not_to_contain_text("ярмарки")  # no letter text for passers-by
