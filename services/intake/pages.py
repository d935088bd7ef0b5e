"""Pages of a handwritten letter: checked for what they really are, then flattened once.

Whatever a file's name or declared type says, only its bytes count. Every upload becomes the
page images (shared/page_image.py) that the moderator sees and the scan prints, the same bytes
for both. A photo is decoded with a pixel ceiling (a decompression bomb is an error, not a
warning), turned upright, laid on white paper wherever it is transparent, and re-encoded without
any metadata, so a writer's GPS position never leaves intake. A PDF is accepted only without
scripts, actions or attachments, and each of its pages is drawn into one such image (pdf.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps

from services.intake.pdf import PdfRefused, PdfTooLong, flatten_pdf
from shared.page_image import page_jpeg

pillow_heif.register_heif_opener()

MAX_PAGE_BYTES = 10 * 1024 * 1024
# Pages of one letter, each PDF page counted: the censor and the intermediaries take short letters.
MAX_PAGES = 10
# A phone photo is 12–50 megapixels; anything far beyond is a bomb, not a letter. The same ceiling
# holds for every image inside a PDF.
MAX_PIXELS = 60_000_000
# A real photo or scan takes at least a few bytes per thousand pixels; a file that claims far more
# pixels than its size could hold is built to blow up in memory when decoded.
MIN_BYTES_PER_KILOPIXEL = 1.0
BIG_IMAGE_PIXELS = 4_000_000


class PageRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CleanPage:
    data: bytes
    content_type: str
    extension: str


def sniff(data: bytes) -> str | None:
    """The real format from the first bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
        return "heic"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def too_many_pages() -> PageRejected:
    return PageRejected(413, f"a letter has at most {MAX_PAGES} pages (each page of a PDF counts)")


def clean_upload(data: bytes, number: int, room: int = MAX_PAGES) -> list[CleanPage]:
    """The pages one uploaded file becomes: one for a photo, one per page of a PDF.

    `number` is the file's place in the upload (for messages); `room`, how many pages the letter
    may still take.
    """
    if len(data) > MAX_PAGE_BYTES:
        raise PageRejected(413, f"page {number} is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind is None:
        raise PageRejected(415, f"page {number} is not a JPEG, PNG, WebP, HEIC photo or a PDF")
    if room < 1:
        raise too_many_pages()
    if kind == "pdf":
        return _clean_pdf(data, number, room)
    return [_clean_image(data, number)]


def _clean_image(data: bytes, number: int) -> CleanPage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                # The header alone tells the size: refuse a bomb before decoding a single pixel.
                pixels = probe.width * probe.height
                if pixels > MAX_PIXELS or (
                    pixels > BIG_IMAGE_PIXELS and len(data) < pixels / 1000 * MIN_BYTES_PER_KILOPIXEL
                ):
                    raise PageRejected(422, f"page {number} is an image of absurd size ({probe.width}×{probe.height})")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return _stored(page_jpeg(ImageOps.exif_transpose(image)))
    except PageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PageRejected(422, f"page {number} is an image of absurd size") from error
    except Exception as error:
        raise PageRejected(422, f"page {number} is a damaged or unreadable image") from error


def _clean_pdf(data: bytes, number: int, room: int) -> list[CleanPage]:
    try:
        return [_stored(page) for page in flatten_pdf(data, max_pages=room, max_pixels=MAX_PIXELS)]
    except PdfTooLong as error:
        raise too_many_pages() from error
    except PdfRefused as refused:
        raise PageRejected(422, f"page {number} is {refused}") from refused


def _stored(page: bytes) -> CleanPage:
    return CleanPage(page, "image/jpeg", "jpg")
