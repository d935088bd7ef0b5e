"""Masks end to end: a moderator masks a line of a photographed page through sorting's API; the
letter's history and revision record it, bad or stale masks are refused, and the scan delivery
sends has the region burned into the page's pixels. Real processes and servers."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader

from shared.page_image import mask_pixels
from tests.e2e.test_moderation import Desk, open_desk
from tests.support import darkest_and_lightest, lined_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LINE = {"x": 0.05, "y": 0.4, "width": 0.9, "height": 0.05}


@pytest.fixture
async def desk(stack) -> AsyncIterator[Desk]:
    async with open_desk(stack) as desk:
        yield desk


async def test_a_masked_line_is_burned_into_the_delivered_scan_and_recorded(desk):
    accepted = await desk.submit("", pages=[lined_page(900, 1200), lined_page(900, 1200)])
    seen = await desk.in_review(accepted)
    masks = f"/api/v1/moderation/letters/{accepted['id']}/masks"

    # Refused, with nothing changed: a page the letter lacks, an empty or out-of-page rectangle, a stale revision.
    for body in ({**LINE, "page": 3}, {**LINE, "page": 1, "height": 0}, {**LINE, "page": 1, "x": 0.5},
                 {**LINE, "page": 1, "y": 1.5}):
        refused = await desk.sorting.post(masks, json={**body, "revision": seen["revision"]}, headers=desk.moderator)
        assert refused.status_code == 422, (body, refused.text)
    stale = await desk.sorting.post(masks, json={**LINE, "page": 1, "revision": seen["revision"] + 1},
                                    headers=desk.moderator)
    assert stale.status_code == 409

    masked = await desk.sorting.post(masks, json={**LINE, "page": 2, "note": "адреса", "revision": seen["revision"]},
                                     headers=desk.moderator)
    assert masked.status_code == 200, masked.text
    shown = masked.json()
    assert shown["revision"] == seen["revision"] + 1 and shown["redacted"]
    (mask,) = shown["masks"]
    assert mask["page"] == 2 and mask["note"] == "адреса" and mask["by"] == "test-moderator"
    entry = next(e for e in shown["history"] if e["decision"] == "masked")
    assert entry["page"] == 2 and entry["rectangle"] == LINE and entry["by"] == "test-moderator"
    # The moderator sees the page as it will be printed.
    async with httpx.AsyncClient() as browser:
        image = Image.open(io.BytesIO((await browser.get(shown["pages"][1]["url"])).content))
    assert darkest_and_lightest(image, mask_pixels(image.size, tuple(LINE.values())))[1] <= 1

    # An approval of the revision before the mask is refused; of the masked one, it goes to delivery.
    old = await desk.decide(accepted["id"], "approve", {"revision": seen["revision"]})
    assert old.status_code == 409
    approved = await desk.decide(accepted["id"], "approve", {"revision": shown["revision"]})
    assert approved.status_code == 200, approved.text
    await desk.wait_for_status(accepted, "queued")

    stored = await desk.scan(accepted["id"])
    assert hashlib.sha256(stored).hexdigest() == (await desk.sorted_letter(accepted["id"]))["scan_sha256"]
    first, second = (page.images[0].image for page in PdfReader(io.BytesIO(stored)).pages)
    box = mask_pixels(second.size, tuple(LINE.values()))
    assert darkest_and_lightest(second, box)[1] <= 1  # black in the image's own pixels
    assert darkest_and_lightest(first, box)[0] < 80  # the other page prints its handwriting there
    assert darkest_and_lightest(second, (0, 0, second.width, box[1]))[0] < 80  # and so does the rest of this one
    assert b"/Annots" not in stored


async def test_a_mask_can_be_taken_off_again_while_the_letter_is_in_review(desk):
    accepted = await desk.submit("", pages=[lined_page(900, 1200)])
    seen = await desk.in_review(accepted)
    masks = f"/api/v1/moderation/letters/{accepted['id']}/masks"
    mask = (await desk.sorting.post(masks, json={**LINE, "page": 1}, headers=desk.moderator)).json()["masks"][0]

    removed = await desk.sorting.delete(f"{masks}/{mask['id']}", params={"revision": seen["revision"] + 1},
                                        headers=desk.moderator)

    assert removed.status_code == 200, removed.text
    assert removed.json()["masks"] == [] and removed.json()["revision"] == seen["revision"] + 2
    assert [e["decision"] for e in removed.json()["history"]][-2:] == ["masked", "unmasked"]
    again = await desk.sorting.delete(f"{masks}/{mask['id']}", headers=desk.moderator)
    assert again.status_code == 422
    rejected = await desk.decide(accepted["id"], "reject", {"reason_code": "other", "note": "Не по теме."})
    assert rejected.status_code == 200
    late = await desk.sorting.post(masks, json={**LINE, "page": 1}, headers=desk.moderator)
    assert late.status_code == 409
