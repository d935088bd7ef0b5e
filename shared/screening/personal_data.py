"""Detectors for the writer's own contact details: phone, e-mail, address, messengers, links, cards.

The censor reads every letter and passes on what it learns; a writer's phone or address in a
letter to a political prisoner exposes the writer and can be used against the prisoner.
Each detector takes the canonical letter and returns canonical (start, end) spans.

Writers who know that numbers are screened (or who just write as they speak) dictate them in
words ("ноль шестьдесят семь..."), type the letter O for zero, break them over lines, leave out
the word "street" ("живу на Сумской 10, кв 5"), or spell an e-mail out ("olena собака gmail
ком"). The censor reads all of these as well as a printed number, so the detectors do too.
Cheap look-outs come first: most letters have none of these, and the costly patterns are skipped.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from itertools import pairwise

from shared.screening import proper_names
from shared.screening.normalize import CanonicalText

Span = tuple[int, int]

# ---------------------------------------------------------------- numbers: phones, cards, accounts

# A number as the censor reads it: the letter O (Latin or Cyrillic) typed for zero inside a group
# of digits ("O67 4O1 22 9O") is a zero. Same length as the text, so spans carry over unchanged.
_DIGITS_WITH_OS = re.compile(r"(?<![^\W_])[\doо]*\d[\doо]*(?![^\W_])")
_LETTER_O = re.compile(r"[oо]")

# Digit groups and the separators people put between them: spaces, dashes, dots, slashes,
# underscores, brackets, bullets, and one line break ("+380 66\n412\n30 18").
_SEPARATOR = r"(?:[ \t\-–—‒−.()/_•·*]{1,3}\n?[ \t]*|\n[ \t]*)"  # plain r-string: {1,3} is a count
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\s?\(?\d(?:" + _SEPARATOR + r"?\(?\d\)?)+(?![\w])")
_DATE_OR_RANGE = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"  # 12.03.2024
    r"|\d{4}[./-]\d{1,2}[./-]\d{1,2}"  # 2024-03-12
    r"|\d{4}\s*[-–]\s*\d{4}"  # 1941-1945
    r"|\d{1,3}(?: \d{3})+"  # 1 250 000
    r"|\d{1,2}[.:]\d{2}\s*[-–]\s*\d{1,2}[.:]\d{2}"  # 9.00-18.00
)
_LOCAL_PHONE = re.compile(r"\d{3}[- ]\d{2}[- ]\d{2}")
_PHONE_CUE = re.compile(
    r"(?:тел|телефон\w*|номер\w*|звон\w*|позвон\w*|моб\w*|phone|call|вайбер\w*|viber)\W{0,12}$"
)
# A phone named earlier in the sentence: "звонить мне на тот же номер... теперь 050, потом 3 22 41 78".
_PHONE_CONTEXT = re.compile(
    r"(?<![\w])(?:тел|телеф\w*|номер\w*|звон\w*|позвон\w*|дзвон\w*|подзвон\w*|зателефон\w*|моб\w*|"
    r"мобил\w*|мобіл\w*|набер\w*|набир\w*|набра\w*|код|phone|call|вайбер\w*|viber|ватсап\w*|"
    r"вотсап\w*|whatsapp|телеграм\w*|telegram)(?![\w])"
)
_PHONE_CONTEXT_REACH = 100
_CARD_CONTEXT = re.compile(
    r"(?<![\w])(?:карт\w*|картк\w*|card|visa|виза|mastercard|мастеркард|мир|приват\w*|privat\w*|"
    r"моно\w*|mono\w*|сбер\w*|счет\w*|сч[её]т|рахун\w*|реквизит\w*|реквізит\w*|перевод\w*|"
    r"переказ\w*|перевед\w*|переве\w*|скин\w*|кида\w*|кинь\w*|iban|ібан|ибан|банк\w*)(?![\w])"
)
_CARD_CONTEXT_REACH = 120
_FOUR_DIGIT_GROUPS = re.compile(r"\d{4}(?:[ \-.]\d{4}){3}(?:[ \-.]\d{1,3})?")
_YEARS = re.compile(r"(?:(?:19|20)\d\d[ \-.]?){4}")  # "1941 1945 2014 2022" is a family's years
_IBAN_PREFIX = re.compile(r"(?<![\w])([a-zа-яі]{2}) ?$")
# An IBAN written in one piece ("UA213223130000026007233566001"): two letters glued to the digits.
_IBAN_GLUED = re.compile(r"(?<![\w])(?P<country>[a-zа-яі]{2})(?P<digits>\d{2}(?:[ ]?\d){12,30})(?![\w])")
_TO_LATIN = str.maketrans({"а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o",
                           "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "и": "u"})  # fmt: skip

# Number words, Russian, Ukrainian and English, and what each is worth.
_UNITS = {
    "ноль": 0, "нуль": 0, "zero": 0, "один": 1, "одна": 1, "одно": 1, "одну": 1, "one": 1,
    "два": 2, "две": 2, "дві": 2, "two": 2, "три": 3, "three": 3, "четыре": 4, "чотири": 4,
    "four": 4, "пять": 5, "п'ять": 5, "пьять": 5, "five": 5, "шесть": 6, "шість": 6, "six": 6,
    "семь": 7, "сім": 7, "seven": 7, "восемь": 8, "вісім": 8, "eight": 8, "девять": 9,
    "дев'ять": 9, "девьять": 9, "nine": 9,
}  # fmt: skip
_TEENS = {
    "десять": 10, "одиннадцать": 11, "одинадцять": 11, "двенадцать": 12, "дванадцять": 12,
    "тринадцать": 13, "тринадцять": 13, "четырнадцать": 14, "чотирнадцять": 14,
    "пятнадцать": 15, "п'ятнадцять": 15, "шестнадцать": 16, "шістнадцять": 16,
    "семнадцать": 17, "сімнадцять": 17, "восемнадцать": 18, "вісімнадцять": 18,
    "девятнадцать": 19, "дев'ятнадцять": 19,
}  # fmt: skip
_TENS = {
    "двадцать": 20, "двадцять": 20, "тридцать": 30, "тридцять": 30, "сорок": 40,
    "пятьдесят": 50, "п'ятдесят": 50, "шестьдесят": 60, "шістдесят": 60, "семьдесят": 70,
    "сімдесят": 70, "восемьдесят": 80, "вісімдесят": 80, "девяносто": 90, "дев'яносто": 90,
}  # fmt: skip
_HUNDREDS = {
    "сто": 100, "двести": 200, "двісті": 200, "триста": 300, "четыреста": 400, "чотириста": 400,
    "пятьсот": 500, "п'ятсот": 500, "шестьсот": 600, "шістсот": 600, "семьсот": 700,
    "сімсот": 700, "восемьсот": 800, "вісімсот": 800, "девятьсот": 900, "дев'ятсот": 900,
}  # fmt: skip
_NUMBER_WORDS = {**_UNITS, **_TEENS, **_TENS, **_HUNDREDS}
_NUMBER_TOKEN = re.compile(
    r"(?<![^\W_])(?:"
    + "|".join(sorted((w.replace("'", "['`]?") for w in _NUMBER_WORDS), key=len, reverse=True))
    + r"|плюс|plus|\+?\d+)(?![^\W_]|['`][^\W\d_])"
)
# Between the numbers of one dictated number: spaces, commas, dashes, a line break.
_NUMBER_GAP = re.compile(r"[\s,.\-–—:;()/]{0,4}")
_MAY_HAVE_NUMBER_WORDS = re.compile(
    r"(?<![^\W_])(?:ноль|нуль|zero|один|одна|два|две|дві|три|чотири|четыре|п['`]?ять|пять|шесть|"
    r"шість|семь|сім|восемь|вісім|дев['`]?ять|девять|сорок|сто|двести|двісті|триста)(?![^\W_])"
)
_MIN_DICTATED_PHONE_WORDS = 3  # "восемь 050..." is not dictation; three number words are


_DIGIT = re.compile(r"\d")
_DIGIT_NEXT_TO_O = re.compile(r"\d[oо]|[oо]\d")


def _digit_view(text: str) -> str:
    if not _DIGIT_NEXT_TO_O.search(text):
        return text
    return _DIGITS_WITH_OS.sub(lambda m: _LETTER_O.sub("0", m.group()), text)


@lru_cache(maxsize=4)
def _digits_text(letter: CanonicalText) -> str:
    return _digit_view(letter.text)


@lru_cache(maxsize=4)
def _number_candidates(letter: CanonicalText) -> tuple[re.Match[str], ...]:
    """Groups of digits with separators: phones and cards alike (cards are the 16-19 digit ones)."""
    text = _digits_text(letter)
    return tuple(_PHONE_CANDIDATE.finditer(text)) if _DIGIT.search(text) else ()


def detect_phone(letter: CanonicalText) -> list[Span]:
    """Phone numbers: international or local, any separators, letter O for zero, or in words."""
    text = _digits_text(letter)
    found: list[Span] = []
    for candidate in _number_candidates(letter):
        number = candidate.group().strip()
        digits = sum(c.isdigit() for c in number)
        before = text[max(0, candidate.start() - 30) : candidate.start()]
        cue = bool(_PHONE_CUE.search(before))
        context = cue or bool(
            _PHONE_CONTEXT.search(text, max(0, candidate.start() - _PHONE_CONTEXT_REACH), candidate.start())
        )
        if _looks_like_phone(number, digits, cue, context):
            start = candidate.start() + (len(candidate.group()) - len(candidate.group().lstrip()))
            found.append((start, candidate.end()))
    found += _dictated_phones(letter)
    return found


def _looks_like_phone(number: str, digits: int, cue: bool, context: bool = False) -> bool:
    if digits > 15 or (digits < 7 and not (cue and digits >= 5)):
        return False
    if "\n" in number and not (cue or context or number.startswith(("+", "0", "8"))):
        return False  # numbers on separate lines are a list unless a phone is being given
    if _DATE_OR_RANGE.fullmatch(number.replace("\n", " ")) and not (cue or number.startswith("+")):
        return False
    if number.startswith(("+", "00", "(")) or cue or context:
        return True
    if _LOCAL_PHONE.search(number) or number.startswith(("0", "8", "7", "380")):
        return True
    return digits >= 10


@lru_cache(maxsize=4)
def _dictated_numbers(letter: CanonicalText) -> tuple[tuple[Span, str], ...]:
    """Numbers said in words, alone or mixed with digits: "ноль девяносто три, 217, сорок четыре".

    Each run of number words and digit groups becomes the digits it dictates; words compose the
    way they are spoken ("четыреста двенадцать" is 412), a comma or dash ends a number.
    """
    text = _digits_text(letter)
    if not _MAY_HAVE_NUMBER_WORDS.search(text):
        return ()
    runs: list[list[re.Match[str]]] = []
    for token in _NUMBER_TOKEN.finditer(text):
        if runs and _NUMBER_GAP.fullmatch(text, runs[-1][-1].end(), token.start()):
            runs[-1].append(token)
        else:
            runs.append([token])
    found: list[tuple[Span, str]] = []
    for run in runs:
        while run and run[-1].group() in ("плюс", "plus"):
            run.pop()
        words = sum(not token.group().lstrip("+").isdigit() for token in run)
        if words < _MIN_DICTATED_PHONE_WORDS:
            continue
        digits = _spoken_digits(run, text)
        if digits and not _is_counting(run):
            found.append(((run[0].start(), run[-1].end()), digits))
    return tuple(found)


def _dictated_phones(letter: CanonicalText) -> list[Span]:
    """Dictated numbers that are phones: they start the way phones do (0.., 8.., +38.., 7..), or a
    phone is being talked about; "пять, двенадцать, двадцать три, тридцать четыре" is a lottery."""
    text = _digits_text(letter)
    found: list[Span] = []
    for span, digits in _dictated_numbers(letter):
        if not 7 <= len(digits) <= 15:
            continue
        talk = _PHONE_CONTEXT.search(text, max(0, span[0] - _PHONE_CONTEXT_REACH), span[0])
        if (
            talk
            or digits.startswith(("0", "8", "38", "7"))
            or text[span[0] :].startswith(("+", "плюс", "plus"))
        ):
            found.append(span)
    return found


def _spoken_digits(run: list[re.Match[str]], text: str) -> str:
    digits: list[str] = []
    value: int | None = None  # the number being said, while more words may still add to it
    may_follow: frozenset[str] = frozenset()  # which kinds of number word may still add to it
    previous_end: int | None = None
    for token in run:
        word = token.group().replace("`", "'")
        pause = previous_end is not None and text[previous_end : token.start()].strip() != ""
        previous_end = token.end()
        if word not in _NUMBER_WORDS:  # digits, or "плюс"
            if value is not None:
                digits.append(str(value))
                value = None
            digits.append("+" if word in ("плюс", "plus") else word)
            continue
        worth = _NUMBER_WORDS[word]
        kind = _kind_of_number_word(worth)
        if value is not None and not pause and worth and kind in may_follow:
            value += worth
        else:
            if value is not None:
                digits.append(str(value))
            value = worth
        may_follow = _MAY_FOLLOW[kind] if worth else frozenset()
    if value is not None:
        digits.append(str(value))
    return "".join(digits).lstrip("+")


def _kind_of_number_word(worth: int) -> str:
    return "hundreds" if worth >= 100 else "tens" if worth >= 20 else "teens" if worth >= 10 else "units"


# "сто двадцать три" is 123, "шестьдесят семь" 67; "семь шесть" are two numbers.
_MAY_FOLLOW = {
    "hundreds": frozenset({"tens", "teens", "units"}),
    "tens": frozenset({"units"}),
    "teens": frozenset(),
    "units": frozenset(),
}


def _is_counting(run: list[re.Match[str]]) -> bool:
    """ "Раз, два, три, четыре, пять" counts, it does not dictate a number."""
    values = [_NUMBER_WORDS.get(t.group().replace("`", "'")) for t in run]
    return None not in values and all(b == a + 1 for a, b in pairwise(values))


def detect_payment_card(letter: CanonicalText) -> list[Span]:
    """Bank cards (16 to 19 digits in any grouping, in digits or words) and IBAN account numbers."""
    return [span for span, _ in _bank_numbers(letter)]


@lru_cache(maxsize=4)
def _bank_numbers(letter: CanonicalText) -> tuple[tuple[Span, str], ...]:
    text = _digits_text(letter)
    found: list[tuple[Span, str]] = []
    for candidate in _number_candidates(letter):
        number = candidate.group()
        digits = "".join(c for c in number if c.isdigit())
        start = candidate.start() + (len(number) - len(number.lstrip()))
        if 16 <= len(digits) <= 19:
            grouped = _FOUR_DIGIT_GROUPS.fullmatch(number.strip()) and not _YEARS.fullmatch(number.strip())
            if grouped or _luhn(digits) or _card_context(text, start):
                found.append(((start, candidate.end()), digits))
        elif 20 <= len(digits) <= 34:
            prefix = _IBAN_PREFIX.search(text, max(0, start - 3), start)
            if prefix and (_iban_valid(prefix.group(1), digits) or _card_context(text, start)):
                found.append(((prefix.start(), candidate.end()), digits))
            elif _card_context(text, start):
                found.append(((start, candidate.end()), digits))
    for match in _IBAN_GLUED.finditer(text):
        digits = match.group("digits").replace(" ", "")
        if _iban_valid(match.group("country"), digits) or _card_context(text, match.start()):
            found.append((match.span(), digits))
    for span, digits in _dictated_numbers(letter):
        if 16 <= len(digits) <= 19 and (_luhn(digits) or _card_context(text, span[0])):
            found.append((span, digits))
    return tuple(found)


def _card_context(text: str, start: int) -> bool:
    return bool(_CARD_CONTEXT.search(text, max(0, start - _CARD_CONTEXT_REACH), start))


def _luhn(digits: str) -> bool:
    """The check digit every bank card carries: evidence that 16 digits are a card, not a count."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _iban_valid(country: str, digits: str) -> bool:
    """ISO 13616 check (mod 97) of an IBAN whose account part is all digits; UA ones always are."""
    country = country.translate(_TO_LATIN).upper()
    if not (country.isascii() and country.isalpha()):
        return False
    rearranged = digits[2:] + "".join(str(ord(c) - 55) for c in country) + digits[:2]
    return int(rearranged) % 97 == 1


# ---------------------------------------------------------------- e-mail

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# "k a t e r y n a @ i . u a": spaces around "@" and inside the domain (Latin letters only, so
# the Russian words after it are not swallowed).
_SPACED_LOCAL = r"(?<![\w.%+-])(?:(?:[\w.+-] ){2,}[\w.+-]|[\w.%+-]+)"
_EMAIL_SPACED = re.compile(
    rf"{_SPACED_LOCAL}(?:\s+@\s*|@\s+)[a-z0-9-]+(?:\s*\.?\s*[a-z0-9-]+)*"
)
_EMAIL_SPELLED_OUT = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s*[\[(<]\s*(?:at|собака|собачка)\s*[\])>]\s*[\w-]+"
    r"(?:\s*(?:[\[(<]\s*(?:dot|точка)\s*[\])>]|\.)\s*[\w-]+)+"
)
# Spelt-out e-mails: "olena точка koval собака gmail ком", "ivan(at)ukr(dot)net",
# "petrenko на гмейле", "петренко эт укрнет", "galyna.bilyk / собака / yahoo.com".
_MAIL_PROVIDER = (
    r"(?:g-?mail|гмейл\w*|гмэйл\w*|гмаил\w*|джимейл\w*|джимэйл\w*|жмейл\w*|джи-?мейл\w*|"
    r"ukr\.?net|укр\.?\s?нет\w*|укрнет\w*|i\.ua|ай\.?\s?юа|meta\.ua|мета\.?\s?юа|"
    r"mail\.ru|(?:мейл|мэйл|майл)\.?\s?ру|yandex\w*|яндекс\w*|ya\.ru|outlook\w*|аутлук\w*|"
    r"hotmail\w*|хотмейл\w*|yahoo\w*|яху|proton\w*|протон\w*|icloud\w*|айклауд\w*|rambler\w*|"
    r"рамблер\w*|bigmir\w*|бигмир\w*|бігмір\w*|wp\.pl|onet\w*|gmx\w*|web\.de|aol)"
)
_MAIL_TLD = (
    r"(?:com|net|org|ua|ru|pl|de|eu|me|io|info|cz|sk|at|ch|fr|it|es|uk|co|lt|lv|ee|nl|be|"
    r"ком|нет|орг|юа|уа|ру|рф|пл|де|ми|цз|чз|ск|фр|ит|ес|ес|ук|нл)"
)
_AT_WORD = r"(?:@|собак[аиеуоy]\w*|собачк\w*|равлик\w*|at|эт|ет|ат)"
_BRACKETED_AT = r"(?:[\[(<{]\s*(?:at|собака|собачка|эт)\s*[\])>}])"
# A dot is "." between two words, or said as a word (with spaces around it, or in brackets).
_SPOKEN_DOT = r"(?:[\[(<{]\s*(?:dot|точка|крапка)\s*[\])>}]|(?<![\w])(?:dot|точка|крапка|дот)(?![\w]))"
_DOT = rf"(?:\.|\s*{_SPOKEN_DOT}\s*)"
_LOCAL_PART = rf"[\w+-]+(?:{_DOT}[\w+-]+)*"
_MAIL_GAP = r"[\s/|,:–—-]{0,5}"
_EMAIL_IN_WORDS = re.compile(
    rf"(?<![\w.+-])(?P<local>{_LOCAL_PART}){_MAIL_GAP}(?:{_BRACKETED_AT}|(?<![\w]){_AT_WORD}(?![\w]))"
    rf"{_MAIL_GAP}(?P<domain>{_MAIL_PROVIDER}(?:(?:{_DOT}|\s+){_MAIL_TLD}(?![\w]))?"
    rf"|[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_MAIL_TLD}(?![\w]))"
)
# "мой ящик — petrenko на гмейле": a login, "on" and a mail provider, with mail talk nearby.
_LOGIN_AT_PROVIDER = re.compile(
    rf"(?<![\w.+-])(?P<local>[a-z0-9][\w.+-]*[a-z0-9]|[^\W\d_][\w-]+){_MAIL_GAP}(?:на|в|у|on)\s+"
    rf"(?P<domain>{_MAIL_PROVIDER})"
)
_PROVIDER_THEN_LOGIN = re.compile(
    rf"(?:на|в|у|on)\s+{_MAIL_PROVIDER}[^.!?\n]{{0,20}}?(?:логин|логін|login|ник|нік|им[яени]+)"
    r"\W{0,3}(?P<local>[a-z0-9][\w.+-]{2,}[a-z0-9])"
)
_MAIL_TALK = re.compile(
    r"(?<![\w])(?:почт\w*|пошт\w*|ящик\w*|скриньк\w*|имейл\w*|імейл\w*|емейл\w*|емайл\w*|e-?mail|"
    r"мейл\w*|мыл[оа]|электронк\w*|електронк\w*|пиш\w*|напиш\w*|логин|логін|login)(?![\w])"
)
# Look-out, as plain substrings (much cheaper than the provider pattern itself): an at-word, or
# a piece of a mail provider's name.
_SPELLED_OUT_EMAIL_HINTS = (
    "собак", "собачк", "равлик", "at)", "at]", "at>", "at}", " at ", " эт ", " ет ", " ат ",
    "mail", "мейл", "мэйл", "майл", "маил", "ukr.net", "ukrnet", "укрнет", "укр.нет", "укр нет",
    "i.ua", "юа", "yandex", "яндекс", "ya.ru", "outlook", "аутлук", "yahoo", "яху", "proton",
    "протон", "icloud", "айклауд", "rambler", "рамблер", "bigmir", "бигмир", "бігмір", "wp.pl",
    "onet", "gmx", "web.de", "aol",
)  # fmt: skip


# Where a spelt-out e-mail can be: next to an at-word or a provider's name.
_EMAIL_ANCHOR = re.compile(
    rf"(?P<at>{_BRACKETED_AT}|(?<![\w]){_AT_WORD}(?![\w]))|(?P<provider>(?<![\w]){_MAIL_PROVIDER})"
)
_EMAIL_REACH = 80
_WORD_TAIL = re.compile(r"[\w.]*")


def detect_email(letter: CanonicalText) -> list[Span]:
    """E-mail addresses, also spelt out ("name (at) mail (dot) com", "olena собака gmail ком")."""
    return list(_emails(letter))


# Cached per letter (by identity): the link and language detectors need these spans too.
@lru_cache(maxsize=4)
def _emails(letter: CanonicalText) -> tuple[Span, ...]:
    text = letter.text
    found = [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []
    if "@" in letter.original:
        # Read on the writer's own text too: an "@" among spaced letters may have been taken
        # for a filler by canonicalisation ("k a t e r y n a @ i . u a").
        original = letter.original.lower()
        found += _canonical_spans(letter, [m.span() for m in _EMAIL_SPACED.finditer(original)])
        found += _canonical_spans(letter, [m.span() for m in _EMAIL.finditer(original)])
    if any(hint in text for hint in _SPELLED_OUT_EMAIL_HINTS):
        found += _spelled_out_emails(text)
    return tuple(found)


def _spelled_out_emails(text: str) -> list[Span]:
    """Spelt-out e-mails, looked for only around an at-word or a mail provider's name."""
    found: set[Span] = set()
    for anchor in _EMAIL_ANCHOR.finditer(text):
        low, high = max(0, anchor.start() - _EMAIL_REACH), anchor.end() + _EMAIL_REACH
        high = _WORD_TAIL.match(text, min(high, len(text))).end()  # never end the window mid-word
        found.update(m.span() for m in _EMAIL_SPELLED_OUT.finditer(text, low, high))
        found.update(m.span() for m in _EMAIL_IN_WORDS.finditer(text, low, high) if _plausible_login(m, text))
        if anchor.lastgroup == "provider":
            for match in _LOGIN_AT_PROVIDER.finditer(text, low, high):
                if _is_login(match.group("local")) or _MAIL_TALK.search(
                    text, max(0, match.start() - 60), match.start()
                ):
                    found.add(match.span())
            found.update(
                m.span() for m in _PROVIDER_THEN_LOGIN.finditer(text, max(0, anchor.start() - 8), high)
            )
    return sorted(found)


def _canonical_spans(letter: CanonicalText, spans: list[Span]) -> list[Span]:
    """Canonical spans covering these spans of the original text (in reading order)."""
    starts = letter.starts
    if any(b < a for a, b in pairwise(starts)):
        return []  # right-to-left override reordered the text: the canonical reading stands
    found = []
    for start, end in spans:
        canonical_start, canonical_end = bisect_left(starts, start), bisect_left(starts, end)
        if canonical_end > canonical_start:
            found.append((canonical_start, canonical_end))
    return found


def _is_login(word: str) -> bool:
    return word.isascii() and any(c.isalpha() for c in word)


def _plausible_login(match: re.Match[str], text: str) -> bool:
    """ "olena собака gmail" is a login; "у нас собака Бобик" has no mail domain, so never matches.

    Short at-words ("at", "эт") are ordinary words too: they need a mail provider or a login-looking
    name, or talk of mail just before.
    """
    at = text[match.end("local") : match.start("domain")].strip(" /|,:–—-")
    if at not in ("at", "эт", "ет", "ат"):
        return True
    local = match.group("local")
    provider = re.match(_MAIL_PROVIDER, match.group("domain"))
    return (
        bool(provider)
        or _is_login(local)
        or bool(_MAIL_TALK.search(text, max(0, match.start() - 60), match.start()))
    )


# ---------------------------------------------------------------- messengers, social networks, links

_MAY_HAVE_LINK = re.compile(
    r"\.(?:com|org|net|info|io|me|ua|ru|рф|укр|su|by|kz|eu|de|pl|uk)(?![\w])|www\.|://"
)

_MESSENGER_LINK = re.compile(
    r"(?<![\w.])(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|wa\.me|viber\.click|signal\.me|"
    r"instagram\.com|vk\.com|facebook\.com|fb\.com|ok\.ru|tiktok\.com|x\.com|twitter\.com)/[\w.@/+-]+"
)
_HANDLE = re.compile(r"(?<![\w.@])@[a-z0-9_][a-z0-9_.]{2,31}")
_MESSENGER_NAME = (
    r"(?:телеграм\w*|телеге|телега|telegram|тг|tg|вайбер\w*|viber|вотсап\w*|ватсап\w*|вацап\w*|"
    r"whatsapp|сигнал[еуа]?|signal|инстаграм\w*|інстаграм\w*|инст[аеуыо]|інст[аіуи]|instagram|insta|"
    r"фейсбук\w*|фейсбуц\w*|facebook|fb|вконтакт\w*|вк|vk|скайп\w*|skype|тикток\w*|тікток\w*|tiktok|"
    r"ютуб\w*|youtube|одноклассник\w*|однокласник\w*|твиттер\w*|твіттер\w*|twitter|threads|"
    r"линкедин\w*|лінкедин\w*|linkedin)"
)
_MESSENGER_CONTACT = re.compile(
    rf"(?<![\w]){_MESSENGER_NAME}(?![\w])[^.!?\n]{{0,30}}?"
    r"(?:(?P<handle>@?(?<![\w])[a-z][a-z0-9_.]{3,31}[a-z0-9_])|\+?\d[\d \-()]{4,18}\d)"
)
_NEXT_LATIN_WORD = re.compile(r"\s+[a-z]")
# For a profile given by a full name, "in the social networks" and "my profile" do as well as
# a network's own name: "ищите меня в соцсетях: Оксана Петренко".
_MESSENGER_WORD = re.compile(
    rf"(?<![\w])(?:{_MESSENGER_NAME}|соцсет\w*|соц\.\s?сет\w*|соцмереж\w*|социальн\w+\s+сет\w*|"
    r"соціальн\w+\s+мереж\w*|профил\w*|профіл\w*|аккаунт\w*|акаунт\w*|account|profile)(?![\w])"
)
# After "в фейсбуке", the profile a writer gives: a capitalised word, maybe in quotes.
_PROFILE_WORD = re.compile(r"[«\"'„“]?\s*([^\W\d_][\w'-]*)")
_PROFILE_REACH = 45

_LINK = re.compile(
    r"(?<![\w@.])(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*"
    r"\.(?:com|org|net|info|io|me|ua|ru|рф|укр|su|by|kz|eu|de|pl|uk)(?:/\S*)?(?![\w@]))"
)


def detect_messenger(letter: CanonicalText) -> list[Span]:
    """@handles, t.me/... links, a messenger or network named next to a handle, number or full name."""
    return list(_messenger_contacts(letter))


@lru_cache(maxsize=4)
def _messenger_contacts(letter: CanonicalText) -> tuple[Span, ...]:
    text = letter.text
    found = [m.span() for m in _MESSENGER_LINK.finditer(text)] if "/" in text else []
    found += [m.span() for m in _HANDLE.finditer(text)] if "@" in text else []
    found += [m.span() for m in _MESSENGER_CONTACT.finditer(text) if _looks_like_handle(m, letter)]
    for network in _MESSENGER_WORD.finditer(text):
        profile = _full_name_after(letter, network.end())
        if profile is not None and _gives_own_contact(text, network.start(), profile, network.end()):
            found.append((network.start(), profile))
        profile = _full_name_before(letter, network.start())
        if profile is not None and _gives_own_contact(text, profile, network.end(), network.end()):
            found.append((profile, network.end()))
    return tuple(found)


# A full name by a network is a profile when the writer gives it out: "найдите меня", "мій
# телеграм —", "пишите". "На ютубе смотрели концерт Аллы Пугачёвой" gives nobody's contact.
_GIVES_CONTACT = re.compile(
    r"(?<![\w])(?:я\s+(?:есть|там|тут|є|как|як)|меня|мой|моя|мое|моё|мою|моего|моей|мій|моє|мене|my|me|"
    r"найд\w*|найт\w*|ищ\w*|ище\w*|поищ\w*|шука\w*|пошука\w*|знайд\w*|знаход\w*|find|"
    r"пиш\w*|напиш\w*|добав\w*|додав\w*|додай\w*|подпис\w*|підпис\w*|стуч\w*|стука\w*|"
    r"зв['я]яж\w*|связ\w*|вед[уеё]\w*|веду|канал\w*|страниц\w*|сторінк\w*|ник|нік|записан\w*)(?![\w])"
)
_SENTENCE_END = re.compile(r"[.!?\n]")
_RIGHT_AFTER_NETWORK = re.compile(r"\s*(?:[:—–-]|(?:я|это я|це я|i am|i'm)\s)")


def _gives_own_contact(text: str, start: int, end: int, network_end: int) -> bool:
    if _RIGHT_AFTER_NETWORK.match(text, network_end):
        return True  # "в фейсбуке: Оксана Петренко", "мій телеграм — Ігор Бондар", "в вк я Андрей..."
    low = max(0, start - 60)
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, low, start)), default=low)
    stop = _SENTENCE_END.search(text, end)
    high = min(stop.start() if stop else len(text), end + 30)
    return bool(_GIVES_CONTACT.search(text, sentence_start, high))


def _looks_like_handle(match: re.Match[str], letter: CanonicalText) -> bool:
    """ "в инсте я marta.kovalenko", "телеграм Olena_Kh", "страницу Halyna Shevchuk": a handle or a
    name in Latin letters. One capitalised word ("в фейсбуке писали про Netflix") is a title.
    """
    handle = match.group("handle")
    if handle is None or not letter.is_capitalised(match.start("handle")):
        return True
    if any(c in handle for c in "0123456789_.@"):
        return True
    after = _NEXT_LATIN_WORD.match(letter.text, match.end())
    return after is not None and letter.is_capitalised(after.end() - 1)


# "Оксана Петренко в фейсбуке", "ищите Оксану Петренко в инстаграме": the name just before.
_TWO_WORDS_THEN_IN = re.compile(r"([^\W\d_][\w'-]*)\s+([^\W\d_][\w'-]*)\s+(?:в|у|на|in|on)\s+$")


def _full_name_before(letter: CanonicalText, end: int) -> int | None:
    """Start of a full name given just before "в <network>", or None."""
    before = _TWO_WORDS_THEN_IN.search(letter.text, max(0, end - 60), end)
    if before is None or not all(letter.is_capitalised(before.start(i)) for i in (1, 2)):
        return None
    first, second = before.group(1), before.group(2)
    if _is_full_name(first, second) or _is_full_name(second, first):
        return before.start(1)
    return None


def _is_full_name(given: str, surname: str) -> bool:
    return (
        proper_names.is_given_name(given)
        and not proper_names.is_place(surname)
        and (proper_names.is_surname(surname, patronymic=False) or not proper_names.is_known_word(surname))
    )


def _full_name_after(letter: CanonicalText, start: int) -> int | None:
    """End of a person's full name given soon after a network's name, or None.

    "в фейсбуке: Оксана Петренко", "ВКонтакте я есть как Светлана Морозова", "канал на ютубе —
    «Кухня Зарины Абибуллаевой»", "в тиктоке меня найти легко — «Бабушка Люба из Бердичева»":
    a given name next to a surname, or a given name "from" a town, is a findable profile.
    """
    text = letter.text
    stop = re.compile(r"[.!?\n]").search(text, start, start + _PROFILE_REACH + 30)
    limit = stop.start() if stop else min(len(text), start + _PROFILE_REACH + 30)
    words = [(m.start(1), m.end(1), m.group(1)) for m in _PROFILE_WORD.finditer(text, start, limit)]
    for index, (word_start, _, word) in enumerate(words):
        if word_start - start > _PROFILE_REACH:
            break
        if not (letter.is_capitalised(word_start) and proper_names.is_given_name(word)):
            continue
        neighbours = words[max(0, index - 1) : index] + words[index + 1 : index + 2]
        for other_start, other_end, other in neighbours:
            if letter.is_capitalised(other_start) and _is_full_name(word, other):
                return max(other_end, words[index][1])
        if index + 2 < len(words) and words[index + 1][2] in ("из", "з", "зі", "from", "с"):
            place_start, place_end, _ = words[index + 2]
            if letter.is_capitalised(place_start):
                return place_end
    return None


def detect_link(letter: CanonicalText) -> list[Span]:
    """Web links; messenger links and e-mails are left to their own detectors."""
    taken = _messenger_contacts(letter) + _emails(letter)
    return [span for span in _links(letter) if not _overlaps(span, taken)]


@lru_cache(maxsize=4)
def _links(letter: CanonicalText) -> tuple[Span, ...]:
    if not _MAY_HAVE_LINK.search(letter.text):
        return ()
    return tuple(m.span() for m in _LINK.finditer(letter.text))


# ---------------------------------------------------------------- postal addresses

# Address pieces. Abbreviations with a dot are address formatting, so they count on their own;
# full words ("улица") count only with a house number, since people mention streets in stories.
_NAME_AFTER = r"\s*(?P<name>[^\W\d_][\w'-]*|\d+-?[^\W\d_]*)"
_HOUSE_NUMBER = r",?\s*(?:дом|д\.|буд\.)?\s*\d+[а-я]?(?![\w])"
# "ул. Льва Толстого, 5": a second name word is taken only when a house number follows it.
_HOUSE_NUMBER_AFTER = rf"(?:\s+[^\W\d_][\w'-]*(?={_HOUSE_NUMBER}))?(?:{_HOUSE_NUMBER})?"
_STREET_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:ул|вул|пр|просп|пр-т|пер|пров|бул|б-р|бульв|пл|наб|ш|туп|мкр|мкрн|мкр-н)\."
    rf"{_NAME_AFTER}{_HOUSE_NUMBER_AFTER}"
)
# "вул Шевченка 10", "ул Садовая 5": an abbreviation without its dot counts with a house number.
_STREET_ABBREVIATION_NO_DOT = re.compile(
    r"(?<![\w.])(?:ул|вул|просп|пр-т|пров|пер|бул|б-р|бульв|наб|мкр|мкрн)\s+"
    rf"(?P<name>[^\W\d_][\w'-]*)(?:\s+[^\W\d_][\w'-]*)?{_HOUSE_NUMBER}"
)
# Addresses of writers abroad: "ul. Długa 15/3", "Hauptstraße 5", "12 Baker Street".
_FOREIGN_STREET = re.compile(
    r"(?<![\w.])(?:ul|al|os|pl|str|rue|via|calle|ulica|ulice)\.?\s+(?P<name>[^\W\d_][\w'-]*)"
    r"(?:\s+[^\W\d_][\w'-]*)?,?\s*\d+[a-z]?(?:\s?/\s?\d+)?(?![\w])"
    r"|(?<![\w])(?P<compound>[a-z\u00c0-\u024f]+"
    r"(?:straße|strasse|str\.|gasse|weg|platz|allee|laan|straat|gatan|gade|vej))"
    r"\s*\d+[a-z]?(?![\w])"
    r"|(?<![\w])\d+[a-z]?\s+(?P<english>[a-z][\w'-]*(?:\s+[a-z][\w'-]*)?)\s+"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|close|court|crescent|way|square)\b\.?"
)
_STREET_WORD = re.compile(
    r"(?<![\w])(?:улиц[аеуы]|вулиц[яіює]|проспект\w*|переул\w*|провулок|бульвар\w*|площад[ьи]|"
    rf"набережн\w*|шоссе|микрорайон\w*){_NAME_AFTER}(?:\s+[^\W\d_][\w'-]*)?{_HOUSE_NUMBER}"
)
_HOUSE = re.compile(r"(?<![\w.])(?:д|дом|буд|будинок|корп|к|стр)\.?\s*(?:№|no)?\s*\d+(?:[а-я]|/\d+)?(?![\w])")
_FLAT = re.compile(r"(?<![\w.])(?:кв|квартира|квартиры|кварт|кв-ра|оф|офис)\.?\s*(?:№|no)?\s*\d+(?![\w])")
_FLAT_ABBREVIATION = re.compile(r"(?<![\w.])кв\.\s*№?\s*\d+(?![\w])")
_CITY = re.compile(rf"(?<![\w.\d])(?:г|м|с|пгт|смт)\.{_NAME_AFTER}")
# "село Петровка", "Черниговская область": where a house number alone would say too much.
_SETTLEMENT = re.compile(
    r"(?<![\w])(?:село|селі|селе|селище|деревн[яеи]|пос[её]л[оке]к|посёлок|хутор|місто|город|смт|пгт)"
    rf"{_NAME_AFTER}"
)
_SETTLEMENT_HINTS = ("сел", "деревн", "посел", "посёл", "хутор", "місто", "город", "смт", "пгт")
_REGION = re.compile(r"(?<![\w])(?P<name>[^\W\d_][\w'-]*)\s+(?:област[ьи]|область|обл\.?|район|р-н)(?![\w])")
_POSTCODE = re.compile(r"(?<![\w])(?:\d{5,6}|\d{2}-\d{3})(?![\w-])")
# Poste restante ("до востребования") is a parcel office: see detect_parcel_office.
_PO_BOX = re.compile(r"(?<![\w])(?:а/я|абонентск\w+ ящик\w*)\s*№?\s*\d*")
_ADDRESS_PIECE_GAP = re.compile(r"^[\s,;:]{0,4}$")
# "Мой адрес: 61000, Харьков, Сумская 10": the writer says it is an address, and numbers follow.
_ADDRESS_CUE = re.compile(
    r"(?<![\w])(?:(?:мой|моя|наш|домашн\w+|обратн\w+)\s+адрес\w*|по\s+адресу|адрес\s*:)[^.!?\n]{0,80}\d"
)

# A street named without "улица": "живу на Сумской 10, кв 5", "Харьков, Пушкинская 12-4",
# "61002 Харків Гоголя 3". A capitalised word and a house number are everywhere in letters
# ("Полтава 2024", "Ремзи 5 лет"), so the name must look like a street and something must
# say "address": a flat, a city or postcode before it, "живу", a number like 12-4 or 120/3.
_BARE_STREET = re.compile(
    r"(?<![\w'-])(?P<name>[^\W\d_][\w'-]+)\s*,?\s*(?:(?:д|дом|буд)\.?\s*)?"
    r"(?P<house>\d{1,4}(?:-?[а-яa-z](?![\w]))?(?:\s?[/-]\s?\d{1,4}[а-я]?)?)(?![\w]|[:.,]\d|-[^\W\d_])"
)
# What a number after a street name counts when it is not a house: "на Садовой 30 лет назад",
# "по Садовой 5 минут", "на Пушкинской 7 вечером".
_NOT_A_HOUSE_AFTER = re.compile(
    r"\s*(?:лет|года?|годов|год|рок\w*|раз\w*|минут\w*|мин|хвилин\w*|час\w*|годин\w*|секунд\w*|"
    r"вечер\w*|утр\w*|ранк\w*|ноч\w*|дн[еяи]\w*|день|суток|доб\w*|недел\w*|тижн\w*|тиждень|"
    r"месяц\w*|місяц\w*|км|кило\w*|метр\w*|м|шаг\w*|крок\w*|человек|людей|люд\w*|чел|штук\w*|шт|"
    r"рубл\w*|руб|грив\w*|грн|евро|євро|доллар\w*|долар\w*|процент\w*|відсот\w*|градус\w*|кг|"
    r"грамм\w*|грам\w*|г|литр\w*|літр\w*|л|копе\w*|страниц\w*|сторін\w*|класс\w*|клас\w*|серии|"
    r"серия|сезон\w*|этаж\w*|поверх\w*|январ\w*|феврал\w*|март\w*|апрел\w*|ма[яй]|июн\w*|июл\w*|"
    r"август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*|січ\w*|лют\w*|берез\w*|квіт\w*|трав\w*|"
    r"черв\w*|лип\w*|серп\w*|верес\w*|жовт\w*|листопад\w*|груд\w*|числ\w*|%|°)(?![\w])"
)
# "на Садовой 5 живёт подруга", "Живу в Киеве, 2 детей": a lowercase word right after the
# number says what it counts, unless it is an address word ("кв", "подъезд") or a preposition.
_WORD_AFTER_NUMBER = re.compile(r"[ \t]+(?P<word>[^\W\d_][\w'-]*)")
_ADDRESS_WORDS_AFTER = proper_names.word_set(
    "кв кв. квартира квартиры квартира, подъезд под'езд під'їзд этаж поверх корп корпус строение "
    "стр офис оф в у на возле біля около рядом напротив навпроти с з и і та а или или, за від от"
)
_LIVING_CUE = re.compile(
    r"(?<![\w])(?:жив\w*|прожива\w*|мешка\w*|переехал\w*|переїхал\w*|адрес\w*|заход\w*|заходь\w*|"
    r"приход\w*|приходь\w*|приезжа\w*|приїжджа\w*|приїзд\w*|пиш\w*|присыла\w*|надсила\w*|шл[иію]\w*|"
    r"отправля\w*|відправля\w*|прино\w*|дом|доме|дому|будин\w*|квартир\w*)(?![\w])[^.!?\n]{0,40}$"
)
_FLAT_AFTER = re.compile(
    r"[\s,]{0,3}(?:кв\b\.?|кв\.|квартир\w*|под[ъ'ь]?езд\w*|під'їзд\w*|підʼїзд\w*|корп\w*|оф\b|"
    r"[^\W\d_]+\s+(?:подъезд|под'езд|під'їзд|этаж|поверх)|этаж|поверх)"
)
_COMPOUND_HOUSE = re.compile(r"\d\s?[/-]\s?\d|\d\s?[а-яa-z]$")
_WORD_BEFORE = re.compile(r"(?P<word>[^\W\d_][\w'-]*)[\s,]{1,3}$")
_PLACE_AFTER = re.compile(r"\s*,\s*(?:в\s+|у\s+)?(?P<word>[^\W\d_][\w'-]*)")
# Look-out: a digit right after a word (and a space or comma). Written digit-first, since a
# pattern that starts with a letter class is tried at every letter of the text.
_MAY_HAVE_BARE_STREET = re.compile(
    r"\d(?:(?<=[^\W\d_] \d)|(?<=[^\W\d_], \d)|(?<=[^\W\d_],\d)|(?<=[^\W\d_]  \d))"
)


def detect_address(letter: CanonicalText) -> list[Span]:
    """Postal addresses: street, house, flat, city and postcode pieces standing together."""
    pieces = _address_pieces(letter)
    found: list[Span] = []
    for group in _group_pieces(pieces, letter.text):
        kinds = {kind for kind, _, _ in group}
        if (
            kinds & {"street", "flat", "po_box", "announced"}
            or len(kinds - {"place"}) >= 2
            or ("place" in kinds and kinds & {"house", "postcode", "flat_word"})
        ):
            found.append((group[0][1], max(end for _, _, end in group)))
    return found


def _address_pieces(letter: CanonicalText) -> list[tuple[str, int, int]]:
    text = letter.text
    # Look-outs: each kind of piece needs a digit, a dot or its own keyword, and most letters
    # lack most of them; the patterns are only run where they can match.
    pieces: list[tuple[str, int, int]] = []
    if "." in text:
        pieces += [
            ("street", *m.span()) for m in _STREET_ABBREVIATION.finditer(text) if _is_street(m, letter)
        ]
        pieces += [("city", *m.span()) for m in _CITY.finditer(text) if _names_a_place(m, letter)]
    if _DIGIT.search(text):
        pieces += [("street", *m.span()) for m in _STREET_WORD.finditer(text) if _is_street(m, letter)]
        pieces += [
            ("street", *m.span()) for m in _STREET_ABBREVIATION_NO_DOT.finditer(text) if _is_street(m, letter)
        ]
        pieces += [
            ("street", *m.span()) for m in _FOREIGN_STREET.finditer(text) if _is_foreign_street(m, letter)
        ]
        pieces += [("house", *m.span()) for m in _HOUSE.finditer(text)]
        pieces += [("flat", *m.span()) for m in _FLAT_ABBREVIATION.finditer(text)]
        pieces += [("flat_word", *m.span()) for m in _FLAT.finditer(text)]
        pieces += [("postcode", *m.span()) for m in _POSTCODE.finditer(text)]
        pieces += [("announced", *_through_end_of_number(text, m)) for m in _ADDRESS_CUE.finditer(text)]
        if _MAY_HAVE_BARE_STREET.search(text):
            pieces += [("street", *span) for span in _bare_streets(letter)]
    if any(hint in text for hint in _SETTLEMENT_HINTS):
        pieces += [("place", *m.span()) for m in _SETTLEMENT.finditer(text) if _names_a_place(m, letter)]
    if "обл" in text or "район" in text or "р-н" in text:
        pieces += [("place", *m.span()) for m in _REGION.finditer(text) if _names_a_place(m, letter)]
    if "а/я" in text or "абонентск" in text:
        pieces += [("po_box", *m.span()) for m in _PO_BOX.finditer(text)]
    return sorted(pieces, key=lambda piece: (piece[1], -piece[2]))


def _bare_streets(letter: CanonicalText) -> list[Span]:
    text = letter.text
    found: list[Span] = []
    for match in _BARE_STREET.finditer(text):
        name, house = match.group("name"), match.group("house")
        if not letter.is_capitalised(match.start("name")) or _NOT_A_HOUSE_AFTER.match(text, match.end()):
            continue
        word_after = _WORD_AFTER_NUMBER.match(text, match.end())
        if (
            word_after
            and word_after.group("word") not in _ADDRESS_WORDS_AFTER
            and not letter.is_capitalised(word_after.start("word"))
        ):
            continue
        start, evidence = match.start(), 0
        before = _WORD_BEFORE.search(text, max(0, start - 40), start)
        if before and letter.is_capitalised(before.start("word")) and _is_town(before.group("word")):
            evidence += 1
            start = before.start("word")
            postcode = _POSTCODE.search(text, max(0, start - 9), start)
            if postcode and _ADDRESS_PIECE_GAP.match(text[postcode.end() : start]):
                start = postcode.start()
        elif _POSTCODE.search(text, max(0, start - 9), start):
            evidence += 1
        if _LIVING_CUE.search(text, max(0, match.start() - 60), match.start()):
            evidence += 1
        if _FLAT_AFTER.match(text, match.end()):
            evidence += 1
        if _COMPOUND_HOUSE.search(house):
            evidence += 1
        after = _PLACE_AFTER.match(text, match.end())
        if after and letter.is_capitalised(after.start("word")) and _is_town(after.group("word")):
            evidence += 1
        # A name shaped like a street ("Сумской", "Гоголя") needs one sign of an address; any
        # other word ("Харьков 2024", "Крещатик 22") needs two.
        if evidence >= 2 or (evidence and proper_names.looks_like_street_name(name)):
            found.append((start, match.end()))
    return found


def _is_town(word: str) -> bool:
    """A town before a street: one the dictionaries know, or a name they do not ("Вилино", "Kraków")."""
    return proper_names.is_place(word) or (len(word) > 2 and not proper_names.is_known_word(word))


def _through_end_of_number(text: str, cue: re.Match[str]) -> Span:
    end = cue.end()
    while end < len(text) and (text[end].isalnum() or text[end] in "/-"):
        end += 1
    return cue.start(), end


def _is_foreign_street(match: re.Match[str], letter: CanonicalText) -> bool:
    if match.group("compound"):
        return letter.is_capitalised(match.start("compound"))
    if match.group("english"):
        return letter.is_capitalised(match.start("english"))
    return _is_street(match, letter)


def _is_street(match: re.Match[str], letter: CanonicalText) -> bool:
    """ "на улице Ленина 30 лет назад" is a story: the number after the street counts years."""
    ends_in_number = match.group().rstrip()[-1:].isdigit()
    if ends_in_number and _NOT_A_HOUSE_AFTER.match(letter.text, match.end()):
        return False
    return _names_a_place(match, letter)


def _names_a_place(match: re.Match[str], letter: CanonicalText) -> bool:
    """Street and city names are capitalised or numbered; "на улице холодно" is weather."""
    name = match.group("name")
    return name[0].isdigit() or letter.is_capitalised(match.start("name"))


def _group_pieces(pieces, text):
    groups: list[list[tuple[str, int, int]]] = []
    for piece in pieces:
        if groups:
            last_end = max(end for _, _, end in groups[-1])
            if piece[1] <= last_end or _ADDRESS_PIECE_GAP.match(text[last_end : piece[1]]):
                groups[-1].append(piece)
                continue
        groups.append([piece])
    return groups


# ---------------------------------------------------------------- parcel offices

# Nova Poshta, Ukrposhta, Meest: a branch or parcel-locker number with the town is as good as a
# home address ("отделение Новой почты №12 в Ирпене", "відділення 45 НП", "поштомат 20391").
_CARRIER = (
    r"(?:нов(?:ая|ой|ую|ою|а|ої|у|ій)\s+(?:почт|пошт)\w*|новап(?:очт|ошт)\w*|нп|np|nova\s*poshta|"
    r"укрпошт\w*|укрпочт\w*|ukrposhta|meest|міст\s+експрес\w*|мист\s+экспресс?\w*|justin|джастин\w*)"
)
_BRANCH = (
    r"(?:отделени\w*|відділенн?\w*|отд|відд|пункт\w*\s+выдачи|пункт\w*\s+видачі|склад\w*|"
    r"почтамт\w*|поштамт\w*|главпочтамт\w*|головпоштамт\w*|офис\w*|офіс\w*)"
)
_LOCKER = r"(?:поштомат\w*|почтомат\w*|постамат\w*|паштомат\w*|parcel\s+locker|paczkomat\w*)"
_BRANCH_NUMBER = r"\.?\s*(?:№|no|n|#|номер)?\s*\d{1,5}(?![\w])"
_PARCEL_OFFICE = re.compile(
    rf"(?<![\w])(?:{_LOCKER}{_BRANCH_NUMBER}"
    rf"|{_BRANCH}{_BRANCH_NUMBER}(?:[\s,]{{0,3}}{_CARRIER}(?![\w]))?"
    rf"|{_BRANCH}\s+{_CARRIER}{_BRANCH_NUMBER}"
    rf"|{_CARRIER}(?![\w])[\s,]{{0,3}}(?:{_BRANCH}|{_LOCKER})?{_BRANCH_NUMBER}"
    r"|до\s+востребования|до\s+запитання|poste\s+restante)"
)
_CARRIER_NEAR = re.compile(rf"(?<![\w]){_CARRIER}(?![\w])|{_LOCKER}|(?:почт|пошт)\w*")
_MAY_HAVE_PARCEL_OFFICE = re.compile(
    r"почт|пошт|нп|np|poshta|meest|міст|justin|джастин|постамат|paczkomat|востребован|запитанн|restante"
)


def detect_parcel_office(letter: CanonicalText) -> list[Span]:
    """A post-office branch, parcel locker or poste restante the writer collects from."""
    text = letter.text
    if not _MAY_HAVE_PARCEL_OFFICE.search(text):
        return []
    found: list[Span] = []
    for match in _PARCEL_OFFICE.finditer(text):
        said = match.group()
        if re.match(_BRANCH, said) and not re.search(_CARRIER, said):
            # "в отделении 5" is a hospital ward too: only a post office when the post is named.
            window = text[max(0, match.start() - 40) : match.end() + 40]
            if not _CARRIER_NEAR.search(window):
                continue
        found.append(match.span())
    return found


def contact_spans(letter: CanonicalText) -> list[Span]:
    """Everything that is an address of some kind, so that other detectors leave it alone."""
    return [*_emails(letter), *_messenger_contacts(letter), *_links(letter)]


def _overlaps(span: Span, others: tuple[Span, ...]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


# ---------------------------------------------------------------- identity documents

# "мой паспорт FN 482913", "серия 4510 номер 123456", "паспорт МТ 123456, выдан…": a document
# number after the document's name or "серия". The number alone is just a number.
_DOCUMENT_WORD = re.compile(
    r"(?<![\w])(?:паспорт\w*|загранпаспорт\w*|passport\w*|paszport\w*|reisepass\w*|id[- ]?карт\w*|"
    r"айди[- ]?карт\w*|посвідк\w*|удостоверени\w*|посвідчен\w*|серия|серії|серія|серию)(?![\w])"
)
# The digits may be grouped as people copy them from the document: "КН 482 913", "4510 123-456".
_SIX_DIGITS = r"\d{3}[ \t-]?\d{3}"
_NINE_DIGITS = r"\d{3}[ \t-]?\d{3}[ \t-]?\d{3}"
_DOCUMENT_NUMBER = re.compile(
    rf"(?<![\w])(?:[a-zа-яєіїґ]{{2}}[ \t-]?№?[ \t]?(?:{_NINE_DIGITS}|\d{{6,9}}|{_SIX_DIGITS})"
    rf"|\d{{2}}[ \t]?\d{{2}}[ \t]*(?:№|номер|no\.?)?[ \t]*{_SIX_DIGITS}|{_NINE_DIGITS})(?![\w])"
)
_DOCUMENT_REACH = 40


def detect_passport(letter: CanonicalText) -> list[Span]:
    """A passport's or an ID card's series and number, given after the document's name."""
    text = letter.text
    found = []
    for word in _DOCUMENT_WORD.finditer(text):
        number = _DOCUMENT_NUMBER.search(text, word.end(), word.end() + _DOCUMENT_REACH)
        if number is not None:
            found.append((word.start(), number.end()))
    return found


# ---------------------------------------------------------------- someone's full name

# "Севиль Ибраимовна Аблаева": a given name, a patronymic and a surname name one person to
# anyone who reads the letter, and with a town or a workplace beside it, find them. Two words
# ("Мария Ивановна") is how letters address elders politely, and is left alone.
_CAPITALISED_WORD = re.compile(r"[^\W\d_][\w'-]+")
_PATRONYMIC = re.compile(r"(?:ович|евич|ьич|ич|овна|евна|ична|инична|івна|ївна)(?:а|у|ем|ом|е|ы|ой|ою|ей|ій)?$")


def detect_full_name(letter: CanonicalText) -> list[Span]:
    text = letter.text
    words = [m for m in _CAPITALISED_WORD.finditer(text) if letter.is_capitalised(m.start())]
    found = []
    for a, b, c in zip(words, words[1:], words[2:]):
        if not (_only_spaces(text, a.end(), b.start()) and _only_spaces(text, b.end(), c.start())):
            continue
        if _is_full_name_triple(a.group(), b.group(), c.group()):
            found.append((a.start(), c.end()))
    return found


# A given name and a surname are enough to find someone once the letter says where they work,
# study or live, or when they were born: "Рефат Аблаев … работает хирургом в больнице".
_PERSON_FACT = re.compile(
    r"\b(?:родил(?:ся|ась)|рожд[её]н[аы]?|работа(?:ет|ют|л|ла|ли)|труд(?:ится|ятся)|устроил(?:ся|ась)"
    r"|уч(?:ится|атся)|служ(?:ит|ат)|жив(?:ёт|ет|ут)|прожива(?:ет|ют))\b|\b\d{1,2}[./]\d{1,2}[./](?:19|20)?\d{2}\b"
)
_PERSON_FACT_REACH = 80


def detect_named_person(letter: CanonicalText) -> list[Span]:
    """A given name and a surname side by side, with where the person works or lives, or a birth date."""
    text = letter.text
    words = [m for m in _CAPITALISED_WORD.finditer(text) if letter.is_capitalised(m.start())]
    found = []
    for a, b in zip(words, words[1:]):
        if not _only_spaces(text, a.end(), b.start()):
            continue
        if not (proper_names.is_given_name(a.group()) and _PATRONYMIC.search(b.group()) is None
                and proper_names.is_surname(b.group(), patronymic=False)):
            continue
        fact = _PERSON_FACT.search(text, b.end(), b.end() + _PERSON_FACT_REACH)
        if fact is not None and "\n\n" not in text[b.end() : fact.start()]:
            found.append((a.start(), fact.end()))
    return found


# ---------------------------------------------------------------- vehicles

# Russian plates (А347КС82), Ukrainian ones (АА1234ВВ): a car's number finds its owner.
_PLATE_LETTERS = "авекмнорстухabekmhopctyxі"
_VEHICLE_PLATE = re.compile(
    rf"(?<!\w)(?:[{_PLATE_LETTERS}] ?\d{{3}} ?[{_PLATE_LETTERS}]{{2}} ?\d{{2,3}}"
    rf"|[{_PLATE_LETTERS}]{{2}} ?\d{{4}} ?[{_PLATE_LETTERS}]{{2}})(?!\w)"
)


def detect_vehicle_plate(letter: CanonicalText) -> list[Span]:
    return [m.span() for m in _VEHICLE_PLATE.finditer(letter.text)]


def _only_spaces(text: str, start: int, end: int) -> bool:
    return 0 < end - start <= 2 and text[start:end].isspace()


def _is_full_name_triple(first: str, second: str, third: str) -> bool:
    """Given name, patronymic, surname; or surname, given name, patronymic."""
    # A patronymic in the middle says enough: the given name before it may be one the
    # dictionaries lack (Севиль, Нияра), as long as they know it as nothing else.
    given_patronymic_surname = (
        (proper_names.is_given_name(first) or not proper_names.is_known_word(first))
        and bool(_PATRONYMIC.search(second))
        and (proper_names.is_surname(third) or not proper_names.is_known_word(third))
    )
    surname_given_patronymic = (
        proper_names.is_surname(first) and proper_names.is_given_name(second) and bool(_PATRONYMIC.search(third))
    )
    return given_patronymic_surname or surname_given_patronymic
