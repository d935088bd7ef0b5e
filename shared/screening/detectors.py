"""Built-in detectors that a rule can name with `detector:` instead of listing words.

Some things cannot be listed as words: phone numbers, addresses, any flag emoji, whole
sentences in another language. Each detector takes the canonical letter and returns
canonical (start, end) spans; the rule that names it supplies category, severity and messages.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.screening import acrostic, language, personal_data, printable, printed_fields, symbols
from shared.screening.normalize import CanonicalText, detect_hidden_text

Span = tuple[int, int]
Detector = Callable[[CanonicalText], list[Span]]
# A detector of characters the canonical form drops: it reads the writer's own text and returns
# spans of it.
OriginalDetector = Callable[[str], list[Span]]

DETECTORS: dict[str, Detector] = {
    "phone": personal_data.detect_phone,
    "email": personal_data.detect_email,
    "address": personal_data.detect_address,
    "messenger": personal_data.detect_messenger,
    "link": personal_data.detect_link,
    "payment_card": personal_data.detect_payment_card,
    "parcel_office": personal_data.detect_parcel_office,
    "implausible_first_name": printed_fields.detect_implausible_first_name,
    "implausible_city": printed_fields.detect_implausible_city,
    "ukrainian": language.detect_ukrainian,
    "crimean_tatar": language.detect_crimean_tatar,
    "foreign_language": language.detect_foreign_language,
    "transliteration": language.detect_transliteration,
    "flag_emoji": symbols.detect_flag_emoji,
    "ukrainian_colours": symbols.detect_ukrainian_colours,
    "war_markers": symbols.detect_war_markers,
    "hidden_text": detect_hidden_text,
    "unprintable": printable.detect_unprintable,
    "passport": personal_data.detect_passport,
    "full_name": personal_data.detect_full_name,
    "named_person": personal_data.detect_named_person,
    "vehicle_plate": personal_data.detect_vehicle_plate,
    # Read by the rule book itself, with its own slogan and name rules (rules.py).
    "acrostic": acrostic.not_used,
}

ON_ORIGINAL: dict[str, OriginalDetector] = {
    "direction_controls": symbols.detect_direction_controls,
}
