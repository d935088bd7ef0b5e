"""The one image of a handwritten letter's page: what the moderator sees is what the scan prints.

Intake flattens every uploaded photo or PDF page into this form once, and stores it; the
moderators' page shows the stored image and sorting's scan embeds it as it is. Nothing is decoded
or drawn a second time, so the two cannot disagree: transparency that hides part of a photo,
a masked image in a PDF, a layer, an annotation — whatever a viewer would not show is already
gone from the pixels both of them get. A moderator's mask (sorting) makes a new stored image of the
page with the masked region burned into its pixels, which both then get in the same way.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageOps, UnidentifiedImageError

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


# ---------------------------------------------------------------- a moderator's masks
# A mask covers a region of a page for good: its pixels are replaced by opaque ink in the image
# itself before the image is stored, shown to the moderator and embedded in the scan. A rectangle
# drawn over the image in the PDF could be lifted off by the censor; these pixels are simply gone.

MASK_INK = 0
# JPEG codes a grayscale image in independent 8×8 blocks: a mask widened outwards to whole blocks
# encodes as exactly black inside, and leaves every block around it as it was coded before.
JPEG_BLOCK_PX = 8

# (x, y, width, height), each a share 0..1 of the upright page's width or height.
RelativeBox = tuple[float, float, float, float]


def mask_pixels(size: tuple[int, int], box: RelativeBox) -> tuple[int, int, int, int]:
    """The pixel rectangle [x0, x1) × [y0, y1) a relative box covers: rounded outwards to whole JPEG
    blocks, so nothing the moderator drew over stays visible at its edges."""
    width, height = size
    x, y, w, h = box
    block = JPEG_BLOCK_PX
    x0 = math.floor(x * width) // block * block
    y0 = math.floor(y * height) // block * block
    x1 = min(width, math.ceil(math.ceil((x + w) * width) / block) * block)
    y1 = min(height, math.ceil(math.ceil((y + h) * height) / block) * block)
    return x0, y0, x1, y1


def burn_masks(image: Image.Image, boxes: list[RelativeBox]) -> Image.Image:
    """A copy of the grayscale page with every box filled with opaque ink; the pixels outside are untouched."""
    burned = image.convert("L") if image.mode != "L" else image.copy()
    for box in boxes:
        x0, y0, x1, y1 = mask_pixels(burned.size, box)
        if x1 > x0 and y1 > y0:
            burned.paste(MASK_INK, (x0, y0, x1, y1))
    return burned


def masked_page_jpeg(data: bytes, boxes: list[RelativeBox]) -> bytes:
    """The stored page (in the page form, or an older upright photo) with the boxes burned in, in the page form.

    Raises ValueError for what is not an image (an older letter's PDF page).
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except UnidentifiedImageError as error:
        raise ValueError("this page is not an image") from error
    gray = _on_paper(upright).convert("L")
    gray.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    bare = Image.frombytes("L", gray.size, burn_masks(gray, boxes).tobytes())
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
