"""Pages that used to jam approval: PDF pages with inline images, image XObjects, masked images,
photos hiding pixels behind transparency. Intake flattens each page once on the way in (or refuses
what it cannot flatten, such as an image bomb inside a PDF), so every accepted letter is approved by a
moderator and delivered once; none is left "approved" and retried, none parked."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest

from tests import hidden_pages
from tests.faults.pipeline import Pipeline

pytestmark = [pytest.mark.faults, pytest.mark.slow]

ACCEPTED_PAGES = {
    "inline-image.pdf": (hidden_pages.pdf_with_inline_image(800, 1000), "application/pdf"),
    "image-xobject.pdf": (hidden_pages.pdf_with_image_xobject(900, 1200), "application/pdf"),
    "masked-image.pdf": (hidden_pages.pdf_with_masked_image(), "application/pdf"),
    "hidden-pixels.png": (hidden_pages.png_hiding_dark_pixels(), "image/png"),
}
# Refused at intake, before anything is stored: it could never be printed.
BOMB = ("bomb.pdf", hidden_pages.pdf_with_inline_image(30_000, 30_000), "application/pdf")


async def _submit(client: httpx.AsyncClient, name: str, data: bytes, kind: str) -> httpx.Response:
    letter = {"prisoner_id": "p_demo_01", "body": "", "client_ref": str(uuid.uuid4()),
              "author": {"display_name": "Марта", "city": "Львов"}, "source": {"channel": "web"}}
    return await client.post("/api/v1/letters", data={"letter": json.dumps(letter)}, files=[("pages", (name, data, kind))])


def _demo_token(pipeline: Pipeline, prefix: str) -> str:
    for line in (pipeline.log_dir / "tokens.txt").read_text().splitlines():
        if line.startswith(prefix):
            return line.rsplit(": ", 1)[1]
    raise KeyError(prefix)


async def _in_review(client: httpx.AsyncClient, letter_id: str, timeout: float = 60) -> dict:
    stop_at = time.monotonic() + timeout
    while time.monotonic() < stop_at:
        answer = await client.get(f"/api/v1/moderation/letters/{letter_id}")
        if answer.status_code == 200 and answer.json()["state"] == "review_needed":
            return answer.json()
        await asyncio.sleep(0.3)
    raise AssertionError(f"letter {letter_id} never reached a moderator")


async def test_pages_that_used_to_jam_approval_are_flattened_at_intake_and_every_letter_goes_through(
        infra, tmp_path, record):
    pipeline = Pipeline(infra, "fpages", tmp_path).start()
    try:
        async with httpx.AsyncClient(base_url=pipeline.urls["intake"], timeout=60) as intake:
            answers = {name: await _submit(intake, name, data, kind) for name, (data, kind) in ACCEPTED_PAGES.items()}
            refused = await _submit(intake, *BOMB)
        assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(ACCEPTED_PAGES, 201), \
            {name: a.text for name, a in answers.items()}
        assert refused.status_code == 422, refused.text
        accepted = [a.json() for a in answers.values()]

        moderator = {"Authorization": f"Bearer {_demo_token(pipeline, 'staff token (moderator)')}"}
        async with httpx.AsyncClient(base_url=pipeline.urls["sorting"], headers=moderator, timeout=60) as sorting:
            for letter in accepted:
                shown = await _in_review(sorting, letter["id"])
                assert len(shown["pages"]) == 1
                approved = await sorting.post(f"/api/v1/moderation/letters/{letter['id']}/approve",
                                              json={"revision": shown["revision"]})
                # The approval renders the scan from the flattened page: never a server error.
                assert approved.status_code == 200, approved.text
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=120)
        tally = await pipeline.tally(accepted)
        record("pages that used to jam approval", tally)
        assert (tally.accepted, tally.delivered, tally.lost, tally.duplicated, tally.unexpected) == (4, 4, 0, 0, 0)
        assert tally.parked == 0 and tally.held == 0
    finally:
        await pipeline.stop()
