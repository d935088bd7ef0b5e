"""Detectors for the writer's own contact details: phone, e-mail, address, messengers, links, cards.

The censor reads every letter and passes on what it learns; a writer's phone or address in a
letter to a political prisoner exposes the writer and can be used against the prisoner.
Each detector takes the canonical letter and returns canonical (start, end) spans.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared.screening.normalize import CanonicalText

Span = tuple[int, int]

_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\s?\(?\d[\d \-.()]{4,22}\d(?![\w])")
_DATE_OR_RANGE = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"  # 12.03.2024
    r"|\d{4}[./-]\d{1,2}[./-]\d{1,2}"  # 2024-03-12
    r"|\d{4}\s*[-–]\s*\d{4}"  # 1941-1945
    r"|\d{1,3}(?: \d{3})+"  # 1 250 000
)
_LOCAL_PHONE = re.compile(r"\d{3}[- ]\d{2}[- ]\d{2}")
_PHONE_CUE = re.compile(
    r"(?:тел|телефон\w*|номер\w*|звон\w*|позвон\w*|моб\w*|phone|call|вайбер\w*|viber)\W{0,12}$"
)

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_EMAIL_SPELLED_OUT = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s*[\[(<]\s*(?:at|собака|собачка)\s*[\])>]\s*[\w-]+"
    r"(?:\s*(?:[\[(<]\s*(?:dot|точка)\s*[\])>]|\.)\s*[\w-]+)+"
)

# Cheap look-outs: most letters have none of these, so the costlier patterns are skipped.
_MAY_HAVE_SPELLED_OUT_EMAIL = re.compile(r"[\[(<]\s*(?:at|собак)")
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
    r"whatsapp|сигнал[еуа]?|signal|инстаграм\w*|инсте|инста|instagram|insta|фейсбук\w*|facebook|"
    r"вконтакте|вк|vk|скайп\w*|skype|тикток\w*|tiktok)"
)
_MESSENGER_CONTACT = re.compile(
    rf"(?<![\w]){_MESSENGER_NAME}(?![\w])[^.!?\n]{{0,30}}?"
    r"(?:@?[a-z][a-z0-9_.]{3,31}[a-z0-9_]|\+?\d[\d \-()]{4,18}\d)"
)

_LINK = re.compile(
    r"(?<![\w@.])(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*"
    r"\.(?:com|org|net|info|io|me|ua|ru|рф|укр|su|by|kz|eu|de|pl|uk)(?:/\S*)?(?![\w@]))"
)

_CARD = re.compile(r"(?<![\d])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d])")

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
_STREET_WORD = re.compile(
    r"(?<![\w])(?:улиц[аеуы]|вулиц[яіює]|проспект\w*|переул\w*|провулок|бульвар\w*|площад[ьи]|"
    rf"набережн\w*|шоссе|микрорайон\w*){_NAME_AFTER}(?:\s+[^\W\d_][\w'-]*)?{_HOUSE_NUMBER}"
)
_HOUSE = re.compile(r"(?<![\w.])(?:д|дом|буд|будинок|корп|к|стр)\.?\s*№?\s*\d+(?:[а-я]|/\d+)?(?![\w])")
_FLAT = re.compile(r"(?<![\w.])(?:кв|квартира|квартиры|кварт|кв-ра|оф|офис)\.?\s*№?\s*\d+(?![\w])")
_FLAT_ABBREVIATION = re.compile(r"(?<![\w.])кв\.\s*№?\s*\d+(?![\w])")
_CITY = re.compile(rf"(?<![\w.\d])(?:г|м|с|пгт|смт)\.{_NAME_AFTER}")
_POSTCODE = re.compile(r"(?<![\w])\d{5,6}(?![\w])")
_PO_BOX = re.compile(r"(?<![\w])(?:а/я|абонентск\w+ ящик\w*|до востребования)\s*№?\s*\d*")
_ADDRESS_PIECE_GAP = re.compile(r"^[\s,;:]{0,4}$")
# "Мой адрес: 61000, Харьков, Сумская 10": the writer says it is an address, and numbers follow.
_ADDRESS_CUE = re.compile(
    r"(?<![\w])(?:(?:мой|моя|наш|домашн\w+|обратн\w+)\s+адрес\w*|по\s+адресу|адрес\s*:)[^.!?\n]{0,80}\d"
)


def detect_phone(letter: CanonicalText) -> list[Span]:
    """Phone numbers in international or local format, with spaces, dashes and brackets."""
    found: list[Span] = []
    for candidate in _PHONE_CANDIDATE.finditer(letter.text):
        number = candidate.group().strip()
        digits = sum(c.isdigit() for c in number)
        cue = bool(_PHONE_CUE.search(letter.text[max(0, candidate.start() - 30) : candidate.start()]))
        if _looks_like_phone(number, digits, cue):
            start = candidate.start() + (len(candidate.group()) - len(candidate.group().lstrip()))
            found.append((start, candidate.end()))
    return found


def _looks_like_phone(number: str, digits: int, cue: bool) -> bool:
    if digits > 15 or (digits < 7 and not (cue and digits >= 5)):
        return False
    if _DATE_OR_RANGE.fullmatch(number) and not (cue or number.startswith("+")):
        return False
    if number.startswith(("+", "00", "(")) or cue:
        return True
    if _LOCAL_PHONE.search(number) or number.startswith(("0", "8", "7", "380")):
        return True
    return digits >= 10


def detect_email(letter: CanonicalText) -> list[Span]:
    """E-mail addresses, also spelt out as "name (at) mail (dot) com"."""
    return list(_emails(letter))


# Cached per letter (by identity): the link and language detectors need these spans too.
@lru_cache(maxsize=2)
def _emails(letter: CanonicalText) -> tuple[Span, ...]:
    text = letter.text
    found = [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []
    if _MAY_HAVE_SPELLED_OUT_EMAIL.search(text):
        found += [m.span() for m in _EMAIL_SPELLED_OUT.finditer(text)]
    return tuple(found)


def detect_messenger(letter: CanonicalText) -> list[Span]:
    """@handles, t.me/... links, and a messenger named next to a handle or number."""
    return list(_messenger_contacts(letter))


@lru_cache(maxsize=2)
def _messenger_contacts(letter: CanonicalText) -> tuple[Span, ...]:
    text = letter.text
    found = [m.span() for m in _MESSENGER_LINK.finditer(text)] if "/" in text else []
    found += [m.span() for m in _HANDLE.finditer(text)] if "@" in text else []
    found += [m.span() for m in _MESSENGER_CONTACT.finditer(text)]
    return tuple(found)


def detect_link(letter: CanonicalText) -> list[Span]:
    """Web links; messenger links and e-mails are left to their own detectors."""
    taken = _messenger_contacts(letter) + _emails(letter)
    return [span for span in _links(letter) if not _overlaps(span, taken)]


@lru_cache(maxsize=2)
def _links(letter: CanonicalText) -> tuple[Span, ...]:
    if not _MAY_HAVE_LINK.search(letter.text):
        return ()
    return tuple(m.span() for m in _LINK.finditer(letter.text))


def detect_payment_card(letter: CanonicalText) -> list[Span]:
    """Bank card numbers: 16 to 19 digits in groups of four."""
    return [m.span() for m in _CARD.finditer(letter.text)]


def detect_address(letter: CanonicalText) -> list[Span]:
    """Postal addresses: street, house, flat, city and postcode pieces standing together."""
    pieces = _address_pieces(letter)
    found: list[Span] = []
    for group in _group_pieces(pieces, letter.text):
        kinds = {kind for kind, _, _ in group}
        if kinds & {"street", "flat", "po_box", "announced"} or len(kinds) >= 2:
            found.append((group[0][1], max(end for _, _, end in group)))
    return found


def _address_pieces(letter: CanonicalText) -> list[tuple[str, int, int]]:
    text = letter.text
    pieces = [("street", *m.span()) for m in _STREET_ABBREVIATION.finditer(text) if _names_a_place(m, letter)]
    pieces += [("street", *m.span()) for m in _STREET_WORD.finditer(text) if _names_a_place(m, letter)]
    pieces += [("city", *m.span()) for m in _CITY.finditer(text) if _names_a_place(m, letter)]
    pieces += [("house", *m.span()) for m in _HOUSE.finditer(text)]
    pieces += [("flat", *m.span()) for m in _FLAT_ABBREVIATION.finditer(text)]
    pieces += [("flat_word", *m.span()) for m in _FLAT.finditer(text)]
    pieces += [("postcode", *m.span()) for m in _POSTCODE.finditer(text)]
    pieces += [("po_box", *m.span()) for m in _PO_BOX.finditer(text)]
    pieces += [("announced", *_through_end_of_number(text, m)) for m in _ADDRESS_CUE.finditer(text)]
    return sorted(pieces, key=lambda piece: (piece[1], -piece[2]))


def _through_end_of_number(text: str, cue: re.Match[str]) -> Span:
    end = cue.end()
    while end < len(text) and (text[end].isalnum() or text[end] in "/-"):
        end += 1
    return cue.start(), end


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


def contact_spans(letter: CanonicalText) -> list[Span]:
    """Everything that is an address of some kind, so that other detectors leave it alone."""
    return [*_emails(letter), *_messenger_contacts(letter), *_links(letter)]


def _overlaps(span: Span, others: tuple[Span, ...]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)
