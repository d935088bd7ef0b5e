"""Delivery's pages: the monitor's static files and the intermediary's confirmation page."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from services.delivery import bundling, pages, sending, service
from shared.auth import TooManyWrongTokens
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
    """The pages over a delivery with one e-mailed bundle; returns (client, delivery, the link's token)."""
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner(name_ru="Ремзи <b>Демо</b>"))
    await delivery.intermediaries.save(make_intermediary())
    event = make_ready("l_1")
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
    assert "sessionStorage" in script and "localStorage" not in script


async def test_the_confirmation_page_offers_both_answers_and_escapes_what_it_shows(site):
    client, _, token = site
    answer = await client.get(f"/confirm/{token}")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    assert "Ремзи &lt;b&gt;Демо&lt;/b&gt;" in answer.text and "<b>Демо" not in answer.text
    assert 'value="handed_over"' in answer.text and 'name="reason"' in answer.text


async def test_confirming_through_the_page_hands_the_letters_over_once(site):
    client, delivery, token = site
    done = await client.post(f"/confirm/{token}", data={"outcome": "handed_over"})
    again = await client.post(f"/confirm/{token}", data={"outcome": "returned", "reason": "oops"})
    assert done.status_code == again.status_code == 200
    assert "Спасибо" in done.text and "письма переданы" in again.text
    assert (await delivery.letters.get("l_1")).state == "handed_over"
    assert "письма переданы" in (await client.get(f"/confirm/{token}")).text


async def test_a_return_without_a_reason_is_asked_again(site):
    client, delivery, token = site
    answer = await client.post(f"/confirm/{token}", data={"outcome": "returned", "reason": "  "})
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert (await delivery.letters.get("l_1")).state == "sent"


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
