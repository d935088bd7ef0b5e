"""PDF pages of a handwritten letter: checked, then drawn once into the images everyone sees.

A PDF is never stored or passed on as a PDF. What a viewer shows of it depends on the viewer:
an image under a soft mask of zeros shows nothing in a browser and everything to a program that
takes the image out; a layer may be switched off, a note floats above the page, text can be
invisible. So each page is drawn here, by PDFium, as a viewer shows it (layers as the file says,
no annotations, no form fields, over white paper), and only that drawing is kept. The moderator
and the scan then have the same pixels by construction.

Before PDFium sees a byte, pypdf looks for what must not be there: scripts, actions, links and
attachments (refused outright), and images or pages of absurd size (PDFium would decode them
whole). PDFium then draws pypdf's own rewrite of the file, so the two parsers cannot read one
damaged file two different ways.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.errors import FileNotDecryptedError
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from shared.page_image import MAX_SIDE_PX, page_jpeg

# PDF features that run code, reach the network or other files, or smuggle files: none belong in a
# letter, and a link a relative or lawyer clicks can reveal where they are.
PDF_DANGERS = frozenset({
    "/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/OpenAction", "/AA", "/RichMedia",
    "/XFA", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Sound", "/Movie", "/Rendition",
})
# A scanned page holds a few dozen objects; far more is a maze built to exhaust the checker.
PDF_MAX_OBJECTS = 20_000
# 200 inches, the largest page PDF itself allows (ISO 32000-1, annex C); a letter is A4 or Letter.
MAX_PAGE_POINTS = 14_400
# Page content is decoded to look for inline images: a few kilobytes for a scanned page, some
# hundreds for typed text. Beyond this it is a bomb (a 10 MB upload can inflate a thousandfold).
MAX_CONTENT_BYTES = 16 * 1024 * 1024
# Parsing content in Python runs at about 1 MB/s: only streams that contain the inline-image
# operator are parsed, and only this much of them.
MAX_PARSED_CONTENT_BYTES = 2 * 1024 * 1024
INLINE_IMAGE = re.compile(rb"(?<![^\s\[\]()<>{}/%])BI(?![^\s\[\]()<>{}/%])")
# PDFium is not thread-safe (pypdfium2's documentation): one document at a time per process.
_PDFIUM = threading.Lock()


class PdfRefused(Exception):
    """What is wrong with the PDF, as the end of "page N is …"."""


class PdfTooLong(Exception):
    def __init__(self, pages: int) -> None:
        super().__init__(pages)
        self.pages = pages


class PdfTooComplex(Exception):
    pass


def flatten_pdf(data: bytes, *, max_pages: int, max_pixels: int) -> list[bytes]:
    """Each page of a PDF as the page image (shared.page_image) a viewer would show.

    Refuses (PdfRefused, PdfTooLong) before drawing anything: a PDF with dangers, more pages than
    `max_pages`, an image of more than `max_pixels`, a page of absurd size or a content bomb.
    """
    reader = _read(data)
    if not reader.pages:
        raise PdfRefused("a PDF without a single page")
    if len(reader.pages) > max_pages:
        raise PdfTooLong(len(reader.pages))
    rewritten = _rewrite(reader)
    try:
        survey(_read(rewritten), max_pixels)
    except PdfRefused:
        raise
    except PdfTooComplex as error:
        raise PdfRefused("a PDF far too complex for a page of a letter") from error
    except Exception as error:
        raise PdfRefused("a damaged PDF") from error
    try:
        return _draw(rewritten)
    except Exception as error:
        raise PdfRefused("a damaged PDF") from error


def _read(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        found = pdf_dangers(reader)
    except PdfTooComplex as error:
        raise PdfRefused("a PDF far too complex for a page of a letter") from error
    except FileNotDecryptedError as error:
        raise PdfRefused("a PDF locked with a password; save it without one, or as an image") from error
    except Exception as error:
        raise PdfRefused("a damaged PDF") from error
    if found:
        raise PdfRefused(f"a PDF with scripts, links, actions or attachments ({', '.join(sorted(found))}); "
                         "print it or save it as an image")
    return reader


def _rewrite(reader: PdfReader) -> bytes:
    """pypdf's own serialization of what it read: the file PDFium draws is the file pypdf checked."""
    try:
        out = io.BytesIO()
        PdfWriter(clone_from=reader).write(out)
        return out.getvalue()
    except Exception as error:
        raise PdfRefused("a damaged PDF") from error


def pdf_dangers(reader: PdfReader) -> set[str]:
    """The dangerous names anywhere in a PDF's object graph, reached from its trailer.

    Works on parsed objects, not on bytes: a name disguised with #xx escapes (/J#61vaScript) is
    decoded by the parser, objects packed in compressed object streams are seen, and random bytes
    of a compressed image never look like "/JS".
    """
    found: set[str] = set()
    for item in _objects(reader):
        if isinstance(item, DictionaryObject):
            found.update(key for key in item if key in PDF_DANGERS)
        elif isinstance(item, NameObject) and item in PDF_DANGERS:
            found.add(str(item))
    return found


def _objects(reader: PdfReader) -> Iterator[object]:
    """Every object reachable from the trailer, each once; at most PDF_MAX_OBJECTS of them."""
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
        yield item
        if isinstance(item, DictionaryObject):
            todo.extend(item.values())
        elif isinstance(item, ArrayObject):
            todo.extend(item)


def survey(reader: PdfReader, max_pixels: int) -> None:
    """Refuse what PDFium would have to decode at absurd size: pages, images, inline images, content.

    Each image may have as many pixels as a photo, and all of them together as many as a photo per
    page: a hundred bombs just under the ceiling are no better than one above it.
    """
    budget = max_pixels * len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        width, height = _page_points(page)
        if not (0 < width <= MAX_PAGE_POINTS and 0 < height <= MAX_PAGE_POINTS):
            raise PdfRefused(f"a PDF whose page {number} is of absurd size ({width:.0f}×{height:.0f} pt)")
    content_streams: list[StreamObject] = [
        content for page in reader.pages for content in _page_contents(page)
    ]
    for item in _objects(reader):
        if not isinstance(item, StreamObject):
            if isinstance(item, DictionaryObject) and item.get("/Subtype") == "/Type3":
                # A Type 3 font draws its glyphs with content streams of its own.
                procs = item.get("/CharProcs")
                content_streams += [proc.get_object() for proc in (procs.get_object().values() if procs else ())]
            continue
        if item.get("/Subtype") == "/Image":
            budget -= _refuse_huge(_image_size(item), max_pixels)
        elif item.get("/Subtype") == "/Form" or item.get("/PatternType") == 1:
            content_streams.append(item)
        if budget < 0:
            raise PdfRefused("a PDF with images of absurd size altogether")
    for size in _inline_image_sizes(content_streams):
        budget -= _refuse_huge(size, max_pixels)
        if budget < 0:
            raise PdfRefused("a PDF with images of absurd size altogether")


def _page_points(page) -> tuple[float, float]:
    unit = float(page.get("/UserUnit", 1))
    sides = [(abs(float(box.width)) * unit, abs(float(box.height)) * unit) for box in (page.mediabox, page.cropbox)]
    return max(w for w, _ in sides), max(h for _, h in sides)


def _page_contents(page) -> list[StreamObject]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    contents = contents.get_object()
    parts = contents if isinstance(contents, ArrayObject) else [contents]
    return [part.get_object() for part in parts if isinstance(part.get_object(), StreamObject)]


def _refuse_huge(size: tuple[int, int], max_pixels: int) -> int:
    """The image's pixels, when they are not too many."""
    width, height = size
    if width * height > max_pixels:
        raise PdfRefused(f"a PDF with an image of absurd size ({width}×{height})")
    return width * height


def _image_size(image: StreamObject) -> tuple[int, int]:
    """The largest size the image claims: in its dictionary, its decode parameters, or the JPEG or
    JPEG 2000 header inside it (which a decoder may follow instead of the dictionary)."""
    width, height = _number(image.get("/Width")), _number(image.get("/Height"))
    sizes = [(width, height)]
    for params in _as_list(image.get("/DecodeParms")):
        params = params.get_object() if params is not None else None
        if isinstance(params, DictionaryObject) and "/Columns" in params:
            sizes.append((_number(params.get("/Columns")), _number(params.get("/Rows")) or height))
    filters = [str(f) for f in _as_list(image.get("/Filter"))]
    if filters and filters[-1] in ("/DCTDecode", "/JPXDecode"):
        sizes.append(_encoded_size(image))
    return max(sizes, key=lambda size: size[0] * size[1])


def _encoded_size(image: StreamObject) -> tuple[int, int]:
    try:
        # pypdf leaves JPEG and JPEG 2000 data as they are; Pillow reads only the header.
        with Image.open(io.BytesIO(image.get_data())) as encoded:
            return encoded.size
    except Image.DecompressionBombError as error:  # Pillow's own ceiling, far above ours
        raise PdfRefused("a PDF with an image of absurd size") from error
    except Exception as error:
        # A header Pillow cannot read could still be one PDFium follows: not a size to guess at.
        raise PdfRefused("a damaged PDF") from error


def _inline_image_sizes(streams: list[StreamObject]) -> Iterator[tuple[int, int]]:
    decoded = parsed = 0
    for stream in {id(s): s for s in streams}.values():
        try:
            data = stream.get_data()
        except Exception as error:  # includes pypdf's own decompression limits
            raise PdfTooComplex("content") from error
        decoded += len(data)
        if decoded > MAX_CONTENT_BYTES:
            raise PdfTooComplex("content")
        if not INLINE_IMAGE.search(data):
            continue
        parsed += len(data)
        if parsed > MAX_PARSED_CONTENT_BYTES:
            raise PdfTooComplex("inline images")
        try:
            operations = ContentStream(stream, None).operations
        except Exception as error:
            raise PdfTooComplex("content") from error
        for operands, operator in operations:
            if operator == b"INLINE IMAGE":
                settings = operands["settings"]
                yield (_number(settings.get("/W", settings.get("/Width"))),
                       _number(settings.get("/H", settings.get("/Height"))))


def _number(value) -> int:
    value = value.get_object() if isinstance(value, IndirectObject) else value
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _as_list(value) -> list:
    value = value.get_object() if isinstance(value, IndirectObject) else value
    if value is None:
        return []
    return list(value) if isinstance(value, ArrayObject) else [value]


def _draw(data: bytes) -> list[bytes]:
    """Each page drawn as a viewer shows it, at most MAX_SIDE_PX on its long side, as a page image."""
    pages = []
    with _PDFIUM:
        document = pdfium.PdfDocument(data)
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    width, height = page.get_size()  # in points, after the page's own rotation
                    # PDFium rounds the bitmap up: half a pixel short keeps the long side within bounds.
                    scale = (MAX_SIDE_PX - 0.5) / max(width, height)
                    # No annotations and no form fields: notes and filled-in boxes float above the page
                    # and are not part of the letter. White paper under anything transparent.
                    # A small image cache: pages are drawn one at a time, decoded images need not stay.
                    bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), draw_annots=False,
                                         may_draw_forms=False, limit_image_cache=True)
                    try:
                        # Encoded at once, while the bitmap lives: ten pages never sit in memory as pixels.
                        pages.append(page_jpeg(bitmap.to_pil()))
                    finally:
                        bitmap.close()
                finally:
                    page.close()
        finally:
            document.close()
    return pages
