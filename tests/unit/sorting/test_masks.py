"""A moderator's mask over a photographed page: checked, burned into the page's pixels (never drawn
over them in the PDF), recorded in the history, and printed exactly as the approved revision had it."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from services.sorting import masks, moderation
from services.sorting.domain import Mask, MaskRefused, boxes_on, was_redacted, with_mask, without_mask
from services.sorting.moderation import NotInReview
from services.sorting.service import sort_letter
from shared.events import LetterReady
from shared.page_image import burn_masks, is_page_jpeg, mask_pixels, masked_page_jpeg, page_jpeg
from tests.unit.sorting.conftest import make_received
from tests.unit.sorting.fakes import MemoryPageLinks

# A block of pure black decodes from a JPEG as 0 or 1 (the DC coefficient's rounding): nothing of what was there.
JPEG_BLACK = 1
LETTER = {"revision": 2, "page_keys": ["pages/a.jpg", "pages/b.jpg"]}


def handwriting(size=(640, 800)) -> Image.Image:
    """A grayscale page: light paper with dark lines of "handwriting" everywhere."""
    image = Image.new("L", size, 235)
    draw = ImageDraw.Draw(image)
    for y in range(40, size[1] - 40, 40):
        draw.line((30, y, size[0] - 30, y), fill=40, width=6)
    return image


def region(image: Image.Image, box: tuple[int, int, int, int]) -> list[int]:
    return list(image.crop(box).tobytes())


# ---------------------------------------------------------------- checking a mask

def test_a_mask_inside_a_page_of_the_letter_is_taken_with_its_note_tidied():
    stored, after = with_mask(LETTER, Mask(page=2, x=0.1, y=0.2, width=0.5, height=0.05, note="  адреса \n в"), "m")

    assert stored == {"id": "m3", "page": 2, "x": 0.1, "y": 0.2, "width": 0.5, "height": 0.05, "note": "адреса в",
                      "by": "m"}
    assert after == [stored]


@pytest.mark.parametrize(("mask", "says"), [
    (Mask(page=3, x=0.1, y=0.1, width=0.2, height=0.2), "page 3 is not one of the letter.s pages"),
    (Mask(page=0, x=0.1, y=0.1, width=0.2, height=0.2), "page 0 is not one"),
    (Mask(page=1, x=0.1, y=0.1, width=0.0, height=0.2), "empty"),
    (Mask(page=1, x=0.1, y=0.1, width=0.2, height=0.001), "empty"),
    (Mask(page=1, x=0.9, y=0.1, width=0.2, height=0.2), "inside the page"),
    (Mask(page=1, x=-0.1, y=0.1, width=0.2, height=0.2), "inside the page"),
    (Mask(page=1, x=0.1, y=0.95, width=0.2, height=0.1), "inside the page"),
    (Mask(page=1, x=float("nan"), y=0.1, width=0.2, height=0.1), "numbers"),
    (Mask(page=1, x=0.1, y=0.1, width=0.2, height=0.1, note="я" * 201), "at most 200"),
])
def test_a_mask_off_the_pages_empty_or_outside_the_page_is_refused(mask, says):
    with pytest.raises(MaskRefused, match=says):
        with_mask(LETTER, mask, "m")


def test_a_typed_or_translated_letter_has_no_page_to_mask():
    with pytest.raises(MaskRefused, match="photographed pages"):
        with_mask({"revision": 0, "page_keys": []}, Mask(1, 0.1, 0.1, 0.2, 0.2), "m")
    with pytest.raises(MaskRefused, match="translated"):
        with_mask({**LETTER, "translation": {"text": "…"}}, Mask(1, 0.1, 0.1, 0.2, 0.2), "m")


def test_a_rectangle_a_rounding_error_past_the_edge_ends_at_the_edge():
    stored, _ = with_mask(LETTER, Mask(page=1, x=0.7, y=0.9, width=0.30000000001, height=0.1), "m")
    assert stored["x"] + stored["width"] <= 1 and stored["y"] + stored["height"] <= 1


def test_masks_come_off_by_id_and_each_page_has_its_own():
    first, after = with_mask(LETTER, Mask(1, 0.1, 0.1, 0.2, 0.2), "m")
    second, after = with_mask({**LETTER, "revision": 3, "masks": after}, Mask(2, 0.5, 0.5, 0.1, 0.1), "m")
    assert boxes_on(after, 1) == [(0.1, 0.1, 0.2, 0.2)] and boxes_on(after, 2) == [(0.5, 0.5, 0.1, 0.1)]
    removed, left = without_mask({"masks": after}, first["id"])
    assert removed == first and left == [second]
    with pytest.raises(MaskRefused, match="no mask"):
        without_mask({"masks": left}, "m99")


def test_a_masked_letter_counts_as_changed_by_a_moderator():
    letter = {"text": "", "body": "", "writer_first_name": "A", "writer_city": None, "printed_writer_first_name": "A",
              "printed_writer_city": None}
    assert not was_redacted(letter)
    assert was_redacted({**letter, "masks": [{"id": "m1"}]})


# ---------------------------------------------------------------- burning a mask in

def test_the_masked_pixels_are_opaque_black_and_every_other_pixel_is_unchanged():
    page = handwriting()
    box = (0.1, 0.25, 0.6, 0.04)

    burned = burn_masks(page, [box])

    x0, y0, x1, y1 = mask_pixels(page.size, box)
    assert (x0, y0) <= (64, 200) and x1 >= 448 and y1 >= 232  # at least what was drawn
    assert set(region(burned, (x0, y0, x1, y1))) == {0}
    outside = Image.new("1", page.size, 1)
    outside.paste(0, (x0, y0, x1, y1))
    assert [p for p, keep in zip(burned.tobytes(), outside.convert("L").tobytes(), strict=True) if keep] == \
        [p for p, keep in zip(page.tobytes(), outside.convert("L").tobytes(), strict=True) if keep]


def test_a_mask_is_widened_to_whole_jpeg_blocks_so_its_edges_hide_everything_drawn_over():
    assert mask_pixels((640, 800), (0.1, 0.1, 0.1, 0.1)) == (64, 80, 128, 160)
    assert mask_pixels((641, 801), (0.011, 0.011, 0.5, 0.5)) == (0, 8, 328, 416)
    assert mask_pixels((640, 800), (0.99, 0.99, 0.01, 0.01)) == (632, 792, 640, 800)


def test_the_stored_masked_page_is_in_the_page_form_black_inside_and_as_before_outside():
    original = page_jpeg(handwriting())
    box = (0.2, 0.3, 0.5, 0.05)

    masked = masked_page_jpeg(original, [box])

    assert is_page_jpeg(masked)  # so the scan embeds it byte for byte
    with Image.open(io.BytesIO(masked)) as after, Image.open(io.BytesIO(original)) as before:
        x0, y0, x1, y1 = mask_pixels(after.size, box)
        assert max(region(after, (x0, y0, x1, y1))) <= JPEG_BLACK
        # Blocks away from the mask were coded the same way again: at most JPEG's rounding apart.
        far = (0, 0, after.width, y0 - 16)
        assert max(abs(a - b) for a, b in zip(region(after, far), region(before, far), strict=True)) <= 8


def test_what_is_not_an_image_cannot_be_masked():
    with pytest.raises(ValueError, match="not an image"):
        masked_page_jpeg(b"%PDF-1.7 ...", [(0.1, 0.1, 0.2, 0.2)])


# ---------------------------------------------------------------- the use cases

async def handwritten_in_review(deps, letter_id="l_masked") -> str:
    deps.scans.objects.update({"pages/p1.jpg": page_jpeg(handwriting()), "pages/p2.jpg": page_jpeg(handwriting())})
    received = make_received(letter_id, body="", page_keys=["pages/p1.jpg", "pages/p2.jpg"], channel="paper")
    assert await sort_letter(received, deps) == "review_needed"
    return letter_id


def scan_images(deps, letter_id) -> list[Image.Image]:
    pdf = deps.scans.objects[deps.letters.letters[letter_id]["scan_key"]]
    return [image.image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


async def test_a_masked_page_is_what_the_moderator_sees_and_what_the_scan_prints(deps):
    letter_id = await handwritten_in_review(deps)
    box = (0.1, 0.2, 0.5, 0.05)

    letter = await masks.add_mask(letter_id, "moderator-1", Mask(2, *box, note="адреса"), deps, revision=0)

    assert letter["revision"] == 1 and letter["page_keys"] == ["pages/p1.jpg", "pages/p2.jpg"]
    masked_key = letter["masked_page_keys"][1]
    assert letter["masked_page_keys"][0] == "pages/p1.jpg" and masked_key.startswith("pages/masked/")
    shown = await moderation.letter_for_moderator(letter_id, deps, MemoryPageLinks(), "uk")
    assert shown.page_links[1] == f"https://files.example.org/{masked_key}?expires=600"
    (entry,) = [e for e in shown.history if e["decision"] == "masked"]
    assert entry["by"] == "moderator-1" and entry["page"] == 2 and entry["note"] == "адреса"
    assert entry["rectangle"] == dict(zip(("x", "y", "width", "height"), box, strict=True))

    await moderation.approve(letter_id, "moderator-1", deps, revision=1)

    first, second = scan_images(deps, letter_id)
    x0, y0, x1, y1 = mask_pixels(second.size, box)
    assert max(region(second, (x0, y0, x1, y1))) <= JPEG_BLACK
    assert min(region(first, (x0, y0, x1, y1))) < 100  # the other page's lines are printed as written
    assert deps.outbox.of(LetterReady)[0].redacted
    approved = next(e for e in await deps.decisions.history(letter_id) if e["decision"] == "approved")
    assert [m["id"] for m in approved["masks"]] == ["m1"]


async def test_a_mask_taken_off_prints_the_page_as_sent_again(deps):
    letter_id = await handwritten_in_review(deps)
    await masks.add_mask(letter_id, "m", Mask(1, 0.1, 0.1, 0.3, 0.1), deps)

    letter = await masks.remove_mask(letter_id, "m", "m1", deps, revision=1)

    assert letter["revision"] == 2 and letter["masks"] == [] and letter["masked_page_keys"] is None
    assert [e["decision"] for e in await deps.decisions.history(letter_id)][-2:] == ["masked", "unmasked"]
    shown = await moderation.letter_for_moderator(letter_id, deps, MemoryPageLinks(), "uk")
    assert shown.page_links[0].endswith("pages/p1.jpg?expires=600")


async def test_a_mask_on_a_changed_or_decided_letter_is_refused_and_changes_nothing(deps):
    letter_id = await handwritten_in_review(deps)
    await masks.add_mask(letter_id, "first", Mask(1, 0.1, 0.1, 0.3, 0.1), deps, revision=0)

    with pytest.raises(NotInReview) as stale:
        await masks.add_mask(letter_id, "second", Mask(1, 0.5, 0.5, 0.3, 0.1), deps, revision=0)
    assert stale.value.state == "review_needed"
    assert [m["by"] for m in deps.letters.letters[letter_id]["masks"]] == ["first"]

    await moderation.approve(letter_id, "first", deps, revision=1)
    with pytest.raises(NotInReview):
        await masks.remove_mask(letter_id, "first", "m1", deps)
    with pytest.raises(NotInReview):
        await masks.add_mask(letter_id, "first", Mask(1, 0.5, 0.5, 0.3, 0.1), deps)


async def test_an_approval_of_the_revision_before_a_mask_is_refused(deps):
    letter_id = await handwritten_in_review(deps)
    await masks.add_mask(letter_id, "other", Mask(1, 0.1, 0.1, 0.3, 0.1), deps, revision=0)

    with pytest.raises(NotInReview):
        await moderation.approve(letter_id, "me", deps, revision=0)
    assert deps.letters.letters[letter_id]["state"] == "review_needed"


async def test_the_queue_version_changes_when_a_letter_arrives_changes_or_leaves(deps):
    before, waiting = await deps.letters.queue_version()
    assert waiting == 0
    letter_id = await handwritten_in_review(deps)
    arrived, waiting = await deps.letters.queue_version()
    assert arrived != before and waiting == 1
    assert (await deps.letters.queue_version())[0] == arrived  # nothing happened: the same version
    await masks.add_mask(letter_id, "m", Mask(1, 0.1, 0.1, 0.3, 0.1), deps)
    changed, _ = await deps.letters.queue_version()
    assert changed != arrived
    await moderation.approve(letter_id, "m", deps)
    assert await deps.letters.queue_version() == (before, 0)
