"""Every uploaded page is flattened once into the image the moderator sees and the scan prints.

Whatever one viewer would hide and another show (transparency, a soft mask, an annotation, a
layer, invisible text) is settled here: the stored page shows what a screen shows, on white paper.
"""

from __future__ import annotations

import io
import time
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from services.intake.pages import MAX_PAGES, PageRejected, clean_upload
from shared.page_image import MAX_SIDE_PX, is_page_jpeg
from tests import hidden_pages as hidden


def stored_images(data: bytes, room: int = MAX_PAGES) -> list[Image.Image]:
    pages = clean_upload(data, 1, room)
    for page in pages:
        assert page.content_type == "image/jpeg" and is_page_jpeg(page.data)
    return [Image.open(io.BytesIO(page.data)) for page in pages]


def darkest(image: Image.Image) -> int:
    return image.convert("L").getextrema()[0]


def png(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


def test_fully_transparent_black_pixels_of_a_png_become_white_paper():
    data = hidden.png_hiding_dark_pixels()
    with Image.open(io.BytesIO(data)) as original:
        assert darkest(hidden.hidden_area(original.convert("RGB"))) == 0  # black, if the alpha is dropped

    (page,) = stored_images(data)

    assert page.mode == "L" and page.size == (900, 1200)
    assert darkest(hidden.hidden_area(page)) > 245
    assert darkest(page) < 60  # the visible writing stays


def _palette_with_transparent_black() -> Image.Image:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([0, 0, 0, 255, 255, 255])
    return image


@pytest.mark.parametrize(
    "data",
    [
        png(Image.new("LA", (64, 64), (0, 0))),
        png(_palette_with_transparent_black(), transparency=0),
        png(Image.new("RGB", (64, 64), (0, 0, 0)), transparency=(0, 0, 0)),
        png(Image.new("RGBA", (64, 64), (0, 0, 0, 0))),
    ],
    ids=["gray-with-alpha", "palette-with-trns", "rgb-with-trns", "rgba"],
)
def test_every_kind_of_transparency_is_laid_on_white(data):
    (page,) = stored_images(data)
    assert darkest(page) > 245


def test_a_transparent_webp_is_laid_on_white():
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(out, "WEBP", lossless=True)
    (page,) = stored_images(out.getvalue())
    assert darkest(page) > 245


def test_a_photo_is_stored_in_the_scans_form_grayscale_and_no_larger_than_it_prints():
    out = io.BytesIO()
    Image.new("RGB", (3000, 4000), (200, 120, 40)).save(out, "JPEG", quality=90)
    (page,) = stored_images(out.getvalue())
    assert page.mode == "L" and max(page.size) == MAX_SIDE_PX and page.size == (1500, 2000)


def test_a_pdf_image_hidden_by_a_soft_mask_of_zeros_is_stored_blank():
    data = hidden.pdf_with_masked_image()
    # What a program that takes the image out sees: black pixels (the mask is a separate object).
    (raw,) = PdfReader(io.BytesIO(data)).pages[0].images
    assert darkest(raw.image.convert("RGB")) == 0

    (page,) = stored_images(data)

    assert page.mode == "L" and max(page.size) == MAX_SIDE_PX
    assert darkest(hidden.hidden_area(page)) > 245
    assert darkest(page) < 100  # the visible text is drawn


def test_each_page_of_a_pdf_becomes_one_stored_page():
    pages = stored_images(hidden.pdf_of_pages(3))
    assert len(pages) == 3
    assert all(page.mode == "L" and page.size == (1414, 2000) for page in pages)


def test_a_pdf_with_more_pages_than_the_letter_has_room_for_is_refused_before_drawing():
    with pytest.raises(PageRejected) as refused:
        clean_upload(hidden.pdf_of_pages(3), 9, room=2)
    assert refused.value.status == 413 and f"at most {MAX_PAGES} pages" in refused.value.message


def test_annotations_are_not_part_of_the_stored_page():
    data = hidden.pdf_with_annotation()
    # A viewer that draws annotations shows the black square.
    document = pdfium.PdfDocument(data)
    assert darkest(hidden.hidden_area(document[0].render(scale=1, draw_annots=True).to_pil())) == 0
    document.close()

    (page,) = stored_images(data)

    assert darkest(hidden.hidden_area(page)) > 245


@pytest.mark.parametrize("make", [hidden.pdf_with_hidden_layer, hidden.pdf_with_invisible_text],
                         ids=["layer-switched-off", "invisible-text"])
def test_what_a_viewer_does_not_show_is_not_on_the_stored_page(make):
    (page,) = stored_images(make())
    assert darkest(hidden.hidden_area(page)) > 245


@pytest.mark.parametrize(
    "data",
    [
        hidden.pdf_with_image_xobject(20_000, 20_000),
        hidden.pdf_with_inline_image(30_000, 30_000),
        # The dictionary says 10×10; the JPEG inside, which the decoder follows, says 20000×20000.
        hidden.pdf_with_image_xobject(10, 10, data=hidden.jpeg_claiming(20_000, 20_000), filter=b"/DCTDecode"),
        hidden.pdf_with_image_xobject(10, 10, data=hidden.jpeg_claiming(9_000, 9_000), filter=b"/DCTDecode"),
    ],
    ids=["image-xobject", "inline-image", "jpeg-header-beyond-pillows-ceiling", "jpeg-header"],
)
def test_a_pdf_with_an_image_of_absurd_size_is_refused_quickly(data):
    started = time.perf_counter()
    with pytest.raises(PageRejected) as refused:
        clean_upload(data, 2)
    assert refused.value.status == 422
    assert refused.value.message.startswith("page 2 is a PDF with an image of absurd size")
    assert time.perf_counter() - started < 1.0


def test_many_images_each_just_under_the_ceiling_are_refused_together():
    images = [hidden.stream(zlib.compress(b"\0" * 1024), b"/Type /XObject /Subtype /Image /Width 7000 "
                            b"/Height 8000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode")
              for _ in range(3)]
    names = b" ".join(b"/Im%d %d 0 R" % (n, n + 4) for n in range(3))
    data = hidden.assemble_pdf(b"/MediaBox [0 0 612 792] /Resources << /XObject << " + names + b" >> >>", *images)
    with pytest.raises(PageRejected) as refused:
        clean_upload(data, 1)
    assert refused.value.status == 422 and "absurd size altogether" in refused.value.message


def test_a_pdf_page_of_absurd_size_is_refused():
    with pytest.raises(PageRejected) as refused:
        clean_upload(hidden.pdf_with_image_xobject(10, 10, box=b"[0 0 20000 800]"), 1)
    assert refused.value.status == 422 and "absurd size" in refused.value.message


def test_page_content_that_inflates_a_thousandfold_is_refused():
    bomb = zlib.compress(b"0 0 m\n" * 4_000_000, 9)  # 24 MB of content in about 25 KB
    data = hidden.assemble_pdf(b"/MediaBox [0 0 612 792] /Contents 4 0 R",
                               hidden.stream(bomb, b"/Filter /FlateDecode"))
    with pytest.raises(PageRejected) as refused:
        clean_upload(data, 1)
    assert refused.value.status == 422 and "too complex" in refused.value.message


def test_small_images_and_inline_images_are_accepted():
    assert len(stored_images(hidden.pdf_with_image_xobject(100, 100))) == 1
    assert len(stored_images(hidden.pdf_with_inline_image(32, 32))) == 1


def test_a_pdf_without_pages_is_refused():
    data = hidden.assemble_pdf(b"/MediaBox [0 0 612 792]").replace(b"/Kids [3 0 R] /Count 1", b"/Kids [] /Count 0")
    with pytest.raises(PageRejected) as refused:
        clean_upload(data, 1)
    assert refused.value.status == 422


def test_a_pdf_locked_only_against_editing_is_drawn_and_one_locked_with_a_password_is_refused_kindly():
    def locked(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=io.BytesIO(hidden.pdf_of_pages(2)))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    assert len(stored_images(locked(""))) == 2
    with pytest.raises(PageRejected) as refused:
        clean_upload(locked("secret"), 1)
    assert refused.value.status == 422 and "password" in refused.value.message
