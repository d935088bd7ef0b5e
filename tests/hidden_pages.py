"""Pages that hide something from one viewer and show it to another, made in code (no binary fixtures).

Each hides a dark area where the page shows white: a photo whose dark pixels are fully
transparent, a PDF image under a soft mask of zeros, an annotation, a layer switched off,
invisible text. `HIDDEN_BOX` is where the dark area is, as fractions of the page's width and height.
"""

from __future__ import annotations

import io
import zlib

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from tests.support import pdf_of

# Left, top, right, bottom as fractions of the page: the hidden area, away from any visible mark.
HIDDEN_BOX = (0.25, 0.3, 0.75, 0.7)


def hidden_area(image: Image.Image) -> Image.Image:
    """The part of a flattened page where the hidden content would be."""
    left, top, right, bottom = HIDDEN_BOX
    w, h = image.size
    return image.crop((int(left * w), int(top * h), int(right * w), int(bottom * h)))


def png_hiding_dark_pixels(size: tuple[int, int] = (900, 1200)) -> bytes:
    """An RGBA photo of a page: paper and a line of writing, and a black block made fully transparent."""
    image = Image.new("RGBA", size, (250, 247, 240, 255))
    draw = ImageDraw.Draw(image)
    draw.line((40, 60, size[0] - 40, 60), fill=(20, 20, 90, 255), width=6)  # the visible writing
    left, top, right, bottom = HIDDEN_BOX
    w, h = size
    # Black, and alpha 0: a screen shows the paper underneath; dropping the alpha shows the black.
    draw.rectangle((left * w, top * h, right * w, bottom * h), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf_with_masked_image() -> bytes:
    """An A4 PDF page with visible text and, over the hidden area, a black image under an /SMask of zeros."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_page()
    pdf.set_font("helvetica", size=28)
    pdf.text(20, 30, "Dear friend")
    left, top, right, bottom = HIDDEN_BOX
    # fpdf2 turns the alpha channel into the image's soft mask: all zeros, the image is invisible.
    pdf.image(Image.new("RGBA", (400, 400), (0, 0, 0, 0)), x=left * 210, y=top * 297,
              w=(right - left) * 210, h=(bottom - top) * 297)
    return _without_open_action(pdf)


def pdf_of_pages(count: int) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_font("helvetica", size=28)
    for number in range(1, count + 1):
        pdf.add_page()
        pdf.text(20, 30, f"Page {number}")
    return _without_open_action(pdf)


def _without_open_action(pdf: FPDF) -> bytes:
    """fpdf2 always writes an /OpenAction (open at page 1, fit width), which intake refuses outright."""
    writer = PdfWriter(clone_from=io.BytesIO(bytes(pdf.output())))
    del writer.root_object["/OpenAction"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def assemble_pdf(page: bytes, *objects: bytes, catalog_extra: bytes = b"") -> bytes:
    """A one-page PDF written by hand: `page` is the page dictionary's extra entries, and `objects`
    become objects 4, 5, … (1 is the catalog, 2 the page tree, 3 the page)."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R " + page + b" >>",
        *objects,
    ]
    return pdf_of(bodies)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + entries + b" >>\nstream\n" + data + b"\nendstream"


# The hidden area in points on a 612×792 page, as a PDF rectangle (x, y from the bottom, w, h).
_X, _Y = HIDDEN_BOX[0] * 612, (1 - HIDDEN_BOX[3]) * 792
_W, _H = (HIDDEN_BOX[2] - HIDDEN_BOX[0]) * 612, (HIDDEN_BOX[3] - HIDDEN_BOX[1]) * 792
BLACK_BOX = b"0 g %.1f %.1f %.1f %.1f re f" % (_X, _Y, _W, _H)
VISIBLE_TEXT = b"BT /F1 24 Tf 50 740 Td (Dear friend) Tj ET"
FONT = b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>"


def pdf_with_annotation() -> bytes:
    """A black square drawn by an annotation (its appearance stream) over an otherwise plain page."""
    appearance = stream(b"0 g 0 0 %.1f %.1f re f" % (_W, _H),
                        b"/Type /XObject /Subtype /Form /BBox [0 0 %.1f %.1f]" % (_W, _H))
    annotation = (b"<< /Type /Annot /Subtype /Square /Rect [%.1f %.1f %.1f %.1f] /C [0 0 0] /IC [0 0 0] "
                  b"/F 4 /AP << /N 5 0 R >> >>" % (_X, _Y, _X + _W, _Y + _H))
    return assemble_pdf(
        b"/MediaBox [0 0 612 792] /Resources << " + FONT + b" >> /Contents 6 0 R /Annots [4 0 R]",
        annotation, appearance, stream(VISIBLE_TEXT),
    )


def pdf_with_hidden_layer() -> bytes:
    """A black square on an optional-content layer that the file itself switches off."""
    content = VISIBLE_TEXT + b"\n/OC /hidden BDC " + BLACK_BOX + b" EMC"
    return assemble_pdf(
        b"/MediaBox [0 0 612 792] /Resources << " + FONT + b" /Properties << /hidden 4 0 R >> >> /Contents 5 0 R",
        b"<< /Type /OCG /Name (Hidden) >>", stream(content),
        catalog_extra=b"/OCProperties << /OCGs [4 0 R] /D << /OFF [4 0 R] >> >> ",
    )


def pdf_with_invisible_text() -> bytes:
    """Text in render mode 3 (neither filled nor stroked): selectable, copyable, never seen."""
    hidden = b"BT 3 Tr /F1 60 Tf %.1f %.1f Td (HIDDEN HIDDEN) Tj ET" % (_X, _Y + _H / 2)
    return assemble_pdf(
        b"/MediaBox [0 0 612 792] /Resources << " + FONT + b" >> /Contents 4 0 R",
        stream(VISIBLE_TEXT + b"\n" + hidden),
    )


def pdf_with_image_xobject(width: int, height: int, *, data: bytes | None = None, filter: bytes = b"/FlateDecode",
                           box: bytes = b"[0 0 612 792]") -> bytes:
    """A page showing one image XObject that claims width×height pixels (its data need not hold them)."""
    data = zlib.compress(b"\0" * 1024) if data is None else data
    image = stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                         b"/BitsPerComponent 8 /Filter %s" % (width, height, filter))
    return assemble_pdf(
        b"/MediaBox " + box + b" /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R",
        image, stream(b"q 400 0 0 400 100 200 cm /Im1 Do Q"),
    )


def pdf_with_inline_image(width: int, height: int) -> bytes:
    """A page drawing an inline image (BI … ID … EI in its content) that claims width×height pixels."""
    data = zlib.compress(b"\0" * 1024)
    content = (b"q 400 0 0 400 100 200 cm BI /W %d /H %d /BPC 8 /CS /G /F /Fl ID " % (width, height)
               + data + b" EI Q")
    return assemble_pdf(b"/MediaBox [0 0 612 792] /Contents 4 0 R", stream(content))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width×height pixels."""
    out = io.BytesIO()
    Image.new("L", (16, 16), 255).save(out, "JPEG")
    raw = out.getvalue()
    sof = raw.index(b"\xff\xc0")
    return raw[: sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + raw[sof + 9:]
