"""Words spelt down the page: the first letters of a letter's lines or sentences.

"Сегодня проснулась рано… Ложки звенели… А потом… Вспоминала… Аромат…" reads "слава" down its
left edge; a censor who reads acrostics (they do) sees the slogan as plainly as in the text. The
rule book screens these first letters with its own slogan and name rules (rules.py).
"""

from __future__ import annotations

import re

from shared.screening.normalize import CanonicalText

# Fewer lines or sentences than this spell nothing worth finding by chance.
MIN_LETTERS = 6
# A match down the page must be a whole word of at least this many letters: "орк" and "бля"
# turn up by chance among first letters, "путин" and "слава украине" do not.
MIN_SPELT = 5

_LINE_START = re.compile(r"(?:^|\n)[^\w\n]*([^\W\d_])")
_SENTENCE_START = re.compile(r"(?:^|[.!?…\n])[^\w.!?…\n]*([^\W\d_])")


def spelt_down(letter: CanonicalText) -> list[tuple[str, list[int]]]:
    """(the first letters joined, the canonical offset of each) for lines and for sentences."""
    found = []
    for pattern in (_LINE_START, _SENTENCE_START):
        starts = [m.start(1) for m in pattern.finditer(letter.text)]
        if len(starts) >= MIN_LETTERS:
            spelt = "".join(letter.text[i] for i in starts)
            if (spelt, starts) not in found:
                found.append((spelt, starts))
    return found


def not_used(_: CanonicalText) -> list[tuple[int, int]]:
    """The rule book reads acrostics itself (it needs its own rules); as a detector this finds nothing."""
    return []
