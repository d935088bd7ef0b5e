"""Small helpers shared by test suites: waiting with a deadline, reading scans."""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from pypdf import PdfReader


async def queue_exists(name: str) -> bool:
    """Whether the broker has this queue; asked passively, so asking never creates it."""
    import aio_pika

    connection = await aio_pika.connect(os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), timeout=10)
    async with connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll until `check` holds; fail with `what` after the deadline. Never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    """Whitespace-insensitive form: PDF text extraction re-wraps lines."""
    return " ".join(text.split())


def photo_with_gps(size: tuple[int, int] = (40, 20), orientation: int = 6) -> bytes:
    """A JPEG as a phone makes it: rotated by EXIF orientation, with a GPS position in EXIF."""
    from PIL import Image

    image = Image.new("RGB", size, "white")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (50.0, 27.0, 0.0), 3: "E", 4: (30.0, 31.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def lined_page(width: int = 600, height: int = 800) -> bytes:
    """A photographed page of dark "handwriting" lines from top to bottom, closer together than any
    mask the tests draw is tall: whatever a mask does not cover stays dark somewhere."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (250, 246, 235))
    draw = ImageDraw.Draw(image)
    for y in range(height // 20, height - height // 40, height // 27):
        draw.line((width // 20, y, width - width // 20, y), fill=(15, 15, 35), width=max(5, height // 150))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def darkest_and_lightest(image, box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The darkest and the lightest grey level in `box` of a PIL image: (0, ≤1) is pure black."""
    values = image.convert("L").crop(box).tobytes()
    return min(values), max(values)


def handmade_pdf(page_extra: bytes = b"", catalog_extra: bytes = b"", info: bytes = b"") -> bytes:
    """A one-page PDF written by hand, so every byte of its dictionaries is ours."""
    content = b"BT /F1 12 Tf 50 700 Td (Zdravstvuyte) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " + page_extra + b">>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    if info:
        objects.append(b"<< " + info + b" >>")
    return pdf_of(objects, b"1.4", trailer_extra=b"/Info %d 0 R " % len(objects) if info else b"")


def pdf_of(objects: list[bytes], version: bytes = b"1.7", trailer_extra: bytes = b"") -> bytes:
    """A PDF file of these object bodies, numbered 1, 2, … (1 must be the catalog), with its xref table."""
    out = b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out


def letter(**overrides) -> dict:
    """An ordinary, harmless typed letter to a demo prisoner, as the writer's page sends it; tests
    change one field at a time."""
    return {
        "prisoner_id": "p_demo_02",
        "body": "Здравствуйте! У нас в саду поспели яблоки. Желаю вам здоровья и терпения.",
        "client_ref": str(uuid.uuid4()),
        "author": {"display_name": "Оксана", "city": "Полтава", "contact_consent": False},
        "source": {"channel": "web"},
        **overrides,
    }


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
