"""Small helpers shared by test suites: waiting with a deadline, reading scans."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable

from pypdf import PdfReader


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
