"""Signs the censor reads as politics: flags, the trident, the Ukrainian colours, war markers.

Emoji are named from the `emoji` package's table (Unicode emoji up to 16/17), not from Python's
own Unicode 14 data, so a newer emoji such as 🩵 (light blue heart, Unicode 15) counts too.

- Any flag emoji: the censor treats every flag as a political symbol. The chequered racing flag
  belongs to no country and is left alone.
- The Ukrainian colours: a blue thing beside a yellow one (💙💛, 🔵 🟡, 🟦🟨, 🩵 or 🫐 with 💛,
  a sky of 🟦 over a field of 🌾), even with words or other emoji between. One heart alone,
  or warm emoji (☀️🌷🐈❤️🤗🎂🕌⭐🌙), are just warmth.
- The trident: 🔱, and the Greek or Cyrillic psi (ψ, Ψ, Ѱ) standing on its own as one.
- War markers: a Latin Z or V inside Russian words ("Zа наших", "Vперёд"), "Z"/"ZOV" on its
  own, and a lone V where it is not a Roman numeral ("Карл V", "V век").
- Direction controls: invisible characters that change the order text is shown in, read on the
  writer's own characters (the canonical form drops them).
"""

from __future__ import annotations

import re
from functools import lru_cache

import emoji

from shared.screening import lexicon
from shared.screening.normalize import CanonicalText

Span = tuple[int, int]

# Right-to-left overrides and isolates change the order in which text is shown, not what it says:
# a letter can show "Путин" while its characters run the other way. A letter in Russian needs none.
DIRECTION_CONTROLS = frozenset(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def direction_controls_in(text: str) -> list[int]:
    """Where the text has direction controls. A letter with any is refused at submission, whatever
    they hide: screening can read one order and the scan print another."""
    return [i for i, ch in enumerate(text) if ord(ch) in DIRECTION_CONTROLS]


def detect_direction_controls(original: str) -> list[Span]:
    """Each direction control, as a span of the writer's own text."""
    return [(i, i + 1) for i in direction_controls_in(original)]

# Emoji flags are pairs of regional indicator letters (🇺🇦 = U+1F1FA U+1F1E6); a lone one is
# half a flag.
_REGIONAL_FLAG = re.compile(r"[\U0001F1E6-\U0001F1FF]{1,2}")
_NOBODYS_FLAGS = frozenset({":chequered_flag:"})

# Yellow things that stand for the wheat or sunflower half of the flag when beside a blue one.
_YELLOW_STAND_INS = frozenset({":sunflower:", ":sheaf_of_rice:"})
_COLOUR_REACH = 48  # canonical characters between a blue and a yellow sign that still pair them
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")
_LETTER = re.compile(r"[^\W\d_]")

_TRIDENT_EMOJI = "🔱"
_PSI = "ψѱ"  # canonical (lower-case) forms of ψ Ψ Ѱ ѱ
_TRIDENT = re.compile(f"[{_TRIDENT_EMOJI}{_PSI}]")
_GREEK_OR_CYRILLIC = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")

# War markers. Latin z/v inside a word of Russian letters; the canonical text keeps them Latin
# because no Cyrillic letter looks like Z or V.
_MARKED_WORD = re.compile(r"(?<![^\W_])(?=[^\W\d_]*[zv])(?=[^\W\d_]*[а-яё])[^\W\d_]+")
_LONE_Z = re.compile(r"(?<![^\W_])(?:z|zov|zv)(?![^\W_])")
_GENERATION = re.compile(r"поколени[а-я]*\s*$")  # "поколение Z" is an age group
_LONE_V = re.compile(r"(?<![^\W_])v(?![^\W_])")
_ROMAN_CONTEXT_AFTER = re.compile(
    r"\s*(?:век|века|веке|веков|вв|съезд|том|тома|глав|част|класс|степен|групп|категори|ступен"
    r"|уров|разряд|созыв|олимпиад|чемпионат|международн|всероссийск)"
)
_CYRILLIC_WORD = re.compile(r"[а-яёіїєґ]")
_PREVIOUS_WORD = re.compile(r"([^\W\d_]+)[^\w\n]*$")


def detect_flag_emoji(letter: CanonicalText) -> list[Span]:
    """Any emoji flag: regional-indicator pairs (🇺🇦), 🏳 🏴 🚩 🎌 and the flags built on them."""
    spans = [m.span() for m in _REGIONAL_FLAG.finditer(letter.text)]
    spans += [m.span() for m in _any_of(_flag_emoji()).finditer(letter.text)]
    return sorted(spans)


def detect_ukrainian_colours(letter: CanonicalText) -> list[Span]:
    """The trident, and blue and yellow signs near each other."""
    spans: list[Span] = []
    for start, end in sorted(_tridents(letter) + _colour_pairs(letter)):
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))  # "💙Ѱ💛" is one sign
        else:
            spans.append((start, end))
    return spans


def detect_war_markers(letter: CanonicalText) -> list[Span]:
    """ "Zа наших", "Vперёд", a lone "Z" or "ZOV", a lone "V" that is not a Roman numeral."""
    text = letter.text
    spans = [m.span() for m in _MARKED_WORD.finditer(text) if _has_capital_marker(letter, m)]
    spans += [m.span() for m in _LONE_Z.finditer(text) if not _GENERATION.search(text, 0, m.start())]
    spans += [m.span() for m in _LONE_V.finditer(text) if _is_war_v(letter, m)]
    return sorted(set(spans))


def political_emoji_spans(letter: CanonicalText) -> list[Span]:
    """Spans of emoji that a symbols rule flags (the scan's font cannot print them either)."""
    return detect_flag_emoji(letter) + detect_ukrainian_colours(letter)


# ---------------------------------------------------------------- tables from the emoji data


@lru_cache(maxsize=4)
def _any_of(chars: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Each single-character emoji and its English name (":blue_heart:"), variation selectors off."""
    names: dict[str, str] = {}
    for sequence, data in emoji.EMOJI_DATA.items():
        base = sequence.replace("\ufe0f", "")
        if len(base) == 1:
            names.setdefault(base, data["en"])
    return names


@lru_cache(maxsize=1)
def _flag_emoji() -> frozenset[str]:
    """Characters that are flags, or the base a flag sequence is built on (🏳 of 🏳️‍🌈)."""
    flags: set[str] = set()
    for sequence, data in emoji.EMOJI_DATA.items():
        name = data["en"]
        if name in _NOBODYS_FLAGS or "mailbox" in name:
            continue
        if re.fullmatch(r":(?:.+_)?flags?:|:flag_.+:", name):
            first = sequence[0]
            if not _REGIONAL_FLAG.match(first):
                flags.add(first)
    return frozenset(flags)


@lru_cache(maxsize=1)
def _colours() -> dict[str, str]:
    """ "blue" or "yellow" for every emoji whose name says it is that colour (💙 🔵 🟦 🩵 🫐 📘 🔷,
    💛 🟡 🟨), and the two yellow stand-ins for the flag's wheat field."""
    colours: dict[str, str] = {}
    for char, name in _names().items():
        words = name.strip(":").replace("-", "_").split("_")
        if any(w.startswith("blue") for w in words):
            colours[char] = "blue"
        elif "yellow" in words or name in _YELLOW_STAND_INS:
            colours[char] = "yellow"
    return colours


# ---------------------------------------------------------------- the colours and the trident


def _colour_pairs(letter: CanonicalText) -> list[Span]:
    text = letter.text
    colours = _colours()
    signs = [(m.start(), colours[m.group()]) for m in _any_of(frozenset(colours)).finditer(text)]
    if len(signs) < 2:
        return []
    spans: list[Span] = []
    cluster: list[tuple[int, str]] = []
    for sign in signs + [(None, "")]:
        index = sign[0]
        if cluster and (index is None or not _near(text, cluster[-1][0], index)):
            if {"blue", "yellow"} <= {colour for _, colour in cluster}:
                spans += _runs_of_signs(text, [i for i, _ in cluster])
            cluster = []
        if index is not None:
            cluster.append(sign)
    return spans


def _near(text: str, before: int, after: int) -> bool:
    return after - before - 1 <= _COLOUR_REACH and not _PARAGRAPH.search(text, before, after)


def _runs_of_signs(text: str, positions: list[int]) -> list[Span]:
    """One span per stretch of signs with no word between them: "💙💛" is one, "💙 жду 💛" two."""
    spans: list[Span] = []
    start = previous = positions[0]
    for position in positions[1:]:
        if _LETTER.search(text, previous + 1, position):
            spans.append((start, previous + 1))
            start = position
        previous = position
    spans.append((start, previous + 1))
    return spans


def _tridents(letter: CanonicalText) -> list[Span]:
    text = letter.text
    spans = []
    for found in _TRIDENT.finditer(text):
        index = found.start()
        if found.group() == _TRIDENT_EMOJI or not _in_a_word(text, index):
            spans.append((index, index + 1))  # "ψ Твоя Ольга ψ", "💙Ѱ💛": a psi alone is a trident
    return spans


def _in_a_word(text: str, index: int) -> bool:
    """ "ψυχή" is Greek, and a word with a psi in it is language, not a drawn trident."""
    neighbours = text[max(0, index - 1) : index] + text[index + 1 : index + 2]
    return bool(_GREEK_OR_CYRILLIC.search(neighbours)) or any(c.isalpha() for c in neighbours)


# ---------------------------------------------------------------- war markers


def _has_capital_marker(letter: CanonicalText, word: re.Match) -> bool:
    """ "Zа", "Vперёд": the Latin Z or V was typed as a capital inside a Russian word."""
    for offset, char in enumerate(word.group()):
        if char in "zv" and letter.is_capitalised(word.start() + offset):
            return True
    return False


def _is_war_v(letter: CanonicalText, found: re.Match) -> bool:
    """A lone capital V in a Russian letter that is not a Roman numeral ("Карл V", "V век")."""
    text = letter.text
    if not letter.is_capitalised(found.start()) or not _CYRILLIC_WORD.search(text):
        return False
    if _ROMAN_CONTEXT_AFTER.match(text, found.end()):
        return False
    previous = _PREVIOUS_WORD.search(text, 0, found.start())
    return not (
        previous and letter.is_capitalised(previous.start(1)) and lexicon.name_like(previous.group(1))
    )
