"""A moderator masks a region of a photographed page (one line the censor must not see), or takes a
mask off again, while the letter is in review.

A mask is a moderator's change to what is printed, like a redaction: conditional on the revision
the moderator read, it bumps the revision (so an approval is always of the masks the moderator saw)
and goes into the history with who, when, which page and which rectangle. Its pixels are burned into
a new stored image of the page (shared/page_image.py) before the letter points at it: the moderators'
page shows that image and the scan embeds it as it is, so what is approved is what is printed, and
no rectangle lies over the photo in the PDF for anyone to lift off.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from services.sorting.domain import Mask, MaskRefused, boxes_on, with_mask, without_mask
from services.sorting.moderation import CHANGED, NotInReview, find_letter
from services.sorting.service import SortingDeps
from shared.page_image import masked_page_jpeg

# Masked images are named by their content: a retried or a concurrent mask writes the same bytes to
# the same key, and a refused change (another moderator was quicker) only leaves an unused object.
MASKED_PAGES_PREFIX = "pages/masked/"


async def add_mask(letter_id: str, by: str, mask: Mask, deps: SortingDeps, *,
                   revision: int | None = None) -> dict[str, Any]:
    letter = await _in_review(letter_id, deps, revision)
    stored, masks = with_mask(letter, mask, by)
    await _save(letter, masks, by, deps)
    await deps.decisions.record(letter_id, f"masked:{letter['revision'] + 1}", {
        "by": by, "revision": letter["revision"] + 1, "mask_id": stored["id"], "page": stored["page"],
        "rectangle": _rectangle(stored), "note": stored["note"]})
    return await find_letter(letter_id, deps)


async def remove_mask(letter_id: str, by: str, mask_id: str, deps: SortingDeps, *,
                      revision: int | None = None) -> dict[str, Any]:
    letter = await _in_review(letter_id, deps, revision)
    removed, masks = without_mask(letter, mask_id)
    await _save(letter, masks, by, deps)
    await deps.decisions.record(letter_id, f"unmasked:{letter['revision'] + 1}", {
        "by": by, "revision": letter["revision"] + 1, "mask_id": removed["id"], "page": removed["page"],
        "rectangle": _rectangle(removed), "note": removed["note"]})
    return await find_letter(letter_id, deps)


async def _in_review(letter_id: str, deps: SortingDeps, revision: int | None) -> dict[str, Any]:
    letter = await find_letter(letter_id, deps)
    if letter["state"] != "review_needed":
        raise NotInReview(letter["state"], f"the letter is no longer in review (it is {letter['state']})")
    if revision is not None and revision != letter["revision"]:
        raise NotInReview("review_needed", CHANGED)
    return letter


async def _save(letter: dict[str, Any], masks: list[dict[str, Any]], by: str, deps: SortingDeps) -> None:
    """Burn each page's masks into a copy of the page as intake stored it, then point the letter at the copies."""
    keys = [await _printed_page(key, boxes_on(masks, number), deps)
            for number, key in enumerate(letter["page_keys"], start=1)]
    changes = {"masks": masks, "masked_page_keys": keys if masks else None}
    if not await deps.letters.mark_redacted(letter["_id"], letter["revision"], changes, by):
        raise NotInReview("review_needed", CHANGED)


async def _printed_page(key: str, boxes: list[tuple[float, float, float, float]], deps: SortingDeps) -> str:
    if not boxes:
        return key
    original = await deps.scans.get(key)
    try:
        # Pillow's work (a few tens of milliseconds for a page) off the event loop.
        masked = await asyncio.to_thread(masked_page_jpeg, original, boxes)
    except ValueError as error:
        raise MaskRefused("this page is not a photo and cannot be masked") from error
    masked_key = f"{MASKED_PAGES_PREFIX}{hashlib.sha256(masked).hexdigest()}.jpg"
    await deps.scans.put(masked_key, masked, "image/jpeg")
    return masked_key


def _rectangle(mask: dict[str, Any]) -> dict[str, float]:
    return {name: mask[name] for name in ("x", "y", "width", "height")}
