"""Is the writer's "name" a first name, and the writer's "city" a place?

Both are printed on the letter the censor reads. A name box holding a surname, a full name with
patronymic or a nickname, or a city box holding a street, a sentence or a claim, says more than
the campaign means to print, so a moderator looks (the rules send these to review as a warning,
with a kind message). Slogans, insults, phone numbers and addresses in these fields are caught
by their own rules, which screen every field; these two detectors answer only "is this what the
box asks for", and each runs only on its own field (see `fields:` in rules.yaml).

Innocent values in every script the campaign sees must pass: Оксана, Олексій, Эдем, Jürgen,
Małgorzata, Анна-Марія, Д'Артаньян; Київ, Kiew, Warszawa, Бахчисарай, "с. Мирне", Нью-Йорк.
So an unknown word passes (the dictionaries do not know most foreign names and towns), and only
what the dictionaries know to be something else fails: a surname, a verb, "наш", "оккупированный".
"""

from __future__ import annotations

import re

import unicodedata2

from shared.screening import proper_names
from shared.screening.normalize import CanonicalText

Span = tuple[int, int]

_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*\.?")
_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f]+(?:['-][a-z\u00c0-\u024f]+)*")
_INITIAL = re.compile(r"[^\W\d_]\.?")

# ---------------------------------------------------------------- first name

# What a first name is written with: letters, a hyphen (Анна-Марія), an apostrophe (Д'Артаньян),
# a dot after an initial (Анна К.), spaces; a trailing comma or full stop is a typing habit.
_NAME_CHARACTERS = re.compile(r"[^\W\d_]+(?:[\s'.-]+[^\W\d_]*)*[\s.,!]*")
# Words a signature puts before a first name: "баба Валя", "тётя Оля", "pani Ewa".
_KIN_WORDS = proper_names.word_set(
    "баба бабушка бабуся бабуля бабця дедушка дед дід дідусь тётя тетя тітка дядя дядько мама папа "
    "тато сестра брат пани пані пан pani pan frau herr mrs mr ms"
)
_MAX_NAME_WORDS = 2
_TOGETHER = re.compile(r"\s+(?:и|і|й|та|and|und|et|i)\s+|\s*[&+,/]\s*(?=\S)")
_MAX_WRITERS = 3
# Latin words that are not given names, for the transliterated nicknames writers sign with.
_NOT_LATIN_NAMES = proper_names.word_set(
    "anonymous anonym anon admin user test friend patriot freedom free glory slava ukraini ukraina "
    "ukraine crimea krym putin putler zelensky heroyam geroyam smert vorogam death love peace "
    "the and or of is not my your our from"
)
# Latin surnames by their endings: "Oksana Petrenko", "Anna Kowalska".
_LATIN_SURNAME = re.compile(
    r"(?:enko|chuk|czuk|yuk|iuk|ova|eva|ov|ev|in|ina|sky|skyi|ska|ski|wicz|vich|ych|dze)$"
)
# Endings no first name has: surnames (-енко, -ський) and patronymics (-ович, -івна).
_SURNAME_FORM = re.compile(
    r"(?:енко|ченко|чук|щук|ський|цький|ская|цкая|ский|цкий|ович|евич|йович|івна|ївна|овна|евна|ична|"
    r"enko|chuk|czuk|ovich|ovych|ivna|ovna|wicz)$"
)


def detect_implausible_first_name(letter: CanonicalText) -> list[Span]:
    """The whole name field, when it is not a plausible first name (or two, or a kin word and one)."""
    span = _stripped_span(letter.text)
    if span is None:
        return []
    value = _AGE_NOTE.sub("", _without_pictures(letter.text[span[0] : span[1]])).strip()
    return [] if not value or _plausible_first_name(value) else [span]


# "Тимур (7 лет)", "Olena, 12": a child signs with their age, which names nobody.
_AGE_NOTE = re.compile(r"[\s,]*\(?\s*\d{1,2}\s*(?:лет|года|год|рок[иів]*|years?|yrs|jahre|lat)?\s*\)?\s*$")
# "Вера Павловна", "Пётр Ильич": how elderly writers sign; a first name and a patronymic are not a
# full name (with a surname they are, and stay a finding).
_PATRONYMIC = re.compile(r"(?:ович|евич|ьич|ич|овна|евна|ична|инична|івна|ївна)$")


def _plausible_first_name(value: str) -> bool:
    # "Саша и Лена", "Зарема та Ленур", "Anna & Jonas": a couple or a family signs together.
    writers = [w for w in _TOGETHER.split(value) if w.strip()]
    if not writers or len(writers) > _MAX_WRITERS:
        return False
    return all(_plausible_single_name(writer.strip()) for writer in writers)


def _plausible_single_name(value: str) -> bool:
    if not _NAME_CHARACTERS.fullmatch(value):
        return False  # digits, @, brackets, emoji: not a name as a person writes it
    words = [w.rstrip(".") for w in _WORD.findall(value)]
    if 0 < len(words) <= _MAX_NAME_WORDS and all(w in _KIN_WORDS for w in words):
        return True  # "Мама", "Бабушка": family signs as family, and names nobody
    while len(words) > 1 and words[0] in _KIN_WORDS:
        words = words[1:]
    initials = [w for w in words if _INITIAL.fullmatch(w)]
    names = [w for w in words if not _INITIAL.fullmatch(w)]
    if not names or len(names) > _MAX_NAME_WORDS or len(initials) > 1:
        return False  # "Аксёнов Сергей Валерьевич": a full name, not a first name
    if not _given_name(names[0]):
        return False
    return len(names) == 1 or _second_given_name(names[1]) or bool(_PATRONYMIC.search(names[1].lower()))


_LATIN_TO_CYRILLIC = (
    ("shch", "щ"), ("sch", "ш"), ("ch", "ч"), ("sh", "ш"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"),
    ("ya", "я"), ("yu", "ю"), ("yo", "ё"), ("ye", "е"), ("ja", "я"), ("ju", "ю"), ("ph", "ф"),
    ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"),
    ("i", "и"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
    ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"),
    ("y", "и"), ("z", "з"),
)  # fmt: skip
_LATIN_LETTERS = re.compile("|".join(latin for latin, _ in _LATIN_TO_CYRILLIC))


def _cyrillic_spelling(word: str) -> str:
    """ "kristina" -> "кристина": near enough for the dictionary to recognise a common name."""
    table = dict(_LATIN_TO_CYRILLIC)
    return _LATIN_LETTERS.sub(lambda m: table[m.group()], word)


def _given_name(word: str) -> bool:
    """One first name: every part of "Анна-Марія", the name in "Д'Артаньян"."""
    parts = [p for p in re.split(r"-", word) if p]
    return bool(parts) and all(_given_name_part(p) for p in parts)


def _given_name_part(word: str) -> bool:
    if "'" in word:
        head, _, tail = word.partition("'")
        if len(head) <= 2 and tail:  # Д'Артаньян, O'Brien
            word = tail
    if _LATIN_WORD.fullmatch(word):
        if word in _NOT_LATIN_NAMES or _SURNAME_FORM.search(word):
            return False
        # "Ivanov" is a surname in any script: only a surname the dictionary knows is turned away,
        # since most foreign names spelt in Cyrillic ("Карин", "Йонас") are unknown to it.
        cyrillic = _cyrillic_spelling(word)
        if proper_names.is_given_name(cyrillic, nominative=True):
            return True
        return not (proper_names.is_known_word(cyrillic) and proper_names.is_surname(cyrillic))
    if proper_names.is_given_name(word, nominative=True):
        return True
    # A word the dictionaries know as something else ("патриот", "Петренко") is not a first name;
    # one they do not know at all is most likely a name they lack (Нияра, Севиль, Д'Артаньян),
    # unless it ends the way only surnames and patronymics do.
    return not proper_names.is_known_word(word) and not _SURNAME_FORM.search(word)


def _second_given_name(word: str) -> bool:
    """ "Анна Мария" is two first names; "Оксана Петренко" is a first name and a surname."""
    if _LATIN_WORD.fullmatch(word):
        if word in _NOT_LATIN_NAMES:
            return False
        # "Anna Kristina" is two names even though "-ina" ends many surnames: ask the dictionary
        # about the Cyrillic spelling before judging by the ending.
        return proper_names.is_given_name(_cyrillic_spelling(word), nominative=True) or not (
            _LATIN_SURNAME.search(word)
        )
    if "-" not in word and proper_names.is_given_name(word, nominative=True):
        return "Surn" not in proper_names.known_grammemes(word) or word in proper_names.GIVEN_NAMES
    return _given_name(word) and not proper_names.is_surname(word)


# ---------------------------------------------------------------- city

# A place as people write it: words, hyphens (Нью-Йорк), apostrophes (Кам'янець), dots (с. Мирне),
# commas between town, region and country, brackets ("Харків (Україна)"), a slash (Kyiv/Київ).
_CITY_CHARACTERS = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.\-\s,()/])*")
_CITY_PART_SEPARATOR = re.compile(r"[,()/]")
_MAX_CITY_WORDS = 4  # "Frankfurt am Main", "с. Мирне Бахчисарайського району"
_MAX_CITY_PARTS = 3  # "с. Мирне, Бахчисарайський район, Крим"
# Little words inside place names: "Ростов-на-Дону", "Rio de Janeiro", "Frankfurt am Main".
_PLACE_PARTICLES = proper_names.word_set("на над під под де ді да ла ле дель ам ан ин им сюр")
_NOT_LATIN_PLACES = proper_names.word_set(
    "is are was not no my our your free glory slava occupied occupation prison home secret "
    "everywhere nowhere somewhere here there the and or"
)
# What a place is never made of: verbs, pronouns, adverbs, particles, participles ("оккупированный").
_NOT_IN_PLACE_NAMES = frozenset(
    {"VERB", "INFN", "GRND", "PRTF", "PRTS", "NPRO", "ADVB", "PRCL", "CONJ", "INTJ", "PRED", "COMP", "NUMR"}
)


def detect_implausible_city(letter: CanonicalText) -> list[Span]:
    """The whole city field, when it is not a plausible town, village, region or country."""
    span = _stripped_span(letter.text)
    if span is None:
        return []
    value = _without_pictures(letter.text[span[0] : span[1]])
    return [] if not value or _plausible_city(value) else [span]


def _plausible_city(value: str) -> bool:
    value = value.rstrip(".,!;")
    if not _CITY_CHARACTERS.fullmatch(value):
        return False  # digits, @, a colon or a dash between clauses: more than a place
    parts = [p for p in _CITY_PART_SEPARATOR.split(value) if p.strip()]
    if not parts or len(parts) > _MAX_CITY_PARTS:
        return False
    return all(_plausible_place(part) for part in parts)


def _plausible_place(part: str) -> bool:
    words = [w for w in _WORD.findall(part) if not proper_names.is_place_word(w)]
    if len(words) > _MAX_CITY_WORDS:
        return False
    if not words:
        return bool(_WORD.findall(part))  # "село" alone is odd, but "с." + nothing is a typo
    return all(
        _place_word(word) or (index > 0 and _names_with_adjective(words[index - 1], word))
        for index, word in enumerate(words)
    )


def _names_with_adjective(adjective: str, noun: str) -> bool:
    """ "Белая Церковь", "Гола Пристань", "Красный Луч": a plain noun after an adjective is a name."""
    tags = proper_names.known_grammemes(adjective)
    return (
        "ADJF" in tags
        and not tags & {"PRTF", "NPRO", "Apro"}
        and "NOUN" in proper_names.known_grammemes(noun)
    )


def _place_word(word: str) -> bool:
    word = word.rstrip(".")
    if _LATIN_WORD.fullmatch(word):
        return word not in _NOT_LATIN_PLACES
    if proper_names.is_place(word) or proper_names.is_place_word(word):
        return True
    tags = proper_names.known_grammemes(word)
    if not tags:
        if "-" in word:
            return all(_place_word(p) or p in _PLACE_PARTICLES for p in word.split("-"))
        return True  # a town the dictionaries do not know (Нёрребро, Красноперекопськ)
    if tags & _NOT_IN_PLACE_NAMES and not tags & {"NOUN", "ADJF"}:
        return False
    if "ADJF" in tags and not tags & {"PRTF", "NPRO", "Apro"}:
        # "Біла Церква", "Старий Крим", and villages named by an adjective alone ("Раздольное",
        # "Советский"); not "оккупированный Х", "наш", "моя".
        return True
    if "-" in word:
        return all(_place_word(p) or p in _PLACE_PARTICLES for p in word.split("-"))
    # A noun only the Ukrainian dictionary knows is most likely a town it lists without a place
    # tag (Ізюм, Коломия, Васильків); a noun Russian knows and does not call a place is a word.
    return "NOUN" in tags and not proper_names.is_known_in("ru", word)


def _without_pictures(value: str) -> str:
    """ "Оксана 🌻": emoji and pictographs are for the symbol rules to judge, not a part of the name."""
    return "".join(c for c in value if unicodedata2.category(c) != "So").strip()


def _stripped_span(text: str) -> Span | None:
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return (start, end) if end > start else None
