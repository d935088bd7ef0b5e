"""Photographed pages of a handwritten letter: checked for what they really are, then cleaned.

Whatever a file's name or declared type says, only its bytes count. Images are decoded with a
pixel ceiling (a decompression bomb is an error, not a warning), turned upright, and re-encoded
without any metadata, so a writer's GPS position never leaves intake. PDFs are accepted only
without scripts, actions or attachments, and are rewritten without their metadata.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

pillow_heif.register_heif_opener()

MAX_PAGE_BYTES = 10 * 1024 * 1024
MAX_PAGES = 10
# A phone photo is 12–50 megapixels; anything far beyond is a bomb, not a letter.
MAX_PIXELS = 60_000_000
# A real photo or scan takes at least a few bytes per thousand pixels; a file that claims far more
# pixels than its size could hold is built to blow up in memory when decoded.
MIN_BYTES_PER_KILOPIXEL = 1.0
BIG_IMAGE_PIXELS = 4_000_000
JPEG_QUALITY = 85
# PDF features that run code, reach the network or other files, or smuggle files: none belong in a
# letter, and a link a relative or lawyer clicks can reveal where they are.
PDF_DANGERS = frozenset({
    "/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/OpenAction", "/AA", "/RichMedia",
    "/XFA", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Sound", "/Movie", "/Rendition",
})
# A scanned page holds a few dozen objects; far more is a maze built to exhaust the checker.
PDF_MAX_OBJECTS = 20_000


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


def clean_page(data: bytes, number: int) -> CleanPage:
    if len(data) > MAX_PAGE_BYTES:
        raise PageRejected(413, f"page {number} is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind is None:
        raise PageRejected(415, f"page {number} is not a JPEG, PNG, WebP, HEIC photo or a PDF")
    if kind == "pdf":
        return _clean_pdf(data, number)
    return _clean_image(data, number)


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
                upright = ImageOps.exif_transpose(image).convert("RGB")
                # Pillow would carry comments and other text chunks into the new file.
                upright.info.clear()
    except PageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PageRejected(422, f"page {number} is an image of absurd size") from error
    except Exception as error:
        raise PageRejected(422, f"page {number} is a damaged or unreadable image") from error
    out = io.BytesIO()
    # Saved fresh, without exif= or icc: no EXIF, no GPS, no XMP reaches storage.
    upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPage(out.getvalue(), "image/jpeg", "jpg")


def _clean_pdf(data: bytes, number: int) -> CleanPage:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        found = pdf_dangers(reader)
    except PdfTooComplex as error:
        raise PageRejected(422, f"page {number} is a PDF far too complex for a page of a letter") from error
    except Exception as error:
        raise PageRejected(422, f"page {number} is a damaged PDF") from error
    if found:
        raise PageRejected(422, f"page {number} is a PDF with scripts, links, actions or attachments "
                                f"({', '.join(sorted(found))}); print it or save it as an image")
    try:
        writer = PdfWriter()
        for page in reader.pages:
            added = writer.add_page(page)
            # Nothing dangerous was found; annotations (notes, highlights) go anyway, as they are
            # not part of what the prisoner reads.
            for key in ("/AA", "/Annots"):
                if key in added:
                    del added[key]
        out = io.BytesIO()
        writer.write(out)
    except Exception as error:
        raise PageRejected(422, f"page {number} is a damaged PDF") from error
    return CleanPage(out.getvalue(), "application/pdf", "pdf")


class PdfTooComplex(Exception):
    pass


def pdf_dangers(reader: PdfReader) -> set[str]:
    """The dangerous names anywhere in a PDF's object graph, reached from its trailer.

    Works on parsed objects, not on bytes: a name disguised with #xx escapes (/J#61vaScript) is
    decoded by the parser, objects packed in compressed object streams are seen, and random bytes
    of a compressed image never look like "/JS".
    """
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    todo: list = [reader.trailer]
    visited = 0
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise PdfTooComplex(visited)
        if isinstance(item, DictionaryObject):
            found.update(key for key in item if key in PDF_DANGERS)
            todo.extend(item.values())
        elif isinstance(item, ArrayObject):
            todo.extend(item)
        elif isinstance(item, NameObject) and item in PDF_DANGERS:
            found.add(str(item))
    return found
