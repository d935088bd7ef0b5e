"""Delivery's pages: the monitor's static files and the intermediary's confirmation page."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from services.delivery import bundling, handover, pages, sending, service
from services.delivery.domain import OUTCOMES
from shared.auth import TooManyWrongTokens
from shared.events import LetterDeliveryUpdated
from tests.unit.delivery.factories import make_intermediary, make_prisoner, make_ready, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class WrongTokens:
    """FailedSignIns' answer to wrong tokens, in memory: three per address, then 429."""

    def __init__(self, limit: int = 3) -> None:
        self.limit, self.counted = limit, 0

    async def wrong_token(self, address: str) -> None:
        if self.counted >= self.limit:
            raise TooManyWrongTokens(60)
        self.counted += 1


@pytest.fixture
async def site():
    """The pages over a delivery with one e-mailed bundle of three letters; returns (client, delivery, the link's token)."""
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner(name_ru="Ремзи <b>Демо</b>"))
    await delivery.intermediaries.save(make_intermediary())
    for number in (1, 2, 3):
        event = make_ready(f"l_{number}")
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)
    await bundling.build_bundles(delivery)
    await sending.send_due(delivery)
    token = delivery.channels["email"].parcels[0].confirm_url.rsplit("/", 1)[1]
    app = FastAPI()
    app.include_router(pages.router)
    app.state.delivery = delivery
    app.state.failed_sign_ins = WrongTokens()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://delivery.test") as client:
        yield client, delivery, token


async def test_the_monitor_and_its_assets_carry_the_strict_content_security_policy(site):
    client, _, _ = site
    for path in ("/monitor", "/static/monitor.js", "/static/monitor.css"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_monitor_has_no_inline_script_or_style_and_never_writes_html(site):
    client, _, _ = site
    page = (await client.get("/monitor")).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page, re.IGNORECASE), "inline style or handler"
    assert not re.search(r"https?://", page), "nothing from other origins"
    script = (await client.get("/static/monitor.js")).text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink
    # The token is the staff kit's business, kept for this tab only; the page touches no storage.
    assert "Storage" not in script
    kit = (await client.get("/staff-kit/kit.js")).text
    assert "sessionStorage" in kit and "localStorage" not in kit


def open_to_answer(page: str) -> list[str]:
    return re.findall(r'<fieldset id="letter-(\d+)"', page)


async def test_the_confirmation_page_lists_the_letters_by_number_in_russian_and_escapes_what_it_shows(site):
    client, _, token = site
    answer = await client.get(f"/confirm/{token}")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    assert '<html lang="ru">' in page and "Передача писем" in page and "3 письма" in page
    assert "Ремзи &lt;b&gt;Демо&lt;/b&gt;" in page and "<b>Демо" not in page
    assert open_to_answer(page) == ["1", "2", "3"] and "Письмо 2 для" in page
    assert 'value="handed_over"' in page and 'name="reason-3"' in page and 'name="reason"' in page
    # The letters' ids are delivery's own; the page names letters by their number only.
    assert "l_1" not in page and "l_2" not in page
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", page, re.IGNORECASE)


async def test_the_language_switch_is_a_link_that_is_remembered(site):
    client, delivery, token = site
    ukrainian = await client.get(f"/confirm/{token}?lang=uk")
    assert '<html lang="uk">' in ukrainian.text and "Передача листів" in ukrainian.text
    assert "3 листи" in ukrainian.text and 'href="?lang=ru"' in ukrainian.text
    (bundle,) = await delivery.bundles.listing(["sent"], 1)
    assert bundle.sent_at.date().isoformat() == "2027-01-15"  # the fake clock's day
    assert "надіслано 15 січня 2027." in ukrainian.text
    assert ukrainian.cookies.get("confirm_lang") == "uk"
    assert "Передача листів" in (await client.get(f"/confirm/{token}")).text
    russian = await client.get(f"/confirm/{token}?lang=ru")
    assert "Передача писем" in russian.text and "отправлены 15 января 2027." in russian.text
    assert "Передача писем" in (await client.get(f"/confirm/{token}?lang=xx")).text


async def test_a_partial_hand_over_through_the_page_keeps_the_rest_open(site):
    client, delivery, token = site
    saved = await client.post(f"/confirm/{token}?lang=uk", data={
        "scope": "letters", "letter-1": "handed_over", "reason-1": "", "letter-2": "blocked",
        "reason-2": "цензор не пропустив", "letter-3": "", "reason-3": ""})
    assert saved.status_code == 303 and saved.headers["location"] == f"/confirm/{token}?lang=uk&done=saved"

    page = (await client.get(saved.headers["location"])).text
    assert 'role="status"' in page and "Збережено" in page
    assert open_to_answer(page) == [] and 'id="handed-over"' in page, "one letter left: the whole-bundle forms"
    assert "Причина: цензор не пропустив" in page and page.count('class="undo"') == 2
    delivery.clock.advance(delivery.policy.undo_window_s)
    await handover.finalise_answers(delivery)
    assert [(await delivery.letters.get(f"l_{n}")).state for n in (1, 2, 3)] == ["handed_over", "blocked", "sent"]


async def test_returned_or_blocked_without_a_reason_is_asked_again_keeping_what_was_typed(site):
    client, delivery, token = site
    answer = await client.post(f"/confirm/{token}", data={
        "scope": "letters", "letter-1": "handed_over", "letter-2": "returned", "reason-2": "  ", "letter-3": "blocked",
        "reason-3": "x" * 301})
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert 'aria-invalid="true"' in answer.text and "Напишите коротко" in answer.text and "не больше 300" in answer.text
    assert re.search(r'name="letter-1" value="handed_over"\s+checked', answer.text)
    whole = await client.post(f"/confirm/{token}", data={"scope": "bundle", "outcome": "returned", "reason": ""})
    assert whole.status_code == 422 and 'id="problem-0"' in whole.text
    assert delivery.confirmations.given == {}
    assert {doc["state"] for doc in delivery.letters.docs.values()} == {"sent"}


async def test_a_double_submit_is_counted_once(site):
    client, delivery, token = site
    for _ in range(2):
        assert (await client.post(f"/confirm/{token}", data={"outcome": "handed_over"})).status_code == 303
    assert delivery.audit.actions().count("link.answer") == 3
    delivery.clock.advance(delivery.policy.undo_window_s)
    page = (await client.get(f"/confirm/{token}")).text
    assert "Спасибо!" in page and page.count('data-status="final"') == 3
    handed = [e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state == "handed_over"]
    assert sorted(e.letter_id for e in handed) == ["l_1", "l_2", "l_3"]


async def test_undo_within_the_window_reopens_the_letter_and_is_refused_after_it(site):
    client, delivery, token = site
    await client.post(f"/confirm/{token}", data={"scope": "letters", "letter-1": "handed_over", "letter-2": "handed_over"})
    undone = await client.post(f"/confirm/{token}/undo?lang=ru", data={"letter": "2"})
    assert undone.status_code == 303 and undone.headers["location"].endswith("done=undone")
    page = (await client.get(undone.headers["location"])).text
    assert "Отметка отменена" in page and open_to_answer(page) == ["2", "3"]

    delivery.clock.advance(delivery.policy.undo_window_s)
    late = await client.post(f"/confirm/{token}/undo", data={"letter": "1"})
    assert late.status_code == 409 and "Время на отмену прошло" in late.text
    assert [(await delivery.letters.get(f"l_{n}")).state for n in (1, 2, 3)] == ["handed_over", "sent", "sent"]
    assert [e.letter_id for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state == "handed_over"] == ["l_1"]


async def test_an_unknown_link_says_so_without_telling_anything_else(site):
    client, _, _ = site
    answer = await client.get("/confirm/guessed-token")
    assert answer.status_code == 404 and "Ремзи" not in answer.text
    assert (await client.post("/confirm/guessed-token", data={"outcome": "handed_over"})).status_code == 404


async def test_guessed_links_are_throttled_while_the_real_link_still_opens(site):
    client, _, token = site
    answers = [(await client.get(f"/confirm/guess-{n}")).status_code for n in range(5)]
    assert answers == [404, 404, 404, 429, 429]
    throttled = await client.get("/confirm/guess-6")
    assert "Retry-After" in throttled.headers and "text/html" in throttled.headers["content-type"]
    assert (await client.get(f"/confirm/{token}")).status_code == 200


async def test_every_answer_still_in_its_window_can_be_undone_at_once(site):
    client, delivery, token = site
    await client.post(f"/confirm/{token}", data={"scope": "bundle", "outcome": "returned", "reason": "колония закрыта"})
    assert "Отменить все отметки" in (await client.get(f"/confirm/{token}")).text
    undone = await client.post(f"/confirm/{token}/undo", data={"letter": "all"}, follow_redirects=True)
    assert open_to_answer(undone.text) == ["1", "2", "3"] and delivery.confirmations.given == {}
    assert delivery.audit.actions().count("link.undo") == 3


def test_both_languages_have_every_text_the_templates_ask_for():
    assert set(pages.CATALOGUES["ru"]) == set(pages.CATALOGUES["uk"])
    templates = "".join(path.read_text() for path in (pages.TEMPLATES_DIR / "confirm").glob("*.html"))
    asked = set(re.findall(r"""\bt\(\s*["']([a-z_]*[a-z])["']""", templates))  # not the families' prefixes
    built = {f"{family}{member}" for family, members in {
        "outcome_": OUTCOMES, "choice_": ("later", *OUTCOMES),
        "problem_": ("reason_missing", "reason_too_long", "unknown_outcome", "nothing_chosen", "too_late", "closed"),
    }.items() for member in members}
    assert asked and asked | built | {"language_name", "letters_count"} <= set(pages.CATALOGUES["ru"])
