"""The writer's page and the receipt page in a real Chromium, against the real services."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect
from pymongo import AsyncMongoClient

from tests.browser.conftest import open_context

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
CLEAN_LETTER = (
    "Здравствуйте, Ремзи!\n"
    "Пишу вам из Полтавы. У нас выпал первый снег, и ёлки во дворе стоят белые. "
    "Вчера я испекла пирог с айвой, весь дом пахнет мёдом.\n"
    "Желаю вам здоровья, терпения и тёплых дней. Мы помним о вас."
)
STATUS_NAMES = {
    "queued": "Waiting to be passed on",
    "held": "On hold for now",
    "bundled": "Packed with other letters",
    "sent": "Sent to relatives or a lawyer",
    "handed_over": "Handed over",
}
# The flag comes first: its two code points are four UTF-16 units, so every highlight after it
# is only in the right place if the page converts the server's offsets.
FLAGGED_LETTER = (
    "Здравствуйте! 🇺🇦 Слава Украине! Позвоните мне: +380 67 123 45 67.\nОбнимаю и желаю здоровья."
)


async def test_pages_are_served_with_a_strict_content_security_policy(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake")) as client:
        for path in ("/", "/kiosk", "/receipt", "/static/writer.js", "/static/base.css"):
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["content-security-policy"].startswith(CSP), path
            assert "media-src 'self' blob:" in answer.headers["content-security-policy"], path
            assert answer.headers["x-content-type-options"] == "nosniff"
        for path in ("/", "/kiosk", "/receipt"):
            html = (await client.get(path)).text
            assert "<script>" not in html and " style=" not in html and "<style" not in html, path
        assert (await client.get("/static/../api.py")).status_code == 404


async def test_typed_letter_gets_a_receipt_that_follows_the_pipeline(web, stack, screenshot_dir):
    page = await web.new_page()
    await page.goto("/")
    cards = page.locator("label.prisoner")
    for demo in ("p_demo_01", "p_demo_02", "p_demo_03", "p_demo_04"):  # other tests may add more
        await expect(page.locator(f'label.prisoner[data-prisoner-id="{demo}"]')).to_have_count(1)
    released = page.locator('label.prisoner[data-prisoner-id="p_demo_04"]')
    await expect(released).to_contain_text("Released")
    await expect(released.locator("input")).to_be_disabled()
    # Those who can be written to first; the released and the deceased after them.
    closed = [await card.locator("input").is_disabled() for card in await cards.all()]
    assert closed == sorted(closed) and any(closed) and not all(closed), closed

    await page.locator('label.prisoner[data-prisoner-id="p_demo_01"]').click()
    await expect(page.locator('input[value="p_demo_01"]')).to_be_checked()
    await page.locator("#letter-body").fill(CLEAN_LETTER)
    await expect(page.locator("#hints-summary")).to_have_text("All good so far.")
    await expect(page.locator("mark.flag")).to_have_count(0)
    await page.get_by_label("First name").fill("Олена")
    await page.get_by_label("City").fill("Полтава")
    await page.screenshot(path=screenshot_dir / "writer-filled.png", full_page=True)

    await page.get_by_role("button", name="Send the letter").click()
    await expect(page.locator("#done")).to_be_visible()
    await expect(page.locator("#letter-form")).to_be_hidden()
    link = page.locator("#receipt-link")
    href = await link.get_attribute("href")
    match = re.fullmatch(r"/receipt#(l_[0-9a-f]+)\.([A-Za-z0-9_-]+)", href or "")
    assert match, href
    letter_id = match.group(1)
    await expect(link).to_have_text(f"{web.base_url}{href}")
    await page.screenshot(path=screenshot_dir / "writer-done.png", full_page=True)

    mongo = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        stored = await mongo[f"{stack.infra.namespace}-intake"]["letters"].find_one({"_id": letter_id})
    finally:
        await mongo.close()
    assert stored["body"] == CLEAN_LETTER
    assert stored["channel"] == "web"
    assert (stored["writer_display_name"], stored["writer_city"]) == ("Олена", "Полтава")

    await link.click()
    await expect(page).to_have_url(re.compile(rf"/receipt#{letter_id}\."))
    await expect(page.locator("#receipt-to")).to_have_text("Letter to Remzi Demo")
    await expect(page.locator("#status")).to_have_text(re.compile(r"\w"))
    # The page refreshes itself every ~10 s while sorting and delivery do their part for real:
    # the letter passes the checks and reaches delivery (queued, or already further on).
    beyond_sorting = re.compile(r"^(queued|held|bundled|sent|handed_over)$")
    await expect(page.locator("#status-now")).to_have_attribute("data-status", beyond_sorting, timeout=90_000)
    status, shown = await page.evaluate(
        "() => [document.getElementById('status-now').dataset.status, document.getElementById('status').textContent]"
    )
    assert shown == STATUS_NAMES[status]  # in plain words
    steps = [await s.get_attribute("data-status") for s in await page.locator(".timeline-step").all()]
    assert steps[:3] == ["received", "ready", "queued"], steps
    await expect(page.locator(".timeline-step .timeline-status").nth(2)).to_have_text(
        "Waiting to be passed on"
    )
    await expect(page.locator("#receipt-id")).to_have_text(f"Letter number: {letter_id}")
    await page.screenshot(path=screenshot_dir / "receipt.png", full_page=True)


async def test_flagged_phrases_are_highlighted_before_sending(web, screenshot_dir):
    page = await web.new_page()
    submissions = []
    page.on(
        "request",
        lambda r: submissions.append(r.url) if r.method == "POST" and r.url.endswith("/letters") else None,
    )
    await page.goto("/")
    await page.locator('label.prisoner[data-prisoner-id="p_demo_02"]').click()
    await page.locator("#letter-body").press_sequentially("Здравствуйте! ")
    await page.locator("#letter-body").fill(FLAGGED_LETTER)

    slogan = page.locator('mark.flag[data-rules~="slogans.glory_to_ukraine"]')
    await expect(slogan).to_have_text("Слава Украине")
    await expect(slogan).to_have_attribute("data-severity", "block")
    await expect(page.locator('mark.flag[data-rules~="symbols.flag_emoji"]')).to_have_text("🇺🇦")
    await expect(page.locator('mark.flag[data-rules~="personal_data.phone"]')).to_have_text(
        "+380 67 123 45 67"
    )
    # The highlight lies on the words in the field, not somewhere else on the page.
    field = await page.locator("#letter-body").bounding_box()
    mark = await slogan.bounding_box()
    assert field["x"] <= mark["x"] and mark["x"] + mark["width"] <= field["x"] + field["width"]
    assert field["y"] <= mark["y"] and mark["y"] + mark["height"] <= field["y"] + field["height"]

    findings = page.locator("#findings li.finding")
    # The flag is also reported as something the scan's font cannot print: four findings.
    await expect(findings).to_have_count(4)
    await expect(page.locator('#findings li[data-rule="unprintable.characters"]')).to_have_count(1)
    await expect(page.locator("#hints-summary")).to_have_text("Places worth changing: 4")
    await expect(findings.first.locator(".finding-excerpt")).to_have_text("🇺🇦")
    await expect(
        page.locator('#findings li[data-rule="slogans.glory_to_ukraine"] .finding-message')
    ).to_contain_text("slogan")

    # Sending a letter the censor will stop needs a second, deliberate click.
    await page.get_by_role("button", name="Send the letter").click()
    await expect(page.locator("#block-confirm")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "writer-flagged.png", full_page=True)
    await page.get_by_role("button", name="Fix the letter").click()
    await expect(page.locator("#block-confirm")).to_be_hidden()
    assert (
        await page.evaluate(
            "() => { const f = document.getElementById('letter-body');"
            " return f.value.slice(f.selectionStart, f.selectionEnd); }"
        )
        == "🇺🇦"
    )

    # Removing the slogan keeps the other highlights in place, and the re-check confirms them.
    body = FLAGGED_LETTER.replace("Слава Украине! ", "")
    await page.locator("#letter-body").fill(body)
    await expect(slogan).to_have_count(0)
    await expect(findings).to_have_count(3)  # flag, its unprintable note, phone
    await expect(page.locator('mark.flag[data-rules~="personal_data.phone"]')).to_have_text(
        "+380 67 123 45 67"
    )
    assert submissions == []


async def test_interface_language_follows_the_browser_and_the_switch(browser, stack, screenshot_dir):
    async with open_context(browser, stack.url("intake"), locale="uk-UA") as ukrainian:
        page = await ukrainian.new_page()
        await page.goto("/")
        await expect(page.locator("html")).to_have_attribute("lang", "uk")
        await expect(page.locator("#step1-title")).to_have_text("1. Оберіть, кому написати")
        await expect(
            page.locator('label.prisoner[data-prisoner-id="p_demo_01"] .prisoner-name')
        ).to_have_text("Ремзі Демо")
        await expect(page.get_by_role("button", name="Українська")).to_have_attribute("aria-pressed", "true")
        await page.locator('label.prisoner[data-prisoner-id="p_demo_01"]').click()
        await page.locator("#letter-body").fill("Привет! Слава Украине!")
        message = page.locator('#findings li[data-rule="slogans.glory_to_ukraine"] .finding-message')
        await expect(message).to_be_visible()
        ukrainian_message = await message.text_content()

        await page.get_by_role("button", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.locator("#step1-title")).to_have_text("1. Choose who to write to")
        await expect(page.locator("#guide-title")).to_have_text("How to write so the letter gets through")
        await expect(
            page.locator('label.prisoner[data-prisoner-id="p_demo_01"] .prisoner-name')
        ).to_have_text("Remzi Demo")
        await expect(page.get_by_role("button", name="Send the letter")).to_be_visible()
        await expect(message).to_contain_text("slogan")  # the hints are asked for again in English
        assert await message.text_content() != ukrainian_message
        await expect(page.locator('input[value="p_demo_01"]')).to_be_checked()  # the choice survives

        await page.get_by_role("button", name="Русский").click()
        await expect(page.locator("#step1-title")).to_have_text("1. Выберите, кому написать")
        await expect(
            page.locator('label.prisoner[data-prisoner-id="p_demo_01"] .prisoner-name')
        ).to_have_text("Ремзи Демо")
        await expect(page.locator("#letter-body")).to_have_value("Привет! Слава Украине!")
        await page.screenshot(path=screenshot_dir / "writer-russian.png", full_page=False)

        await page.reload()  # remembered, and the draft is still there
        await expect(page.locator("#step1-title")).to_have_text("1. Выберите, кому написать")
        assert await page.evaluate("localStorage.getItem('letters.lang')") == "ru"
        await expect(page.locator("#letter-body")).to_have_value("Привет! Слава Украине!")


async def test_receipt_page_explains_a_broken_or_wrong_link(web):
    page = await web.new_page()
    await page.goto("/receipt")
    await expect(page.locator("#receipt-message")).to_have_text(re.compile("link is incomplete"))
    await page.goto("/receipt#l_00000000000000000000.not-the-token")
    await expect(page.locator("#receipt-message")).to_have_text(re.compile("Letter not found"))
    await expect(page.locator("#receipt-body")).to_be_hidden()


async def test_sending_again_after_a_lost_answer_makes_no_second_letter(web, stack):
    page = await web.new_page()
    answers: list[int] = []

    async def lose_first_answer(route) -> None:
        if route.request.method != "POST" or answers:
            await route.continue_()
            return
        answers.append((await route.fetch()).status)  # stored by the server...
        await route.abort("connectionreset")  # ...but the writer never hears of it

    await page.route("**/api/v1/letters", lose_first_answer)
    page.on(
        "response",
        lambda r: (
            answers.append(r.status) if r.request.method == "POST" and r.url.endswith("/letters") else None
        ),
    )
    await page.goto("/")
    await page.locator('label.prisoner[data-prisoner-id="p_demo_03"]').click()
    await page.locator("#letter-body").fill("Здравствуйте! Пусть у вас будет тёплый и спокойный вечер.")
    await page.get_by_role("button", name="Send the letter").click()
    await expect(page.locator("#submit-error")).to_have_text(re.compile("No connection"))
    await expect(page.locator("#letter-body")).to_have_value(re.compile("тёплый"))  # nothing lost
    await page.get_by_role("button", name="Send the letter").click()
    await expect(page.locator("#done")).to_be_visible()
    assert answers == [201, 200]
    letter_id = re.search(
        r"#(l_[0-9a-f]+)\.", await page.locator("#receipt-link").get_attribute("href")
    ).group(1)
    mongo = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        stored = await mongo[f"{stack.infra.namespace}-intake"]["letters"].find_one({"_id": letter_id})
        same = await mongo[f"{stack.infra.namespace}-intake"]["letters"].count_documents(
            {"client_ref": stored["client_ref"]}
        )
    finally:
        await mongo.close()
    assert same == 1


async def test_highlights_follow_edits_until_the_next_check(web):
    page = await web.new_page()
    await page.goto("/")
    moved = await page.evaluate(
        """async () => {
          const { shiftFindings, codePointOffsets } = await import("/static/editor.js");
          const found = [{ start: 0, end: 5, rule: "a" }, { start: 10, end: 15, rule: "b" }];
          const spans = (findings) => findings.map((f) => [f.rule, f.start, f.end]);
          const before = "aaaaa-----bbbbb";
          return {
            typedBefore: spans(shiftFindings(found, before, "XXaaaaa-----bbbbb")),
            typedBetween: spans(shiftFindings(found, before, "aaaaa--X---bbbbb")),
            typedInside: spans(shiftFindings(found, before, "aaXaaa-----bbbbb")),
            deletedAfter: spans(shiftFindings(found, before, "aaaaa-----bbb")),
            offsets: codePointOffsets("a🇺🇦b"),
          };
        }"""
    )
    assert moved == {
        "typedBefore": [["a", 2, 7], ["b", 12, 17]],
        "typedBetween": [["a", 0, 5], ["b", 11, 16]],
        "typedInside": [["b", 11, 16]],  # an edited word waits for the next check
        "deletedAfter": [["a", 0, 5]],
        "offsets": [0, 1, 3, 5, 6],  # code points → UTF-16 units: a flag letter is two units
    }


async def test_what_is_flagged_in_the_name_and_city_is_shown_next_to_them(web, screenshot_dir):
    page = await web.new_page()
    await page.goto("/")
    await page.locator('label.prisoner[data-prisoner-id="p_demo_01"]').click()
    await page.locator("#letter-body").fill(CLEAN_LETTER)
    await expect(page.locator(".volunteer-note")).to_have_text(re.compile("A volunteer .* reads every letter"))
    # Printed under the letter, so screened like it; a leading blank must not shift the highlight.
    await page.get_by_label("First name").fill(" 🇺🇦Оксана")
    await page.get_by_label("City").fill("Слава Украине")

    in_name = page.locator('#author-name-findings li[data-rule="symbols.flag_emoji"]')
    in_city = page.locator('#author-city-findings li[data-rule="slogans.glory_to_ukraine"]')
    await expect(in_name.locator(".finding-excerpt")).to_have_text("🇺🇦")
    await expect(in_city.locator(".finding-excerpt")).to_have_text("Слава Украине")
    await expect(in_city.locator(".finding-message")).to_contain_text("slogan")
    await expect(page.get_by_label("City")).to_have_attribute("data-flag", "block")
    await expect(page.locator("#findings li.finding")).to_have_count(0)  # the text itself is clean
    await expect(page.locator("#hints-summary")).to_contain_text("look at the name and city below")
    await page.screenshot(path=screenshot_dir / "writer-flagged-signature.png", full_page=True)

    # The censor would stop the signature as surely as the text: sending needs the second click.
    await page.get_by_role("button", name="Send the letter").click()
    await expect(page.locator("#block-confirm")).to_be_visible()
    await page.get_by_role("button", name="Fix the letter").click()
    assert await page.evaluate(
        "() => { const f = document.activeElement; return [f.id, f.value.slice(f.selectionStart, f.selectionEnd)]; }"
    ) == ["author-name", "🇺🇦"]

    await page.get_by_label("First name").fill("Оксана")
    await expect(in_name).to_have_count(0)
    await expect(page.get_by_label("First name")).not_to_have_attribute("data-flag", re.compile("."))
    await page.get_by_role("button", name="Send the letter").click()
    await page.get_by_role("button", name="Send it for review").click()
    await expect(page.locator("#done")).to_be_visible()

    await page.locator("#receipt-link").click()
    await expect(page.locator("#receipt-findings-list li").first).to_contain_text("City: ")
    await expect(page.locator(".volunteer-note")).to_have_text(re.compile("A volunteer .* reads every letter"))


GERMAN_LETTER = (
    "Lieber Remzi, wir denken jeden Tag an dich. Bei uns in Berlin blühen die Kastanien, und am "
    "Wochenende waren wir mit den Kindern am See. Wir warten auf dich und schicken dir viel Kraft."
)


@pytest.mark.parametrize("locale, prompt, translate, rewrite", [
    ("en-GB", "A volunteer can translate your letter", "Send it for a volunteer to translate",
     "Rewrite it in Russian"),
    ("uk-UA", "Волонтер може перекласти ваш лист", "Надіслати волонтерові на переклад",
     "Переписати російською"),
    ("ru-RU", "Волонтёр может перевести ваше письмо", "Отправить волонтёру на перевод",
     "Переписать по-русски"),
], ids=["en", "uk", "ru"])
async def test_a_letter_not_in_russian_is_offered_a_volunteers_translation(
    browser, stack, locale, prompt, translate, rewrite
):
    async with open_context(browser, stack.url("intake"), locale=locale) as web:
        page = await web.new_page()
        await page.goto("/")
        await page.locator('label.prisoner[data-prisoner-id="p_demo_01"]').click()
        await page.locator("#letter-body").fill(GERMAN_LETTER)
        await page.locator("#author-name").fill("Jonas")
        await page.locator("#submit").click()

        choice = page.locator("#language-choice")
        await expect(choice).to_be_visible()
        await expect(choice).to_contain_text(prompt)
        await expect(page.locator("#submit")).to_be_hidden()
        await page.get_by_role("button", name=rewrite).click()
        await expect(choice).to_be_hidden()
        await expect(page.locator("#letter-body")).to_be_focused()

        await page.locator("#submit").click()
        await page.get_by_role("button", name=translate).click()
        await expect(page.locator("#done")).to_be_visible()
        href = await page.locator("#receipt-link").get_attribute("href")
        letter_id = re.fullmatch(r"/receipt#(l_[0-9a-f]+)\..+", href or "").group(1)

    mongo = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        stored = await mongo[f"{stack.infra.namespace}-intake"]["letters"].find_one({"_id": letter_id})
    finally:
        await mongo.close()
    assert stored["body"] == GERMAN_LETTER
    assert stored["translation_requested"] is True
