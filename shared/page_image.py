"""The one image of a handwritten letter's page: what the moderator sees is what the scan prints.

Intake flattens every uploaded photo or PDF page into this form once, and stores it; the
moderators' page shows the stored image and sorting's scan embeds it as it is. Nothing is decoded
or drawn a second time, so the two cannot disagree: transparency that hides part of a photo,
a masked image in a PDF, a layer, an annotation — whatever a viewer would not show is already
gone from the pixels both of them get.
"""

from __future__ import annotations

import io

from PIL import Image

# About 170 dpi across an A4 page: handwriting stays legible, a page stays around 200 KB.
MAX_SIDE_PX = 2000
JPEG_QUALITY = 70
PAPER = "white"


def page_jpeg(image: Image.Image) -> bytes:
    """The page as a viewer shows it on white paper: grayscale, at most MAX_SIDE_PX, no metadata.

    `image` must already be upright (EXIF orientation applied).
    """
    gray = _on_paper(image).convert("L")
    gray.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    # A new image from the pixels alone: no EXIF, XMP, ICC profile or comment can come along.
    bare = Image.frombytes("L", gray.size, gray.tobytes())
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def is_page_jpeg(data: bytes) -> bool:
    """Whether `data` is already in the page form (as intake stores it), so it can be embedded as it is."""
    if not (data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9")):
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            return (
                image.format == "JPEG"
                and image.mode == "L"
                and max(image.size) <= MAX_SIDE_PX
                # Only the JFIF header Pillow writes: no EXIF, XMP, ICC or comment segment.
                and all(marker == "APP0" and body.startswith(b"JFIF\0") for marker, body in image.applist)
                and "comment" not in image.info
            )
    except Exception:  # noqa: BLE001 - whatever cannot be read is not in the page form, and is cleaned again
        return False


def _on_paper(image: Image.Image) -> Image.Image:
    """Every kind of transparency (RGBA, LA, PA, a palette's or a colour's tRNS) composited over white.

    Dropping the alpha channel instead would print what the writer's screen never showed: dark
    pixels made fully transparent stay dark underneath.
    """
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit grayscale: scaled to 8 bits; a plain conversion clips every value above 255 to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if not image.has_transparency_data:
        return image
    layer = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", layer.size, PAPER), layer)
