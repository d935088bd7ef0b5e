"""The canonical form of a letter: what the censor reads, whatever tricks the keyboard played.

Writers (and sometimes well-meaning "helpers") dodge simple filters with letters of other
scripts that look the same ("Рօссия" with an Armenian o, "Ҫлава" with a Bashkir letter), digits
and signs for letters ("П0тин", "Ро$$ия", "Сл@ва"), hidden letters ("х*йло"), letters split by
any filler ("С♥л♥а♥в♥а", "С.л-а_в.а"), words cut into pieces ("Сла ва", "Ге-ро-ям"), stress marks,
zero-width and bidi control characters, and text written backwards (with or without the
right-to-left override). The censor reads the letter as displayed, so the screening engine does
too: it reduces the letter to one lowercase canonical string and remembers, for every canonical
character, which span of the ORIGINAL text it came from, so that findings still point at what
the writer typed.

Innocent text is left as it is: Latin names and titles, "2024г", "5-й", "XIX век", initials
("А.С. Пушкин"), "т.е.", lists ("1) 2) 3)"), ":)" and "...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import unicodedata2

from shared.screening import lexicon
from shared.screening.lookalikes import RUSSIAN_UKRAINIAN, as_cyrillic, as_latin, is_letter, letter_readings

# Characters that need nothing but case folding; everything else takes the slow path.
_PLAIN_RUN = re.compile(r"[\x00-\x7f\u0400-\u045f\u0490\u0491]+")

# Combining marks that make a different Russian/Ukrainian letter (й, ё, ї, ў);
# every other mark (stress U+0301, grave, variation selectors...) is decoration and is dropped.
_LETTER_MARKS = {"\u0306": "иуИУ", "\u0308": "еіЕІ"}

# Right-to-left override shows the letters that follow in reverse order; the censor sees the
# displayed order, so we reverse them back. It ends at PDF, at another override or at a line end.
_RLO, _LRO, _PDF = "\u202e", "\u202d", "\u202c"

_APOSTROPHES = "\u2019\u02bc\u2018`\u00b4\u02b9"

_RU = "а-яёіїєґ"
_RUSSIAN_WORD = re.compile(rf"[{_RU}]+")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
_ROMAN_NUMERAL = re.compile(r"[ivxlcdm]+")
_FOREIGN_LETTER = re.compile(rf"[^\W\d_{_RU}]")
_LAST_WORD = re.compile(r"([^\W_]+)[\W_]*$")
_FIRST_WORD = re.compile(r"[\W_]*([^\W_]+)")
_NEIGHBOUR_REACH = 40
_WORD = re.compile(r"[^\W_]+")

_ADDRESS_GOES_ON = re.compile(r"\.[^\W_]")
# What Russian writes after a number: "5-й", "10го", "2х", "5ти", "2024г", "3км".
_MAX_DICTIONARY_SEARCHES = 24
_NUMERAL_SUFFIX = re.compile(
    r"(?:[йяеюмхгл]|го|му|ми|ти|ть|ой|ый|ий|ая|ое|ые|ых|их|ом|ем|ым|им|ую|ка|ки|ку|ке|км|кг|мм|см"
    r"|ого|его|ому|ему|ыми|ими|ое|гг|лет|год|тыс|млн|руб|час|мин|раз)"
)

# Signs that stand for a letter inside a word: "Сл@ва", "Ро$$ия", "х*йло", "П#тин", "б_я".
# A full stop is not one of them: "т.е", "г.Москва" are abbreviations, not hidden letters.
_MASKS = "*#%?_•·●∗✱"
_SIGNS = "@$€" + _MASKS
_WORDISH = re.compile(rf"(?:[@$€](?=[{_RU}]))?[^\W_]+(?:[{re.escape(_SIGNS)}]+[^\W_]+)*")
# Single letters separated by any filler, at least three of them: "С л а в а", "С.л.а.в.а",
# "С♥л♥а♥в♥а", "П-у_т~и/н", one per line. Two are too common in real text ("т.е.", "и я").
# A letter beside a masked piece ("к*шка", "х*йло") belongs to that word, not to a spelt-out run.
_MASK_CLASS = f"[{re.escape(_MASKS)}]"
_LONE_LETTER = (
    rf"(?<![^\W_])(?<![^\W\d_]{{2}}{_MASK_CLASS})"  # not the end of a word, nor of "к*шка"
    rf"[^\W\d_](?![^\W_])(?!{_MASK_CLASS}+[^\W\d_]{{2}})"  # not a word's start, nor of "х*йло"
)
# "@" is no filler: "k a t e r y n a @ i . u a" is an address spelt out, and stays one.
_FILLER = r"(?:[^\w@]|_){1,3}"
_SPACED_LETTERS = re.compile(rf"{_LONE_LETTER}(?:{_FILLER}{_LONE_LETTER}){{2,}}")
_FILLER_IN_RUN = re.compile(rf"(?<=[^\W\d_]){_FILLER}(?=[^\W\d_])")
# One-letter Russian words: "а я в шоке", "и я с тобой" are sentences, not a spelt-out word.
_ONE_LETTER_WORDS = frozenset("аивкосуяaiovkcuy")

# Pieces of one word written apart: "Сла ва", "Ге-ро-ям". The filler is one space or hyphen.
_PIECE_FILLERS = frozenset(" -\u2010\u2011")
_MAX_PIECES = 4
_MAX_PIECE = 6

# Backwards text: a word that ends in a capital ("авалС") or reads as a word only reversed.
_MIN_REVERSED = 3
_ENDS_IN_CAPITAL = re.compile(r"[а-яёіїєґ][А-ЯЁІЇЄҐ](?![^\W\d_])")


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
    # Canonical spans the writer hid from a plain reading: written backwards, or under a
    # right-to-left override. They are read the right way round in `text`.
    hidden: tuple[tuple[int, int], ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering canonical [start, end); min/max because RLO reorders."""
        if end <= start:
            return self.starts[start], self.starts[start]
        return min(self.starts[start:end]), max(self.ends[start:end])

    def is_capitalised(self, index: int) -> bool:
        """Whether the writer typed this canonical character as a capital letter."""
        original_char = self.original[self.starts[index] : self.ends[index]][:1]
        return original_char.isupper()


@dataclass(slots=True)
class _Draft:
    """The canonical text while it is being built: each step may move, drop or join characters."""

    text: str
    cased: str  # the same characters before lower-casing: look-alikes depend on case ("B" is В)
    starts: list[int]
    ends: list[int]
    spaced_out: set[int]


class _Builder:
    """Builds the next draft from pieces of the previous one, keeping the map to the original."""

    def __init__(self, draft: _Draft) -> None:
        self.draft = draft
        self.text: list[str] = []
        self.cased: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.spaced_out: set[int] = set()
        self.length = 0

    def copy(self, start: int, end: int) -> None:
        if end <= start:
            return
        d = self.draft
        for index in d.spaced_out:
            if start <= index < end:
                self.spaced_out.add(self.length + index - start)
        self.text.append(d.text[start:end])
        self.cased.append(d.cased[start:end])
        self.starts.extend(d.starts[start:end])
        self.ends.extend(d.ends[start:end])
        self.length += end - start

    def add(self, char: str, cased: str, start: int, end: int) -> None:
        self.text.append(char)
        self.cased.append(cased)
        self.starts.append(start)
        self.ends.append(end)
        self.length += 1

    def mark_spaced_out(self) -> None:
        self.spaced_out.add(self.length)

    def build(self) -> _Draft:
        return _Draft("".join(self.text), "".join(self.cased), self.starts, self.ends, self.spaced_out)


def canonicalise(original: str) -> CanonicalText:
    """Reduce a letter to lowercase canonical form, keeping a map back to original offsets."""
    chars, starts, ends, overridden = _read_characters(original)
    cased = "".join(chars)
    draft = _Draft(_fold_e(_lowercase(cased)), cased, starts, ends, set())
    draft = _join_spaced_letters(draft, original)
    draft = _unmask_words(draft)
    draft = _join_word_pieces(draft)
    draft, backwards = _turn_backwards_text(draft)
    hidden = sorted(backwards + _canonical_spans(overridden, draft.starts))
    return CanonicalText(
        original,
        draft.text,
        tuple(draft.starts),
        tuple(draft.ends),
        frozenset(draft.spaced_out),
        tuple(hidden),
    )


def detect_hidden_text(letter: CanonicalText) -> list[tuple[int, int]]:
    """Text the writer hid from a plain reading: typed backwards or under a right-to-left override.

    It is read the right way round for the other rules; it is also a finding of its own, because
    hiding words from the censor is a moderator's business even when the words are misspelt.
    """
    return list(letter.hidden)


# ---------------------------------------------------------------- characters


def _read_characters(original: str):
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    overridden: list[tuple[int, int]] = []  # original spans shown right-to-left
    state = _Override(chars, starts, ends, overridden)
    position = 0
    for run in _PLAIN_RUN.finditer(original):
        _read_special(original, position, run.start(), state)
        _read_plain(run.group(), run.start(), state)
        position = run.end()
    _read_special(original, position, len(original), state)
    state.end()
    return chars, starts, ends, overridden


class _Override:
    """Where a right-to-left override began, and the spans it covered."""

    def __init__(self, chars, starts, ends, overridden) -> None:
        self.chars, self.starts, self.ends, self.overridden = chars, starts, ends, overridden
        self.since: int | None = None

    def begin(self) -> None:
        if self.since is None:
            self.since = len(self.chars)

    def end(self) -> None:
        if self.since is None:
            return
        start = self.since
        self.since = None
        if start >= len(self.chars):
            return
        self.chars[start:] = self.chars[start:][::-1]
        self.starts[start:] = self.starts[start:][::-1]
        self.ends[start:] = self.ends[start:][::-1]
        self.overridden.append((min(self.starts[start:]), max(self.ends[start:])))


def _read_plain(run: str, offset: int, state: _Override) -> None:
    if state.since is not None and "\n" in run:
        line_end = run.index("\n")
        _read_plain(run[:line_end], offset, state)
        state.end()
        _read_plain(run[line_end:], offset + line_end, state)
        return
    state.chars.extend(run)
    state.starts.extend(range(offset, offset + len(run)))
    state.ends.extend(range(offset + 1, offset + len(run) + 1))


def _read_special(original: str, start: int, end: int, state: _Override) -> None:
    chars, starts, ends = state.chars, state.starts, state.ends
    for index in range(start, end):
        char = original[index]
        if char == _RLO:
            state.begin()
            continue
        if char in (_PDF, _LRO):
            state.end()
        # Current Unicode tables: with Python 3.11's own (Unicode 14) a newer emoji such as 🩵
        # is "unassigned" and would silently vanish from the canonical text.
        category = unicodedata2.category(char)
        if category in ("Cf", "Cc", "Cs", "Co", "Cn"):
            continue  # invisible: zero-width, bidi controls, soft hyphens, tag characters
        if category in ("Mn", "Me", "Mc"):
            _attach_mark(char, index, chars, ends)
            continue
        for folded in _fold_special(char):
            chars.append(folded)
            starts.append(index)
            ends.append(index + 1)


def _attach_mark(mark: str, index: int, chars: list[str], ends: list[int]) -> None:
    """A combining mark belongs to the letter before it, so the letter's span grows to cover it."""
    if not chars:
        return
    if chars[-1] in _LETTER_MARKS.get(mark, ""):
        chars[-1] = unicodedata2.normalize("NFC", chars[-1] + mark)
    ends[-1] = index + 1


@lru_cache(maxsize=8192)
def _fold_special(char: str) -> str:
    """NFKC-style compatibility folding that drops decorative marks but keeps й, ё, ї."""
    if char in _APOSTROPHES:
        return "'"
    kept: list[str] = []
    for part in unicodedata2.normalize("NFKD", char):
        if not unicodedata2.combining(part) or (kept and kept[-1] in _LETTER_MARKS.get(part, "")):
            kept.append(part)
    return unicodedata2.normalize("NFC", "".join(kept))


def _lowercase(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few letters (e.g. Turkish dotted İ) grow when lowercased; keep them one-to-one.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _fold_e(text: str) -> str:
    """ё is optional in Russian print, so "ёлка" and "елка" are one word."""
    return text.replace("ё", "е").replace("ѐ", "е").replace("ѝ", "и")


def _canonical_spans(original_spans: list[tuple[int, int]], starts: list[int]) -> list[tuple[int, int]]:
    spans = []
    for low, high in original_spans:
        inside = [i for i, s in enumerate(starts) if low <= s < high]
        if inside:
            spans.append((min(inside), max(inside) + 1))
    return spans


# ---------------------------------------------------------------- letters spelt one by one


def _join_spaced_letters(draft: _Draft, original: str) -> _Draft:
    """Join "С л а в а  У к р а и н е" into "слава украине", whatever stands between the letters.

    Inside a run the lightest common filler joins letters; a heavier one (a double space, a space
    after dots, a line break between letters joined by spaces) is where the writer meant a word
    break, and becomes one space. So does a capital after a small letter: in "и П у т и н" the
    "и" is a word of its own.
    """
    text = draft.text
    if not _SPACED_LETTERS.search(text):
        return draft
    out = _Builder(draft)
    position = 0
    for run in _SPACED_LETTERS.finditer(text):
        if _is_plain_sentence(run.group(), draft.cased[run.start() : run.end()]):
            continue
        if _is_mixed_and_short(run.group()) or _masks_a_word(run.group()) or _masks_words(run.group()):
            continue
        out.copy(position, run.start())
        _collapse_run(run, draft, original, out)
        position = run.end()
    out.copy(position, len(text))
    return out.build()


def _is_plain_sentence(run: str, cased: str) -> bool:
    """ "а я в шоке", "и я с тобой": one-letter words in ordinary text, not a spelt-out word."""
    letters = [c for c in run if c.isalpha()]
    fillers = _FILLER_IN_RUN.findall(run)
    return (
        all(c in _ONE_LETTER_WORDS for c in letters)
        and all(any(ch.isspace() for ch in f) for f in fillers)
        and not all(c.isupper() for c in cased if c.isalpha())
    )


def _is_mixed_and_short(run: str) -> bool:
    """ "Петр I, P.S.": three letters with different fillers are initials and numerals.

    Letters split by fillers varied at random are a disguise only from four letters on.
    """
    fillers = _FILLER_IN_RUN.findall(run)
    return len(fillers) < 3 and len(set(fillers)) > 1


def _masks_words(run: str) -> bool:
    """ "П***н х***о": words each masked, side by side, not one word spaced out."""
    pieces = run.split()
    return len(pieces) > 1 and all(any(c in _MASKS for c in piece) and _masks_a_word(piece) for piece in pieces)


def _masks_a_word(run: str) -> bool:
    """ "П*т*н": the stars stand for letters, not between them, when the letters joined make no
    word ("птн") and the stars read as letters make one worth hiding; "С*л*а*в*а" is still joined."""
    fillers = _FILLER_IN_RUN.findall(run)
    if not fillers or not all(f and all(c in _MASKS for c in f) for f in fillers):
        return False
    pattern = "".join("*" if c in _MASKS else c for c in run)
    if all(len(f) == 1 for f in fillers):
        joined = "".join(c for c in run if c.isalpha())
        if lexicon.known(joined) or lexicon.worth_hiding(joined):
            return False
        found = lexicon.hidden_word(pattern)
        if found is not None and len(found) == len(run):
            return True
    # "П***н": a run of stars for several letters, read only as one of the usual targets.
    return lexicon.heavily_masked_word(pattern) is not None


def _weight(filler: str) -> tuple[int, int]:
    return filler.count("\n"), sum(ch.isspace() for ch in filler)


def _collapse_run(run: re.Match, draft: _Draft, original: str, out: _Builder) -> None:
    fillers = list(_FILLER_IN_RUN.finditer(run.group()))
    texts = [f.group() for f in fillers]
    joining = min(set(texts), key=lambda f: (-texts.count(f), _weight(f), f))
    # When no filler dominates, the writer varied them at random ("С.л-а_в а"): then only a
    # line break or a wide gap still reads as a word break.
    dominant = texts.count(joining) * 2 >= len(texts)
    base = run.start()
    out.mark_spaced_out()
    cursor = 0
    for filler in fillers + [None]:
        letter_at = base + cursor
        out.copy(letter_at, letter_at + 1)
        if filler is None:
            break
        weight = _weight(filler.group())
        if dominant:
            heavier = filler.group() != joining and weight > _weight(joining)
        else:
            heavier = weight[0] > 0 or weight[1] > 1
        if heavier or _starts_capitalised_word(original, draft.starts, letter_at, base + filler.end()):
            out.add(" ", " ", draft.starts[base + filler.start()], draft.ends[base + filler.end() - 1])
            out.mark_spaced_out()
        cursor = filler.end()


def _starts_capitalised_word(original: str, starts, before: int, after: int) -> bool:
    return original[starts[before]].islower() and original[starts[after]].isupper()


# ---------------------------------------------------------------- look-alikes, signs, masks


def _unmask_words(draft: _Draft) -> _Draft:
    """Read each word in the script it pretends to be: "пyтин" (Latin y) is путин, "Slаva"
    (Cyrillic а) is slava, "П0тин" and "х*йло" are what they hide. One character stays one."""
    text = draft.text
    pieces: list[str] = []
    copied_up_to = 0
    cyrillic_majority: list[bool] = []
    budget = [_MAX_DICTIONARY_SEARCHES]
    for found in _WORDISH.finditer(text):
        word = found.group()
        if _RUSSIAN_WORD.fullmatch(word):
            continue
        start, end = found.span()
        if "@" in word and _ADDRESS_GOES_ON.match(text, end):
            continue  # "ольга@почта.рф" is an address, not "Сл@ва"
        cased = draft.cased[start:end]
        if _CYRILLIC_LETTER.search(word) or any(c in _SIGNS for c in word):
            unmasked = _unmask_mixed_word(word, cased, budget)
        elif _passes_for_cyrillic(word, cased, text, start, end, cyrillic_majority):
            unmasked = "".join(as_cyrillic(c) or c for c in cased)
        else:
            continue
        if unmasked == word:
            continue
        pieces.append(text[copied_up_to:start])
        pieces.append(unmasked)
        copied_up_to = end
    if not pieces:
        return draft
    pieces.append(text[copied_up_to:])
    return _Draft("".join(pieces), draft.cased, draft.starts, draft.ends, draft.spaced_out)


def _unmask_mixed_word(word: str, cased: str, budget: list[int]) -> str:
    russian = sum(c in RUSSIAN_UKRAINIAN for c in word)
    foreign = sum(is_letter(c) and c not in RUSSIAN_UKRAINIAN for c in word)
    hidden = [i for i, c in enumerate(word) if c.isdigit() or c in _SIGNS]
    if not russian and not foreign:
        return word
    to_cyrillic = [w if w in RUSSIAN_UKRAINIAN else as_cyrillic(c) for w, c in zip(word, cased)]
    to_latin = [as_latin(c) if is_letter(c) else None for c in cased]
    letters_only = {i for i, c in enumerate(word) if is_letter(c)}
    can_be_cyrillic = all(to_cyrillic[i] for i in letters_only)
    can_be_latin = all(to_latin[i] for i in letters_only)
    if russian == 0 or (can_be_latin and foreign > russian and not hidden):
        if not can_be_latin:
            return word  # a word of another script ("Καλημέρα"): the language rules see it
        return "".join(to_latin[i] if i in letters_only else c for i, c in enumerate(word))
    if not (can_be_cyrillic or russian >= foreign):
        return "".join(to_latin[i] or c if i in letters_only else c for i, c in enumerate(word))
    letters = [to_cyrillic[i] or c if i in letters_only else c for i, c in enumerate(word)]
    if hidden:
        return _read_hidden_letters(word, letters, hidden, budget)
    read = "".join(letters)
    if foreign and _RUSSIAN_WORD.fullmatch(read) and not lexicon.known(read):
        # A careless disguise: "Ηероям" with a Greek Eta meant for Г. The foreign letters were
        # put there to hide something, so read them as hidden letters of a word worth hiding.
        disguised = sorted(i for i in letters_only if word[i] not in RUSSIAN_UKRAINIAN)
        # First the other letters each could pass for: Greek β is read в, but written for б too.
        readings = [letter_readings(word[i]) or letters[i] for i in disguised]
        if len(disguised) <= 4:
            for choice in product(*readings):
                candidate = _fill(letters, disguised, choice)
                if lexicon.known(candidate):
                    return candidate
        found = _search(_fill(letters, disguised, ["*"] * len(disguised)), budget)
        if found is not None and len(found) == len(word):
            return found
    return read


def _read_hidden_letters(word: str, letters: list[str], hidden: list[int], budget: list[int]) -> str:
    """Digits and signs inside a Cyrillic word, read as the letters they stand for.

    "2024г", "5й", "10-го" are numbers with a suffix: only a sign with letters on both sides
    (or a sign after at least three letters, "Слав@") is read, and the result must be a word
    the dictionary knows, or one worth hiding ("П*тин"). Otherwise the word stays as typed.
    """
    if not all(0 < i < len(word) - 1 or (i == len(word) - 1 and i >= 2) for i in hidden):
        leading = hidden == [0]
        if not leading or _NUMERAL_SUFFIX.fullmatch(word[1:]):
            return word  # "5й", "10го", "2024г": a number and its ending
    if len(word) - len(hidden) < 2 or len(hidden) > 4:
        if all(word[i] in _MASKS for i in hidden):
            return lexicon.heavily_masked_word(_fill(letters, hidden, ["*"] * len(hidden))) or word
        return word
    readings = [letter_readings(word[i]) if word[i] not in _MASKS else "" for i in hidden]
    if all(readings):
        for choice in product(*readings):
            candidate = _fill(letters, hidden, choice)
            if lexicon.known(candidate):
                return candidate
    pattern = _fill(letters, hidden, ["*"] * len(hidden))
    found = _search(pattern, budget)
    if found is not None and len(found) == len(word):
        return found
    shapes = [letter_readings(word[i])[:1] for i in hidden]
    inside = hidden[0] > 0 and hidden[-1] < len(word) - 1
    if all(shapes) and all(word[i] in "@$€03" for i in hidden) and inside:
        return _fill(letters, hidden, shapes)  # "Сл@вик": a sign only a letter can be
    return word


def _search(pattern: str, budget: list[int]) -> str | None:
    """A dictionary search for a word with hidden letters, at most so many per letter: a letter
    of a thousand stars must not cost a thousand searches."""
    if budget[0] <= 0:
        return None
    budget[0] -= 1
    return lexicon.hidden_word(pattern)


def _fill(letters: list[str], positions: list[int], choice) -> str:
    filled = list(letters)
    for position, letter in zip(positions, choice):
        filled[position] = letter
    return "".join(filled)


def _passes_for_cyrillic(word, cased, text, start, end, memo) -> bool:
    """A Latin (or Greek...) word that only looks Cyrillic among Russian words.

    "BCY" of capitals is a disguise; so is a lone small "i" or "c" ("любимо i чекаемо",
    "кофе c молоком"). "YOU" in "I LOVE YOU", "XIX век" and "P.S." are not.
    """
    if not all(is_letter(c) for c in word) or any(as_cyrillic(c) is None for c in cased):
        return False
    if len(word) == 1:
        lone_small = cased.islower() and word not in "zv"
        return lone_small and _between_cyrillic_words(text, start, end, both=True)
    if _ROMAN_NUMERAL.fullmatch(word) and cased.isupper():
        return False  # "XXI век" is a century, not a disguised word
    if not (cased.isupper() or not word.isascii()):
        return False
    return _between_cyrillic_words(text, start, end) and _mostly_cyrillic(text, memo)


def _between_cyrillic_words(text: str, start: int, end: int, *, both: bool = False) -> bool:
    """ "BCY" among Russian words is a disguise; "YOU" in "I LOVE YOU" is English."""
    before = _LAST_WORD.search(text, max(0, start - _NEIGHBOUR_REACH), start)
    after = _FIRST_WORD.match(text, end, end + _NEIGHBOUR_REACH)
    if any(found and _FOREIGN_LETTER.search(found.group(1)) for found in (before, after)):
        return False
    if both:
        return all(found and _CYRILLIC_LETTER.search(found.group(1)) for found in (before, after))
    return True


def _mostly_cyrillic(text: str, memo: list[bool]) -> bool:
    if not memo:
        memo.append(len(_CYRILLIC_LETTER.findall(text)) > len(_FOREIGN_LETTER.findall(text)))
    return memo[0]


# ---------------------------------------------------------------- words cut into pieces


_LINE_END_HYPHEN = re.compile(r"[-\u2010\u2011\u00ad][ \t]*\n[ \t]*")


def _join_word_pieces(draft: _Draft) -> _Draft:
    """Join "Сла ва Укр аине" into "слава украине" and "Ге-ро-ям" into "героям".

    Pieces are joined only when together they make a dictionary word and at least one of them
    is not a word that stands alone ("сла", "ва", "пу"): "по беда" and "сине-жёлтый" stay apart.
    """
    text = draft.text
    words = [m for m in _WORD.finditer(text) if _RUSSIAN_WORD.fullmatch(m.group())]
    if len(words) < 2:
        return draft
    # Only a stretch with a piece that is no word of its own can be a word cut into pieces.
    odd = [_is_odd_piece(w.group()) for w in words]
    groups = []
    index = 0
    while index < len(words) - 1:
        size = _pieces_at(words, index, draft) if any(odd[index : index + _MAX_PIECES]) else 0
        if size:
            groups.append((words[index].start(), words[index + size - 1].end(), words[index : index + size]))
            index += size
        else:
            index += 1
    if not groups:
        return draft
    out = _Builder(draft)
    position = 0
    for start, end, pieces in groups:
        out.copy(position, start)
        for piece in pieces:
            out.copy(piece.start(), piece.end())
        position = end
    out.copy(position, len(text))
    return out.build()


def _pieces_at(words: list[re.Match], index: int, draft: _Draft) -> int:
    """How many pieces from `index` on make one word (0 if they do not)."""
    text, cased = draft.text, draft.cased
    first = words[index]
    if len(first.group()) > _MAX_PIECE:
        return 0
    filler = text[first.end() : words[index + 1].start()] if index + 1 < len(words) else ""
    # A word hyphenated at the end of a line ("Укра-\nине") is one word, as on any printed page.
    if not _LINE_END_HYPHEN.fullmatch(filler) and (len(filler) != 1 or filler not in _PIECE_FILLERS):
        return 0
    longest = 1
    for size in range(2, _MAX_PIECES + 1):
        if index + size > len(words):
            break
        last = words[index + size - 1]
        if len(last.group()) > _MAX_PIECE or text[words[index + size - 2].end() : last.start()] != filler:
            break
        if cased[last.start()].isupper() and not cased[first.start() : last.end()].isupper():
            break  # "Сла ва Укр": a capital begins a new word
        longest = size
    for size in range(longest, 1, -1):
        pieces = [w.group() for w in words[index : index + size]]
        joined = "".join(pieces)
        if len(joined) < 4 or all(lexicon.stands_alone(p) or _is_word(p) for p in pieces):
            continue
        if lexicon.known(joined) or lexicon.worth_hiding(joined):
            return size
    return 0


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _is_odd_piece(piece: str) -> bool:
    """ "сла", "ва", "пу": a piece that is no word of its own (so it may be part of one)."""
    return not (lexicon.stands_alone(piece) or _is_word(piece))


def _is_word(piece: str) -> bool:
    return len(piece) > 2 and lexicon.known(piece)


# ---------------------------------------------------------------- text written backwards


def _turn_backwards_text(draft: _Draft) -> tuple[_Draft, list[tuple[int, int]]]:
    """Read "енаркУ авалС" (typed backwards, for the censor to read in a mirror) as "слава украине".

    A run of words is backwards when each ends in a capital or reads as a word only reversed,
    and at least one reads as a dictionary word reversed. One word alone must do both ("авалС").
    """
    text, cased = draft.text, draft.cased
    if not _ENDS_IN_CAPITAL.search(cased):
        return draft, []  # typed backwards, a sentence ends in its capital: "...авалС"
    runs: list[list[re.Match]] = []
    run: list[re.Match] = []
    for word in _WORD.finditer(text):
        if _RUSSIAN_WORD.fullmatch(word.group()) and _looks_backwards(word, cased):
            if run and "\n" in text[run[-1].end() : word.start()]:
                runs.append(run)
                run = []
            run.append(word)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    spans = [(r[0].start(), r[-1].end()) for r in runs if _is_backwards_run(r, cased)]
    if not spans:
        return draft, []
    chars, cased_chars, starts, ends = list(text), list(cased), list(draft.starts), list(draft.ends)
    for start, end in spans:
        for values in (chars, cased_chars, starts, ends):
            values[start:end] = values[start:end][::-1]
    return _Draft("".join(chars), "".join(cased_chars), starts, ends, draft.spaced_out), spans


def _looks_backwards(word: re.Match, cased: str) -> bool:
    token = word.group()
    if len(token) < _MIN_REVERSED:
        return False
    typed = cased[word.start() : word.end()]
    if _ends_in_capital(typed):
        return True
    return typed[0].islower() and _reads_only_backwards(token)


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _reads_only_backwards(token: str) -> bool:
    return not lexicon.russian(token) and lexicon.known(token[::-1])


def _ends_in_capital(typed: str) -> bool:
    return typed[-1].isupper() and typed[:-1].islower()


def _is_backwards_run(run: list[re.Match], cased: str) -> bool:
    reversed_words = [lexicon.known(w.group()[::-1]) for w in run]
    if not any(reversed_words):
        return False
    if len(run) == 1:
        return _ends_in_capital(cased[run[0].start() : run[0].end()])
    return True
