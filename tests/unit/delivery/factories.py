"""Small factories for delivery's tests: letters, intermediaries, prisoners, scans."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF

from services.delivery.model import Intermediary, Prisoner
from shared.events import LetterReady, PrisonerUpdated

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@functools.cache  # rendering with a TrueType font takes a fifth of a second
def scan_pdf(body: str = "Здравствуйте! Желаю вам здоровья.", signature: str = "Ayşe, Полтава", pages: int = 1) -> bytes:
    """A scan as sorting makes it: the text, and only a first name and a city under it."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(datetime(2026, 11, 29, tzinfo=UTC))
    pdf.add_font("letter", fname=FONT)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("letter", size=12)
        pdf.multi_cell(0, 7, f"{body} ({page + 1})", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, signature, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_intermediary(**overrides: Any) -> Intermediary:
    facts = {"id": "i_relative", "prisoner_id": "p_1", "name": "Эльвира", "kind": "relative", "channel": "email",
             "address": "relative@example.test", "capacity_per_bundle": 20, "active": True, "primary": True}
    return Intermediary.model_validate({**facts, **overrides})


def make_prisoner(**overrides: Any) -> Prisoner:
    return Prisoner.model_validate({"id": "p_1", "name_ru": "Ремзи Демо", "status": "detained", **overrides})


def make_ready(letter_id: str = "l_test_1", prisoner_id: str = "p_1", scan: bytes | None = None) -> LetterReady:
    data = scan if scan is not None else scan_pdf()
    return LetterReady.for_letter(letter_id, prisoner_id=prisoner_id, scan_key=f"scans/{letter_id}-secret.pdf",
                                  scan_sha256=hashlib.sha256(data).hexdigest(), scan_bytes=len(data), pages=1)


def prisoner_news(status: str, prisoner_id: str = "p_1", at: datetime | None = None, **overrides: Any) -> PrisonerUpdated:
    return PrisonerUpdated(prisoner_id=prisoner_id, name_ru=overrides.pop("name_ru", "Ремзи Демо"), status=status,
                           status_since="2026-12-01", occurred_at=at or datetime.now(UTC), **overrides)
