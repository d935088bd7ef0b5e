"""Words spelt down the page: the first letters of a letter's lines or sentences.

"Сегодня проснулась рано… Ложки звенели… А потом… Вспоминала… Аромат…" reads "слава" down its
left edge; a censor who reads acrostics (they do) sees the slogan as plainly as in the text. The
rule book screens these first letters with its own slogan and name rules (rules.py).
"""

from __future__ import annotations

import re
from functools import cache

from shared.screening.morphology import analyzer
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


# Words that are a slogan or a charge when a letter's edge spells them alone ("СЛАВА", "ГЕРОЯМ",
# "УКРАИНА" down the lines), by their dictionary forms.
SPELT_ALONE = frozenset({"слава", "герой", "украина", "свобода", "україна", "воля", "путин"})

# Every slogan or name worth reading down the page holds one of these; first letters that hold
# none are not cut into words at all (the cut costs a dictionary lookup per letter and length).
_WORTH_CUTTING = ("слав", "геро", "укра", "украї", "путин", "хуйл", "крым", "крим", "зсу", "всу", "вол",
                  "свобод", "смерт", "росс", "рашк", "кацап", "москал", "орк")


def worth_cutting(spelt: str) -> bool:
    letters = spelt.lower().replace("ё", "е")
    return any(stem in letters for stem in _WORTH_CUTTING)


# Longest dictionary word tried when cutting first letters into words.
_LONGEST_WORD = 16


@cache
def _known(word: str) -> bool:
    return any(analyzer(lang).word_is_known(word) for lang in ("ru", "uk"))


def in_words(spelt: str) -> tuple[str, list[int]]:
    """The first letters cut into dictionary words, and for each character the index it came from.

    First letters run together ("пславаукраиненеок"), while the rules match words; the cut that
    covers the most with the longest known words ("п слава украине не ок") lets them read it.
    A space maps to the letter after it.
    """
    letters = spelt.lower()
    # best[i]: (score, where the last word starts) for the first i letters; a word of n letters scores n².
    best: list[tuple[int, int] | None] = [None] * (len(letters) + 1)
    best[0] = (0, 0)
    for start in range(len(letters)):
        if best[start] is None:
            continue
        score = best[start][0]
        for end in range(start + 1, min(len(letters), start + _LONGEST_WORD) + 1):
            gain = (end - start) ** 2 if end - start >= 2 and _known(letters[start:end]) else 0
            if end - start > 1 and not gain:
                continue
            if best[end] is None or score + gain > best[end][0]:
                best[end] = (score + gain, start)
    cuts, end = [], len(letters)
    while end > 0:
        start = best[end][1]
        cuts.append((start, end))
        end = start
    words, origin = [], []
    for start, end in reversed(cuts):
        if words:
            words.append(" ")
            origin.append(start)
        words.append(spelt[start:end])
        origin.extend(range(start, end))
    return "".join(words), origin


def words_spelt_alone(words: str, origin: list[int]) -> list[tuple[int, int]]:
    """Spans (in the spelt letters) of the cut's words that are slogans on their own."""
    found, at = [], 0
    for word in words.split(" "):
        if len(word) >= MIN_SPELT and any(
            parse.normal_form.replace("ё", "е") in SPELT_ALONE
            for lang in ("ru", "uk") for parse in analyzer(lang).parse(word.lower())[:2] if parse.is_known
        ):
            found.append((origin[at], origin[at + len(word) - 1] + 1))
        at += len(word) + 1
    return found


def not_used(_: CanonicalText) -> list[tuple[int, int]]:
    """The rule book reads acrostics itself (it needs its own rules); as a detector this finds nothing."""
    return []
