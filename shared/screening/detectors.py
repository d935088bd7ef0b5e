"""Built-in detectors that a rule can name with `detector:` instead of listing words.

Some things cannot be listed as words: phone numbers, addresses, any flag emoji, whole
sentences in another language. Each detector takes the canonical letter and returns
canonical (start, end) spans; the rule that names it supplies category, severity and messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shared.screening import language, personal_data
from shared.screening.normalize import CanonicalText

Span = tuple[int, int]
Detector = Callable[[CanonicalText], list[Span]]

# Emoji flags are pairs of regional indicator letters (🇺🇦 = U+1F1FA U+1F1E6); a lone one is
# half a flag. The censor treats any national flag as a political symbol.
_FLAG_EMOJI = re.compile(r"[\U0001F1E6-\U0001F1FF]{1,2}")


def detect_flag_emoji(letter: CanonicalText) -> list[Span]:
    """Any emoji flag made of regional indicator letters."""
    return [m.span() for m in _FLAG_EMOJI.finditer(letter.text)]


DETECTORS: dict[str, Detector] = {
    "phone": personal_data.detect_phone,
    "email": personal_data.detect_email,
    "address": personal_data.detect_address,
    "messenger": personal_data.detect_messenger,
    "link": personal_data.detect_link,
    "payment_card": personal_data.detect_payment_card,
    "ukrainian": language.detect_ukrainian,
    "foreign_language": language.detect_foreign_language,
    "transliteration": language.detect_transliteration,
    "flag_emoji": detect_flag_emoji,
}
