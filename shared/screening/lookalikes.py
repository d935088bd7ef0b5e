"""Which Russian (or Latin) letter a character passes for: the censor reads shapes, not code points.

The table is Unicode's own: the confusables data (UTS #39) shipped with confusable-homoglyphs,
read once per process. It pairs every character with the ones it is confused with ("Ꮲ", "Ρ",
"Р" and "P" all look alike), so "Рօссия" with an Armenian օ, "Ҫлава Ұкраине" with Bashkir and
Kazakh letters, or "Ηерοям" with Greek letters all read as Russian. Compatibility forms
(fullwidth, mathematical bold...) are folded before this, by NFKC in normalize.py.

Some letters of other Cyrillic alphabets are missing from that data (Bashkir "Ҡ", Aleut "Ӄ",
Abkhaz "Ҟ"): their Unicode names still say which letter they are built on ("CYRILLIC CAPITAL
LETTER KA WITH STROKE"), and that base letter is what a reader sees.

Unicode lists shapes, not habits, so two small tables are added by hand and say why:
small Latin letters that pass for Cyrillic only in italics or handwriting ("n" for "п"), and the
digits and signs people type for letters ("Сл4ва", "Ро$$ия", "Сл@ва"), which Unicode does not
pair with letters at all.
"""

from __future__ import annotations

import json
import string
from functools import lru_cache
from importlib.resources import files

import unicodedata2

# The alphabets the screening reads: Russian and Ukrainian Cyrillic, and ASCII Latin.
RUSSIAN_UKRAINIAN = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ")
_CYRILLIC_TARGETS = RUSSIAN_UKRAINIAN | {c.upper() for c in RUSSIAN_UKRAINIAN}
_LATIN_TARGETS = frozenset(string.ascii_letters)

# Italic and handwritten Cyrillic: "п" is written like "n", "и" like "u", "т" like "m".
_ITALIC_TO_CYRILLIC = {"n": "п", "u": "и"}
_ITALIC_TO_LATIN = {"п": "n", "и": "u", "г": "r"}

# Digits and signs typed for letters, most likely reading first. Unicode already pairs
# 0 with О, 3 with З, 6 with б and € with Є; these are the keyboard habits it does not know.
LETTER_SIGNS: dict[str, str] = {
    "@": "а",
    "$": "с",
    "4": "ач",  # "Сл4ва" (the shape of A) and Russian chat "4" for "ч"
    "8": "в",
    "1": "іи",
    "0": "оу",
    "3": "е",  # "Н3Т В0ЙН3": a mirrored Е (Unicode pairs 3 only with З)
    "€": "е",
    # Greek beta stands for б as often as for the в Unicode pairs it with ("Своβοду").
    "β": "б",
    "ϐ": "б",
}


@lru_cache(maxsize=1)
def _look_alikes() -> tuple[dict[str, str], dict[str, str]]:
    """For every character Unicode lists as confusable: the Cyrillic and the Latin letter it
    passes for. Built once from the data; the data itself is not kept (it is ~8 MB as objects)."""
    source = files("confusable_homoglyphs").joinpath("confusables.json")
    raw: dict[str, list[dict[str, str]]] = json.loads(source.read_text(encoding="utf-8"))
    graph: dict[str, frozenset[str]] = {}
    for char, entries in raw.items():
        neighbours = {_base(entry["c"]) for entry in entries}
        graph[char] = frozenset(n for n in neighbours if n is not None and n != char)
    cyrillic: dict[str, str] = {}
    latin: dict[str, str] = {}
    for char in graph:
        for table, targets in ((cyrillic, _CYRILLIC_TARGETS), (latin, _LATIN_TARGETS)):
            found = _nearest(graph, char, targets)
            if found is not None:
                table[char] = found
    return cyrillic, latin


def _base(sequence: str) -> str | None:
    """ "o̵" (o with a stroke) is an o; bidi marks around Arabic entries are not part of the shape."""
    kept = "".join(c for c in sequence if unicodedata2.category(c) not in ("Mn", "Me", "Cf"))
    return kept if len(kept) == 1 else None


def _nearest(graph: dict[str, frozenset[str]], char: str, targets: frozenset[str]) -> str | None:
    """The target letter `char` is confused with, directly or through one shared look-alike.

    One step through a third character is needed because the data pairs each character with a
    prototype: Kazakh "ү" is listed with Latin "y", and "y" with Cyrillic "у".
    """
    neighbours = graph.get(char, frozenset())
    direct = sorted(n for n in neighbours if n in targets)
    if direct:
        return direct[0]
    second = sorted({t for n in neighbours for t in graph.get(n, ()) if t in targets})
    return second[0] if second else None


# The Unicode names of the Russian letters, as they appear in other Cyrillic letters' names.
_RUSSIAN_LETTER_NAMES = {
    "A": "а", "BE": "б", "VE": "в", "GHE": "г", "DE": "д", "IE": "е", "ZHE": "ж", "ZE": "з",
    "I": "и", "SHORT I": "й", "KA": "к", "EL": "л", "EM": "м", "EN": "н", "O": "о", "PE": "п",
    "ER": "р", "ES": "с", "TE": "т", "U": "у", "STRAIGHT U": "у", "EF": "ф", "HA": "х", "TSE": "ц",
    "CHE": "ч", "SHA": "ш", "YERU": "ы", "E": "э", "YU": "ю", "YA": "я", "BARRED O": "о",
    "GJE": "г", "KJE": "к", "SHORT U": "у",  # Macedonian and Belarusian: a Russian letter with an accent
}
# Words in those names that say whose alphabet the letter is, not what it looks like.
_ALPHABET_WORDS = {"BASHKIR", "ABKHASIAN", "KHAKASSIAN", "ALEUT", "KOMI", "CHUVASH", "YAKUT", "MORDVIN"}


def _cyrillic_by_name(char: str) -> str | None:
    """ "Ҡ" (CYRILLIC CAPITAL LETTER BASHKIR KA) is a к; "Ӄ" (KA WITH HOOK) too. Only for letters
    made from a Russian one by a stroke, hook, tail or descender: the name must say so."""
    name = unicodedata2.name(char, "")
    prefix = next((p for p in ("CYRILLIC CAPITAL LETTER ", "CYRILLIC SMALL LETTER ") if name.startswith(p)), None)
    if prefix is None:
        return None
    words = [w for w in name[len(prefix):].split(" WITH ")[0].split() if w not in _ALPHABET_WORDS]
    return _RUSSIAN_LETTER_NAMES.get(" ".join(words))


@lru_cache(maxsize=8192)
def as_cyrillic(char: str) -> str | None:
    """The lower-case Russian/Ukrainian letter that `char` (as typed, with its case) passes for."""
    if char.lower() in RUSSIAN_UKRAINIAN:
        return char.lower()
    cyrillic, latin = _look_alikes()
    for form in (char, char.upper()):  # "k" and "m" look Cyrillic only as capitals are listed
        if form in cyrillic:
            return cyrillic[form].lower()
    if char in latin and latin[char] != char:  # "һ" is listed with "h" only, and "h" passes for н
        return as_cyrillic(latin[char])
    return _cyrillic_by_name(char) or _ITALIC_TO_CYRILLIC.get(char)


@lru_cache(maxsize=8192)
def as_latin(char: str) -> str | None:
    """The lower-case ASCII letter that `char` (as typed, with its case) passes for."""
    if char in _LATIN_TARGETS:
        return char.lower()
    latin = _look_alikes()[1]
    for form in (char, char.upper()):
        if form in latin:
            return latin[form].lower()
    return _ITALIC_TO_LATIN.get(char.lower())


def letter_readings(char: str) -> str:
    """The Russian letters a digit or sign may stand for inside a word, most likely first."""
    readings = LETTER_SIGNS.get(char, "")
    shape = as_cyrillic(char)
    if shape is not None and shape not in readings:
        readings = shape + readings
    return readings


def is_letter(char: str) -> bool:
    """A letter of any script, by the current Unicode tables (Python 3.11's stop at Unicode 14)."""
    return unicodedata2.category(char).startswith("L")
