"""The prisoner's facility's rules as sorting applies them: a letter longer than its page limit needs a moderator.

The facility hands over nothing longer than its limit (it returns or withholds the whole letter),
so a moderator decides: shorten it, or send it anyway knowing the risk. The limit comes with the
letter (`LetterReceived.facility_page_limit`, from intake's directory; shared/facilities.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shared.facilities import exceeds_page_limit

OVER_PAGE_LIMIT = "over_page_limit"
# A typed page of the scan (A4, 20 mm margins, 12 pt, 7 mm lines: services/sorting/scan.py) holds about
# 34 lines of about 65 characters. Counting 60 per line errs towards more pages: a letter near the
# limit goes to a moderator rather than to a facility that would refuse it.
CHARACTERS_PER_LINE = 60
LINES_PER_PAGE = 34
# The "Для: …" header and the signature take about four lines.
HEADER_AND_SIGNATURE_LINES = 4


def estimated_pages(text: str) -> int:
    """How many pages the scan of this typed text will have, estimated without rendering it."""
    lines = HEADER_AND_SIGNATURE_LINES + sum(
        max(1, math.ceil(len(paragraph) / CHARACTERS_PER_LINE)) for paragraph in text.split("\n"))
    return max(1, math.ceil(lines / LINES_PER_PAGE))


def printed_pages(text: str, page_keys: Sequence[str]) -> int:
    """Photographed pages print one each; a typed text (alone or as a note with the photos) adds its own."""
    return len(page_keys) + (estimated_pages(text) if text.strip() or not page_keys else 0)


def page_limit_reasons(text: str, page_keys: Sequence[str], limit: int | None) -> list[str]:
    return [OVER_PAGE_LIMIT] if exceeds_page_limit(printed_pages(text, page_keys), limit) else []
