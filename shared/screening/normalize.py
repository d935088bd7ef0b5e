"""The canonical form of a letter: what the censor reads, whatever tricks the keyboard played.

Writers (and sometimes well-meaning "helpers") dodge simple filters with spaced letters,
Latin look-alikes, stress marks, zero-width and bidi control characters. The censor reads
the letter as displayed, so the screening engine does too: it reduces the letter to one
lowercase canonical string and remembers, for every canonical character, which span of the
ORIGINAL text it came from, so that findings still point at what the writer typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Characters that need nothing but case folding; everything else takes the slow path.
_PLAIN_RUN = re.compile(r"[\x00-\x7f\u0400-\u045f\u0490\u0491]+")

# Combining marks that make a different Russian/Ukrainian letter (й, ё, ї, ў);
# every other mark (stress U+0301, grave, variation selectors...) is decoration and is dropped.
_LETTER_MARKS = {"\u0306": "иуИУ", "\u0308": "еіЕІ"}

# Right-to-left override shows the letters that follow in reverse order; the censor sees the
# displayed order, so we reverse them back. It ends at PDF, at another override or at a line end.
_RLO, _LRO, _PDF = "\u202e", "\u202d", "\u202c"

_APOSTROPHES = "\u2019\u02bc\u2018`\u00b4\u02b9"


# Latin and Greek letters that pass for Cyrillic ones, and digits used as letters.
_TO_CYRILLIC = str.maketrans(
    {
        "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о",
        "p": "р", "t": "т", "x": "х", "y": "у", "i": "і", "u": "и", "n": "п", "r": "г",
        "α": "а", "β": "в", "ε": "е", "ι": "і", "κ": "к", "μ": "м", "ο": "о", "π": "п",
        "ρ": "р", "τ": "т", "υ": "у", "χ": "х", "λ": "л", "0": "о", "3": "з", "6": "б",
    }
)  # fmt: skip
_TO_LATIN = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "е": "e", "н": "h", "к": "k", "м": "m", "о": "o",
        "р": "p", "т": "t", "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s", "п": "n",
        "и": "u", "г": "r",
    }
)  # fmt: skip
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
_ROMAN_NUMERAL = re.compile(r"[ivxlcdm]+")
_FOREIGN_LETTER = re.compile(r"[a-z\u00c0-\u024f\u0370-\u03ff]")
_NOT_CYRILLIC_CHAR = re.compile(r"[a-z\u00c0-\u024f\u0370-\u03ff0-9]")
_LAST_WORD = re.compile(r"([^\W_]+)[\W_]*$")
_FIRST_WORD = re.compile(r"[\W_]*([^\W_]+)")
_NEIGHBOUR_REACH = 40

# Single letters separated by the same short filler, at least three of them: "С л а в а",
# "С.л.а.в.а", "П-у-т-и-н". Two are too common in real text ("т.е.", "и я").
_LONE_LETTER = r"(?<![^\W_])[^\W\d_](?![^\W_])"
_SPACED_SEPARATOR = r"[ .\-_*·•,/|+~'\"]{1,3}"
_SPACED_LETTERS = re.compile(rf"{_LONE_LETTER}(?:{_SPACED_SEPARATOR}{_LONE_LETTER}){{2,}}")
_SEPARATOR_IN_RUN = re.compile(_SPACED_SEPARATOR)


@dataclass(frozen=True, slots=True, eq=False)
class CanonicalText:
    """A letter in canonical form, with a way back to the writer's own characters.

    Compared and hashed by identity: detectors cache work per letter, not per content.
    """

    original: str
    text: str
    starts: tuple[int, ...]  # original offset where each canonical character begins
    ends: tuple[int, ...]  # original offset (exclusive) where it ends
    spaced_out: frozenset[int]  # canonical starts of words the writer spelt letter by letter

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering canonical [start, end); min/max because RLO reorders."""
        if end <= start:
            return self.starts[start], self.starts[start]
        return min(self.starts[start:end]), max(self.ends[start:end])

    def is_capitalised(self, index: int) -> bool:
        """Whether the writer typed this canonical character as a capital letter."""
        original_char = self.original[self.starts[index] : self.ends[index]][:1]
        return original_char.isupper()


def canonicalise(original: str) -> CanonicalText:
    """Reduce a letter to lowercase canonical form, keeping a map back to original offsets."""
    chars, starts, ends = _read_characters(original)
    text = _fold_e(_lowercase("".join(chars)))
    text, starts, ends, spaced_out = _join_spaced_letters(text, original, starts, ends)
    text = _unmask_look_alikes(text, original, starts)
    return CanonicalText(original, text, tuple(starts), tuple(ends), frozenset(spaced_out))


def _read_characters(original: str) -> tuple[list[str], list[int], list[int]]:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    reversed_from: int | None = None
    position = 0
    for run in _PLAIN_RUN.finditer(original):
        reversed_from = _read_special(original, position, run.start(), chars, starts, ends, reversed_from)
        reversed_from = _read_plain(run.group(), run.start(), chars, starts, ends, reversed_from)
        position = run.end()
    reversed_from = _read_special(original, position, len(original), chars, starts, ends, reversed_from)
    if reversed_from is not None:
        _reverse_tail(reversed_from, chars, starts, ends)
    return chars, starts, ends


def _read_plain(run, offset, chars, starts, ends, reversed_from):
    if reversed_from is not None and "\n" in run:
        line_end = run.index("\n")
        _read_plain(run[:line_end], offset, chars, starts, ends, reversed_from)
        _reverse_tail(reversed_from, chars, starts, ends)
        return _read_plain(run[line_end:], offset + line_end, chars, starts, ends, None)
    chars.extend(run)
    starts.extend(range(offset, offset + len(run)))
    ends.extend(range(offset + 1, offset + len(run) + 1))
    return reversed_from


def _read_special(original, start, end, chars, starts, ends, reversed_from):
    for index in range(start, end):
        char = original[index]
        if char == _RLO:
            reversed_from = len(chars) if reversed_from is None else reversed_from
            continue
        if char in (_PDF, _LRO) and reversed_from is not None:
            _reverse_tail(reversed_from, chars, starts, ends)
            reversed_from = None
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Cs", "Co", "Cn"):
            continue  # invisible: zero-width, bidi controls, soft hyphens, tag characters
        if category in ("Mn", "Me", "Mc"):
            _attach_mark(char, index, chars, ends)
            continue
        for folded in _fold_special(char):
            chars.append(folded)
            starts.append(index)
            ends.append(index + 1)
    return reversed_from


def _attach_mark(mark: str, index: int, chars: list[str], ends: list[int]) -> None:
    """A combining mark belongs to the letter before it, so the letter's span grows to cover it."""
    if not chars:
        return
    if chars[-1] in _LETTER_MARKS.get(mark, ""):
        chars[-1] = unicodedata.normalize("NFC", chars[-1] + mark)
    ends[-1] = index + 1


@lru_cache(maxsize=8192)
def _fold_special(char: str) -> str:
    """NFKC-style compatibility folding that drops decorative marks but keeps й, ё, ї."""
    if char in _APOSTROPHES:
        return "'"
    kept: list[str] = []
    for part in unicodedata.normalize("NFKD", char):
        if not unicodedata.combining(part) or (kept and kept[-1] in _LETTER_MARKS.get(part, "")):
            kept.append(part)
    return unicodedata.normalize("NFC", "".join(kept))


def _reverse_tail(start: int, chars: list[str], starts: list[int], ends: list[int]) -> None:
    chars[start:] = chars[start:][::-1]
    starts[start:] = starts[start:][::-1]
    ends[start:] = ends[start:][::-1]


def _lowercase(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few letters (e.g. Turkish dotted İ) grow when lowercased; keep them one-to-one.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _fold_e(text: str) -> str:
    """ё is optional in Russian print, so "ёлка" and "елка" are one word."""
    return text.replace("ё", "е").replace("ѐ", "е").replace("ѝ", "и")


def _join_spaced_letters(text, original, starts, ends):
    """Join "С л а в а  У к р а и н е" into "слава украине".

    Inside a run the most common filler joins letters; any other filler (a double space,
    a space after dots) is where the writer meant a word break, and becomes one space.
    So does a capital after a small letter: in "и П у т и н" the "и" is a word of its own.
    """
    if not _SPACED_LETTERS.search(text):
        return text, starts, ends, []
    out_chars: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    spaced_out: list[int] = []
    position = 0
    for run in _SPACED_LETTERS.finditer(text):
        _copy(text, starts, ends, position, run.start(), out_chars, out_starts, out_ends)
        _collapse_run(run, original, starts, ends, out_chars, out_starts, out_ends, spaced_out)
        position = run.end()
    _copy(text, starts, ends, position, len(text), out_chars, out_starts, out_ends)
    return "".join(out_chars), out_starts, out_ends, spaced_out


def _copy(text, starts, ends, start, end, out_chars, out_starts, out_ends):
    out_chars.append(text[start:end])
    out_starts.extend(starts[start:end])
    out_ends.extend(ends[start:end])


def _collapse_run(run, original, starts, ends, out_chars, out_starts, out_ends, spaced_out):
    fillers = list(_SEPARATOR_IN_RUN.finditer(run.group()))
    joining = max({f.group() for f in fillers}, key=[f.group() for f in fillers].count)
    base = run.start()
    spaced_out.append(len(out_starts))
    cursor = 0
    for filler in fillers + [None]:
        letter_at = base + cursor
        out_chars.append(run.group()[cursor])
        out_starts.append(starts[letter_at])
        out_ends.append(ends[letter_at])
        if filler is None:
            break
        if filler.group() != joining or _starts_capitalised_word(
            original, starts, letter_at, base + filler.end()
        ):
            out_chars.append(" ")
            out_starts.append(starts[base + filler.start()])
            out_ends.append(ends[base + filler.end() - 1])
            spaced_out.append(len(out_starts))
        cursor = filler.end()


def _starts_capitalised_word(original: str, starts, before: int, after: int) -> bool:
    return original[starts[before]].islower() and original[starts[after]].isupper()


def _unmask_look_alikes(text: str, original: str, starts: list[int]) -> str:
    """Turn "пyтин" (Latin y) into "путин" and "Slаva" (Cyrillic а) into "slava"."""
    pieces: list[str] = []
    copied_up_to = 0
    cyrillic_majority: list[bool] = []
    for word_start, word_end in _latinish_words(text):
        word = text[word_start:word_end]
        cyrillic = len(_CYRILLIC_LETTER.findall(word))
        if cyrillic:
            unmasked = _unmask_mixed_word(word, cyrillic)
        elif (
            _is_capitals_look_alike(word, word_start, original, starts)
            and _between_cyrillic_words(text, word_start, word_end)
            and _mostly_cyrillic(text, cyrillic_majority)
        ):
            unmasked = word.translate(_TO_CYRILLIC)
        else:
            continue
        pieces.append(text[copied_up_to:word_start])
        pieces.append(unmasked)
        copied_up_to = word_end
    pieces.append(text[copied_up_to:])
    return "".join(pieces)


def _latinish_words(text: str) -> list[tuple[int, int]]:
    """Words holding a Latin or Greek letter or a digit: the only candidates for look-alikes."""
    words: list[tuple[int, int]] = []
    for found in _NOT_CYRILLIC_CHAR.finditer(text):
        if words and found.start() < words[-1][1]:
            continue
        start, end = found.start(), found.end()
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        words.append((start, end))
    return words


def _between_cyrillic_words(text: str, start: int, end: int) -> bool:
    """ "BCY" among Russian words is a disguise; "YOU" in "I LOVE YOU" is English."""
    before = _LAST_WORD.search(text, max(0, start - _NEIGHBOUR_REACH), start)
    after = _FIRST_WORD.match(text, end, end + _NEIGHBOUR_REACH)
    return not any(found and _FOREIGN_LETTER.search(found.group(1)) for found in (before, after))


def _mostly_cyrillic(text: str, memo: list[bool]) -> bool:
    if not memo:
        memo.append(len(_CYRILLIC_LETTER.findall(text)) > len(_FOREIGN_LETTER.findall(text)))
    return memo[0]


def _unmask_mixed_word(word: str, cyrillic: int) -> str:
    foreign = len(_FOREIGN_LETTER.findall(word))
    digits = sum(c.isdigit() for c in word)
    if digits and (digits > 2 or len(word) - digits < 2):
        return word  # "2022г", "5й": a number with a suffix, not a disguised word
    can_be_cyrillic = not _NOT_CYRILLIC_CHAR.search(word.translate(_TO_CYRILLIC))
    can_be_latin = not _CYRILLIC_LETTER.search(word.translate(_TO_LATIN))
    if can_be_latin and foreign > cyrillic and not digits:
        return word.translate(_TO_LATIN)
    if can_be_cyrillic or cyrillic >= foreign:
        return word.translate(_TO_CYRILLIC)
    return word.translate(_TO_LATIN)


def _is_capitals_look_alike(word: str, at: int, original: str, starts: list[int]) -> bool:
    """A Latin-only word of capitals that all pass for Cyrillic ("BCY") in a Cyrillic letter."""
    if len(word) < 2 or word.translate(_TO_CYRILLIC) == word or not word.isalpha():
        return False
    if _ROMAN_NUMERAL.fullmatch(word):
        return False  # "XXI век" is a century, not a disguised word
    if _FOREIGN_LETTER.search(word.translate(_TO_CYRILLIC)):
        return False
    return all(original[starts[at + i]].isupper() for i in range(len(word)))
