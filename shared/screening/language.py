"""Detectors for letters not written in Russian.

The prison censor returns (or simply never delivers) letters it cannot read as Russian.
Ukrainian is caught by its own letters (і ї є ґ, the apostrophe in "пам'ять") and by
common words that do not exist in Russian ("дуже", "ми", "з"...). Latin script is caught
as runs of words, so one name in Latin letters ("Селям, Muslim!") stays fine, while English
sentences and transliterated Russian ("privet, kak dela") are flagged.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from shared.screening.normalize import CanonicalText
from shared.screening.personal_data import contact_spans
from shared.screening.terms import words_of

Span = tuple[int, int]

# Ukrainian letters, and the apostrophe where Russian writes "ъ"/"ь": "об'єднання", "здоров'я".
_UKRAINIAN_MARK = re.compile(r"[іїєґ]|[бпвмфрзкдтнж]'[яюєї]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
# Where a word not starting with a Cyrillic letter begins; mixed words were unmasked already.
_FOREIGN_WORD_START = re.compile(r"(?<![^\W_])[^\W\d_\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")

# Frequent Ukrainian words without і/ї/є/ґ that are not Russian words. Kept out on purpose:
# words that are also Russian ("про", "та", "нас", "будь", "ласка", "разом", "тебе", "друже").
_UKRAINIAN_WORDS = frozenset(
    """
    ми ти з й усе що це щоб дуже вже ще зараз тепер також завжди вчора коли якщо або бо чи але
    як який яка яке його вона вони воно мене тобто знову незабаром треба можна
    тримайтеся тримайтесь тримайся тримаємось тримаємося тримаймося чекаю чекаємо чекаєм
    дякую дякуємо бажаю бажаємо цілую цілуємо обіймаю обіймаємо щиро кохаю сумую сумуємо
    добрий дорогий любий гарний гарно серце життя сонце сили тиждень новини
    буде будемо писати чекати бути повернення додому вибачте мамо тату
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Transliterated Russian: words that give a Latin-letter letter away as Russian, not English.
_TRANSLIT_WORDS = frozenset(
    """
    privet privetik poka spasibo zdravstvuy zdravstvuyte zdravstvuite zdravstvui dobryy dobryi
    dobriy dobrogo kak dela ochen khorosho horosho obnimayu obnimaem obnimaju tseluyu celuyu
    derzhis derzhites derzhytes zhdem zhdyom zhdom lyublyu skuchayu vsyo vsio budet eto chto shto
    nado mozhno sily zdorovya zdorovia druzya drug dorogoy dorogoi seychas sejchas segodnya vchera
    zavtra tozhe kogda gde pochemu potomu dumaem dumayu pomnim nadeyus pozdravlyayu udachi tebya
    menya nashi vashi vsem pishu pishi napishi obnimi zhelayu zhelaem svobody vy ty ya
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_NAME_LIKE_MAX_WORDS = 3  # "Muslim", "Harry Potter": a name, not a sentence
_UKRAINIAN_GROUP_GAP = 3  # Russian words allowed between Ukrainian ones in one finding


def detect_ukrainian(letter: CanonicalText) -> list[Span]:
    """Stretches of Ukrainian words, merged when only a few other words stand between."""
    tokens = _tokens(letter)
    marked = sorted(_ukrainian_word_indexes(letter, tokens))
    spans: list[Span] = []
    group_start = previous = None
    for index in marked:
        if previous is None or index - previous - 1 > _UKRAINIAN_GROUP_GAP:
            if previous is not None:
                spans.append((tokens[group_start][0], tokens[previous][1]))
            group_start = index
        previous = index
    if previous is not None:
        spans.append((tokens[group_start][0], tokens[previous][1]))
    return spans


def _ukrainian_word_indexes(letter: CanonicalText, tokens) -> set[int]:
    marked = {index for index, (_, _, word) in enumerate(tokens) if word in _UKRAINIAN_WORDS}
    starts = [start for start, _, _ in tokens]
    for found in _UKRAINIAN_MARK.finditer(letter.text):
        for position in (found.start(), found.end() - 1):
            index = bisect_right(starts, position) - 1
            if index >= 0 and position < tokens[index][1]:
                marked.add(index)
    return marked


def detect_foreign_language(letter: CanonicalText) -> list[Span]:
    """Sentences in Latin or other non-Cyrillic script that are not transliterated Russian."""
    return [span for span, transliterated in _foreign_runs(letter) if not transliterated]


def detect_transliteration(letter: CanonicalText) -> list[Span]:
    """Russian written in Latin letters ("privet, kak dela")."""
    return [span for span, transliterated in _foreign_runs(letter) if transliterated]


@lru_cache(maxsize=2)
def _foreign_runs(letter: CanonicalText) -> list[tuple[Span, bool]]:
    """(span, transliterated) for each run of foreign words a moderator would flag.

    A lone word or a short capitalised title among Russian words is a name ("Muslim",
    "Home Alone"); anything longer, any transliterated Russian, or a letter with no Cyrillic
    at all is flagged.
    """
    any_cyrillic = bool(_CYRILLIC_LETTER.search(letter.text))
    runs: list[tuple[Span, bool]] = []
    for run in _runs_of_foreign_words(letter):
        transliterated = any(word in _TRANSLIT_WORDS for _, _, word in run)
        if transliterated or not any_cyrillic or not _is_name_like(run, letter):
            runs.append(((run[0][0], run[-1][1]), transliterated))
    return runs


def _runs_of_foreign_words(letter: CanonicalText):
    """Foreign words grouped into runs that no Cyrillic letter interrupts."""
    text = letter.text
    foreign_starts = {found.start() for found in _FOREIGN_WORD_START.finditer(text)}
    run: list[tuple[int, int, str]] = []
    for token in _tokens(letter):
        start, _, word = token
        if start not in foreign_starts or _CYRILLIC_LETTER.search(word):
            continue
        if not _LETTER.search(word) or (len(word) == 1 and word.isascii()):
            continue  # numbers and initials ("P.S.") are not language
        if run and _CYRILLIC_LETTER.search(text, run[-1][1], start):
            yield run
            run = []
        run.append(token)
    if run:
        yield run


def _is_name_like(run, letter: CanonicalText) -> bool:
    if len(run) > _NAME_LIKE_MAX_WORDS:
        return False
    return len(run) == 1 or all(letter.is_capitalised(start) for start, _, _ in run)


@lru_cache(maxsize=2)
def _tokens(letter: CanonicalText) -> list[tuple[int, int, str]]:
    """Words of the letter, leaving out e-mails, links and handles (they are not language)."""
    words = words_of(letter)
    contacts = sorted(contact_spans(letter))
    if not contacts:
        return words
    kept: list[tuple[int, int, str]] = []
    next_contact = 0
    for word in words:
        while next_contact < len(contacts) and contacts[next_contact][1] <= word[0]:
            next_contact += 1
        inside = next_contact < len(contacts) and contacts[next_contact][0] <= word[0]
        if not inside:
            kept.append(word)
    return kept
