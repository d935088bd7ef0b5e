"""Factories and fakes for sorting's unit tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw

from services.sorting.domain import ModerationPolicy
from services.sorting.service import SortingDeps
from shared.events import LetterReceived
from tests.unit.fakes import RecordingOutbox
from tests.unit.sorting.fakes import MemoryDecisions, MemoryScans, MemorySortedLetters

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CLEAN_BODY = "Здравствуйте, Ремзи! У нас выпал первый снег. Желаю вам здоровья и тёплых дней."
SLOGAN_BODY = "Здравствуйте! Держитесь, мы с вами. Слава Украине! Дмитрий"


def make_received(letter_id: str = "l_test_1", **overrides) -> LetterReceived:
    facts = {
        "prisoner_id": "p_1",
        "prisoner_name_ru": "Ремзи Демо",
        "body": CLEAN_BODY,
        "channel": "web",
        "writer_first_name": "Ayşe",
        "writer_city": "Полтава",
        "submitted_at": datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    }
    return LetterReceived.for_letter(letter_id, **{**facts, **overrides})


def page_photo(number: int, *, size=(900, 1200), exif_orientation: int | None = None, color="white") -> bytes:
    """A photographed page with a camera's EXIF (make, GPS-ish comment, orientation)."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    for line in range(12):
        draw.line((40, 80 + line * 60, size[0] - 40, 80 + line * 60), fill=(170, 180, 220), width=3)
    draw.text((60, 40), f"page {number}", fill="black")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x9286] = "lat 45.0 lon 34.1"
    if exif_orientation:
        exif[0x0112] = exif_orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


class FakeClock:
    """A time that moves only when a test says so (and by a millisecond per reading, so that
    decisions taken one after the other have an order)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_deps(policy: ModerationPolicy) -> SortingDeps:
    return SortingDeps(letters=MemorySortedLetters(), decisions=MemoryDecisions(), scans=MemoryScans(),
                       outbox=RecordingOutbox(), font_path=FONT, policy=policy, clock=FakeClock())


@pytest.fixture
def deps() -> SortingDeps:
    """Sorting as the suites about other things run it: clean typed letters go straight on, and a
    moderator's approval goes to delivery at once."""
    return make_deps(ModerationPolicy(auto_approve=True, undo_window_s=0))


@pytest.fixture
def campaign_deps() -> SortingDeps:
    """Sorting with the production policy: a person reads every letter, approvals wait 600 s for an undo."""
    return make_deps(ModerationPolicy())
