"""What the Russian and Ukrainian dictionaries know about a word, asked cheaply and remembered.

Reading a letter the way the censor does sometimes needs a dictionary: "Сла ва" is one word
split in two, "П*тин" has one letter hidden, "чекаемо" is Ukrainian typed on a Russian keyboard.
The dictionaries are pymorphy3's (installed packages, nothing is downloaded), loaded once per
process through `morphology.analyzer`, which the rules' word forms use too, so there is one copy.
Every answer is cached per word: words repeat from letter to letter, and a lookup costs ~10 µs
while a cached answer costs well under one.
"""

from __future__ import annotations

from functools import lru_cache

# Distinct words remembered: a year of letters uses some tens of thousands of forms. The two
# dictionary answers are kept longer than what is derived from them.
_CACHE = 1 << 15
WORD_CACHE = 1 << 14
_ALPHABET = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
_WILDCARD = "*"

# Short words that stand alone in ordinary text, so that a piece like "ох" or "на" is never
# glued to its neighbour ("Ох рана болит" is not "охрана").
_FUNCTION_TAGS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "NUMR"})
_EVERYDAY_SHORT = frozenset(
    """
    а и в к о с у я з й ну да нет не ни но на за из до по от об во со ко то же ли бы уж вот там
    тут как так кто что где все всё уже еще ещё мне нам вам им их ей ее её его он она мы вы ты
    ох ах эх ух ой ай ха хм эй ого ага угу фу
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Words writers hide behind a star or a digit ("П*тин", "х*йло", "Сл@ва"), as stems: the
# dictionary offers patin, petin, putin... for "п*тин", and only one of them is why a star is there.
_HIDDEN_WORD_STEMS = tuple(
    sorted(
        """
        путин путл зеленск украин україн росси рашк русн рашист кацап москал хохл ватн орк
        слав геро зсу всу нацик фашист хуйл хуй хуе хуё пизд бля бляд ебан ебат ебл ебу ёб еба
        сук мудак пидор пидар гандон говн жоп срак шлюх кремл крым оккупант окупант перемог лукашенк
        кадыров шойгу
        """.split(),  # noqa: SIM905 - a word list reads better as text
        key=len,
        reverse=True,
    )
)
# Endings a hidden word may take after its stem: "хуйл-о", "зеленск-ого", "путин-а".
_INFLECTIONS = (
    "а я у ю е и ы о ой ей ом ем ам ям ами ях ах ов ев ий ый ая ое ые ого его ому ему ую им ым ых их"
)
_ENDINGS = frozenset({"", *_INFLECTIONS.split()})
_OFFENSIVE_TAGS = frozenset({"Slng", "Infr", "Obsc"})
_SLANG = frozenset({"Slng", "Infr"})


def _analyzer(lang: str):
    from shared.screening import morphology  # morphology imports normalize, which imports us

    return morphology.analyzer(lang)


@lru_cache(maxsize=_CACHE)
def russian(word: str) -> bool:
    """Whether the Russian dictionary knows this (lower-case, ё as е) word form."""
    return _analyzer("ru").word_is_known(word)


@lru_cache(maxsize=_CACHE)
def ukrainian(word: str) -> bool:
    """Whether the Ukrainian dictionary knows this (lower-case) word form."""
    return _analyzer("uk").word_is_known(word)


def known(word: str) -> bool:
    return russian(word) or ukrainian(word)


@lru_cache(maxsize=WORD_CACHE)
def stands_alone(word: str) -> bool:
    """A short word that is a word of its own in running text (a preposition, "ох", "вот")."""
    if word in _EVERYDAY_SHORT:
        return True
    if len(word) > 3 or not russian(word):
        return False
    return any(parse.tag.POS in _FUNCTION_TAGS for parse in _analyzer("ru").parse(word)[:3])


@lru_cache(maxsize=WORD_CACHE)
def name_like(word: str) -> bool:
    """Whether a dictionary takes the word for a first name, surname, patronymic or place."""
    for lang in ("uk", "ru"):
        for parse in _analyzer(lang).parse(word)[:4]:
            if parse.is_known and {"Name", "Surn", "Patr", "Geox"} & parse.tag.grammemes:
                return True
    return False


@lru_cache(maxsize=WORD_CACHE)
def ukrainian_non_noun(word: str) -> bool:
    """The Ukrainian dictionary takes the word for a verb, adverb, adjective or pronoun (not slang)."""
    parses = [p for p in _analyzer("uk").parse(word)[:2] if p.is_known]
    return bool(parses) and all(
        p.tag.POS not in (None, "NOUN") and not _SLANG & p.tag.grammemes for p in parses
    )


# Ukrainian typed on a Russian keyboard: і becomes и, ї and є lose their dots, и becomes ы,
# the apostrophe becomes ь or ъ. Each letter is tried both ways in one walk of the dictionary.
_KEYBOARD_UKRAINIAN = {"и": "іїи", "е": "єе", "ы": "и", "э": "еє", "ъ": "'", "ь": "'ь"}


@lru_cache(maxsize=WORD_CACHE)
def ukrainian_behind_russian_letters(word: str) -> str | None:
    """The Ukrainian word a Russian-keyboard spelling stands for ("чекаемо" -> "чекаємо")."""
    analyzer = _analyzer("uk")
    words = analyzer.dictionary.words
    for key in words.similar_keys(word, _keyboard_replaces(words)):
        # The Ukrainian dictionary also spells Russian slang its way ("капєц", "пліз", "синуля"):
        # that is the same Russian word, not Ukrainian.
        if key != word and not any(_SLANG & p.tag.grammemes for p in analyzer.parse(key)[:2]):
            return key
    return None


@lru_cache(maxsize=1)
def _keyboard_replaces(words):
    return words.compile_replaces({k: list(v) for k, v in _KEYBOARD_UKRAINIAN.items()})


@lru_cache(maxsize=1)
def _wildcard_replaces(words):
    return words.compile_replaces({_WILDCARD: list(_ALPHABET), "е": ["ё"]})


@lru_cache(maxsize=WORD_CACHE)
def hidden_word(pattern: str) -> str | None:
    """The word a pattern with hidden letters ("п*тин", "*" for each unknown letter) stands for.

    Only a word worth hiding is taken: one of the usual targets, or a word the dictionary marks
    as slang or obscene. "к*т" (кот, кит, кат...) stays unread: no one hides a cat.
    """
    stem_match = _hidden_stem(pattern)
    if stem_match is not None:
        if _WILDCARD not in stem_match:
            return stem_match
        pattern = stem_match
    hidden = pattern.count(_WILDCARD)
    if hidden > 3 or len(pattern) - hidden < max(2, hidden):
        return None
    analyzer = _analyzer("ru")
    words = analyzer.dictionary.words
    candidates = [c.replace("ё", "е") for c in words.similar_keys(pattern, _wildcard_replaces(words))]
    if stem_match is not None and candidates:
        return candidates[0]
    offensive = [
        c for c in candidates if any(_OFFENSIVE_TAGS & p.tag.grammemes for p in analyzer.parse(c)[:3])
    ]
    return offensive[0] if len(set(offensive)) == 1 else None


# Whole words a writer masks almost entirely ("С***а У*****е", "П***н"): too few letters are shown
# for a dictionary search, so only these are tried, and only when one of them alone fits.
_HEAVILY_MASKED_LEMMAS = (
    "слава", "украина", "герой", "путин", "хуйло", "россия", "рашка", "кремль", "оккупант", "зеленский",
    "москаль", "кацап", "фашист", "перемога", "смерть", "враг",
)


@lru_cache(maxsize=1)
def _heavily_masked_forms() -> dict[tuple[int, str, str], tuple[str, ...]]:
    """Forms of the lemmas above by (length, first letter, last letter)."""
    analyzer = _analyzer("ru")
    by_shape: dict[tuple[int, str, str], set[str]] = {}
    for lemma in _HEAVILY_MASKED_LEMMAS:
        parse = next((p for p in analyzer.parse(lemma) if p.normal_form == lemma), None)
        forms = {f.word.replace("ё", "е") for f in parse.lexeme} if parse else {lemma}
        for form in forms | {lemma}:
            by_shape.setdefault((len(form), form[0], form[-1]), set()).add(form)
    return {shape: tuple(sorted(forms)) for shape, forms in by_shape.items()}


@lru_cache(maxsize=WORD_CACHE)
def heavily_masked_word(pattern: str) -> str | None:
    """The one target form a pattern with most letters masked stands for ("у*****е" -> "украине").

    The first and last letters must be shown; every other shown letter must fit too."""
    if len(pattern) < 4 or _WILDCARD in (pattern[0], pattern[-1]):
        return None
    fitting = [
        form for form in _heavily_masked_forms().get((len(pattern), pattern[0], pattern[-1]), ())
        if all(p in (f, _WILDCARD) for p, f in zip(pattern, form))
    ]
    return fitting[0] if len(fitting) == 1 else None


def worth_hiding(word: str) -> bool:
    """A word (or form) of the usual targets, also where the dictionary lacks it ("хуйло")."""
    return any(
        len(stem) >= 4 and word.startswith(stem) and word[len(stem) :] in _ENDINGS
        for stem in _HIDDEN_WORD_STEMS
    )


def _hidden_stem(pattern: str) -> str | None:
    """The pattern with the letters of the longest fitting target stem filled in."""
    for stem in _HIDDEN_WORD_STEMS:
        fits = len(stem) <= len(pattern) and all(p in (s, _WILDCARD) for p, s in zip(pattern, stem))
        if fits and _WILDCARD in pattern[: len(stem)]:
            return stem + pattern[len(stem) :]
    return None

