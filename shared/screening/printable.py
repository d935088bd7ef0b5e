"""What the scan can print, and the characters of a letter it cannot.

The scan (services/sorting/scan.py) cuts its font to PRINTABLE_CHARACTERS; this is their one
home, so the screening and the scan cannot disagree. A character outside the set comes out of
the scan as nothing, and the censor reads a letter with holes in it. So text the font cannot
print (Chinese, Arabic, Georgian, Armenian, fullwidth or "mathematical" letters, signs such as
★ or ∞) is a finding for the moderator, not a silent blank.

Emoji do not print either. An emoji that a symbols rule flags (a flag, 💙💛, 🔱) is reported
here too, so that the moderator deciding about it knows it will not be on the scan; any other
emoji (☀️, ❤️, 🌷) is decoration: it vanishes harmlessly, and a warm letter does not wait for a
moderator because of a heart. Invisible characters (zero-width, bidi controls, variation
selectors) and combining marks such as stress accents are not reported: nothing is lost.
"""

from __future__ import annotations

import re
from functools import lru_cache

import emoji
import unicodedata2

from shared.screening import symbols
from shared.screening.normalize import CanonicalText

Span = tuple[int, int]

# What letters to Crimea are written with: Latin (with the Crimean Tatar letters), Cyrillic
# (Russian, Ukrainian), Greek, and the usual punctuation and symbols.
_PRINTABLE_RANGES = [
    (0x20, 0x250), (0x370, 0x530), (0x1E00, 0x1F00), (0x2000, 0x2070), (0x20A0, 0x20C0),
    (0x2100, 0x2150), (0x2190, 0x2200), (0xFFFD, 0xFFFE),
]  # fmt: skip
PRINTABLE_CHARACTERS: list[int] = [code for low, high in _PRINTABLE_RANGES for code in range(low, high)]

_MAYBE_UNPRINTABLE = re.compile(
    "[^\\s" + "".join(f"\\U{low:08x}-\\U{high - 1:08x}" for low, high in _PRINTABLE_RANGES) + "]"
)
_NOTHING_TO_PRINT = frozenset({"Cf", "Cc", "Cs", "Co", "Cn", "Mn", "Me", "Mc", "Zs", "Zl", "Zp"})


def is_printable(char: str) -> bool:
    """Whether the scan's font has this character."""
    return not _MAYBE_UNPRINTABLE.match(char)


def detect_unprintable(letter: CanonicalText) -> list[Span]:
    """Canonical spans of characters the scan cannot print (see the module docstring)."""
    if not _MAYBE_UNPRINTABLE.search(letter.original):
        return []
    political: set[int] | None = None
    marked: list[int] = []
    for index in range(len(letter.text)):
        typed = letter.original[letter.starts[index] : letter.ends[index]]
        missing = [c for c in typed if _visible(c) and not is_printable(c)]
        if not missing:
            continue
        if all(c in _emoji_characters() for c in missing):
            if political is None:
                political = {
                    i for start, end in symbols.political_emoji_spans(letter) for i in range(start, end)
                }
            if index not in political:
                continue
        marked.append(index)
    return _runs(letter.text, marked)


def _visible(char: str) -> bool:
    return unicodedata2.category(char) not in _NOTHING_TO_PRINT


@lru_cache(maxsize=1)
def _emoji_characters() -> frozenset[str]:
    """Every character that is part of an emoji, by the emoji package's current table."""
    return frozenset(char for sequence in emoji.EMOJI_DATA for char in sequence if not is_printable(char))


def _runs(text: str, marked: list[int]) -> list[Span]:
    """One span per stretch of unprintable characters, spaces between them included ("你好 世界")."""
    spans: list[Span] = []
    for index in marked:
        if spans and not text[spans[-1][1] : index].strip():
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans
