"""What a moderator sees of a page is what the scan prints, even when the upload hides something.

A PDF page whose image is made invisible by a soft mask of zeros, and a photo whose dark pixels
are fully transparent, go through the real services: intake flattens them, a moderator opens
them through sorting's presigned links and approves, and the approved scan carries them. The
pixels the moderator got and the pixels in the scan are compared decoded, and the hidden black
is in neither.
"""

from __future__ import annotations

import io
import json
import uuid

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from tests import hidden_pages as hidden
from tests.e2e import test_moderation as moderation

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

desk = moderation.desk  # the moderator at work, as in the moderation tests


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("L")


def scan_streams(pdf: bytes) -> list[bytes]:
    """The image stream each scan page embeds, as a PDF reader gets it (pypdf's `.image` re-encodes)."""
    streams = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        (xobject,) = (ref.get_object() for ref in page["/Resources"]["/XObject"].values())
        assert xobject["/Filter"] == "/DCTDecode"
        streams.append(xobject.get_data())
    return streams


def difference(a: Image.Image, b: Image.Image) -> tuple[float, int]:
    """Mean and largest per-pixel difference of two grayscale images of the same size."""
    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(a, b)
    return ImageStat.Stat(diff).mean[0], diff.getextrema()[1]


async def submit_pages(desk: moderation.Desk, files: list[tuple[str, bytes, str]]) -> dict:
    letter = {"prisoner_id": "p_demo_01", "body": "", "client_ref": str(uuid.uuid4()),
              "author": {"display_name": "Оксана", "city": "Полтава", "contact_consent": False},
              "source": {"channel": "web"}}
    answer = await desk.intake.post("/api/v1/letters", data={"letter": json.dumps(letter)},
                                    files=[("pages", file) for file in files])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_the_moderator_and_the_scan_get_the_same_flattened_pixels_and_nothing_hidden(desk):
    accepted = await submit_pages(desk, [
        ("transparent.png", hidden.png_hiding_dark_pixels(), "image/png"),
        ("masked.pdf", hidden.pdf_with_masked_image(), "application/pdf"),
    ])
    seen = await desk.in_review(accepted)
    assert seen["handwritten"] and len(seen["pages"]) == 2
    async with httpx.AsyncClient() as browser:
        fetched = [(await browser.get(page["url"])).content for page in seen["pages"]]

    answer = await desk.decide(accepted["id"], "approve")

    assert answer.status_code == 200, answer.text
    await desk.wait_for_status(accepted, "queued")
    embedded = scan_streams(await desk.scan(accepted["id"]))
    assert embedded == fetched  # the very bytes the moderator was shown
    shown, printed = [decoded(data) for data in fetched], [decoded(data) for data in embedded]
    for number, (moderator, scan) in enumerate(zip(shown, printed, strict=True), start=1):
        mean, largest = difference(moderator, scan)
        assert mean < 0.5 and largest <= 8, f"page {number}: the scan differs from what the moderator saw"
        for image in (moderator, scan):
            # The hidden block is black underneath; both show white paper there.
            assert hidden.hidden_area(image).getextrema()[0] > 240, f"page {number} shows the hidden content"
            assert image.getextrema()[0] < 100, f"page {number} lost its visible writing"
