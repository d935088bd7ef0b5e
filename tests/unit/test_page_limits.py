"""The pages' static forms repeat the server's letter-length limit in `maxlength` (a browser stops the
typing there, before a request could be refused): each must say what shared/events.py says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.events import MAX_LETTER_CHARS

ROOT = Path(__file__).resolve().parents[2]
LETTER_FIELDS = [
    ("services/intake/web/static/writer.html", "letter-body"),
    ("services/intake/web/static/kiosk.html", "kiosk-body"),
    ("services/intake/web/static/receipt.html", "receipt-resend-text"),
    ("services/sorting/web/static/translation.html", "translation-text"),
    ("services/sorting/web/static/moderation.html", "transcription-text"),
]


@pytest.mark.parametrize(("page", "field"), LETTER_FIELDS)
def test_a_letter_field_stops_typing_at_the_servers_limit(page, field):
    html = (ROOT / page).read_text(encoding="utf-8")
    tag = re.search(rf'<textarea[^>]*\bid="{field}"[^>]*>', html)
    assert tag, f"{page} has no textarea #{field}"
    limit = re.search(r'\bmaxlength="(\d+)"', tag.group(0))
    assert limit and int(limit.group(1)) == MAX_LETTER_CHARS, f"{page} #{field}: {tag.group(0)}"
