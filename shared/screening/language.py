"""Which language each part of a letter is in: the censor passes Russian only.

The prison censor returns (or simply never delivers) letters it cannot read as Russian. Short
sentences defeat any statistical detector, so the decision is built from cheap evidence first
and the statistics only where the evidence leaves a real question:

- Ukrainian: its own letters (і ї є ґ, the apostrophe in "пам'ять"), words that Russian does not
  have ("дуже", "що", "тримайся"), words the Russian dictionary does not know but the Ukrainian
  one does, also as typed on a Russian keyboard ("чекаемо" for "чекаємо", "вулыци" for "вулиці"),
  and words Russian shares but that tip a stretch into Ukrainian only beside others ("ми", "як",
  "та"). Surzhyk, Russian mixed with Ukrainian, is caught by the same evidence. A Ukrainian name
  or town ("Олексій", "Київ") in a Russian letter is a name, not Ukrainian text.
- Crimean Tatar in Cyrillic: "ъ" where Russian never writes it ("къардаш", "сагъ", "сенинъ"),
  its common words and endings. A greeting word ("Селям", "Сагъ ол") in a Russian letter is fine.
- Latin script: runs of words. A name or a title ("Muslim", «Back to the Future») is fine;
  transliterated Russian ("privet, kak dela") has its own rule; Crimean Tatar and Turkish
  ("Selâm, qardaşım") theirs; anything else is a foreign language.
- Other Cyrillic languages (Bulgarian, Kazakh, Serbian...): a sentence most of whose words the
  Russian dictionary does not know goes to the statistical detector (lingua), as does a Latin run
  whose letters do not already tell.

lingua runs in its low-accuracy mode with preloaded models (about 26 MB, ~0.1 ms a call); the
high-accuracy models cost over 400 MB. It is built once per process and called only for
sentences the evidence leaves open, never for a plainly Russian one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from shared.screening import lexicon
from shared.screening.normalize import CanonicalText
from shared.screening.personal_data import contact_spans
from shared.screening.terms import words_of

Span = tuple[int, int]
Token = tuple[int, int, str]

# Ukrainian letters, and the apostrophe where Russian writes "ъ"/"ь": "об'єднання", "здоров'я".
_UKRAINIAN_MARK = re.compile(r"[іїєґ]|[бпвмфрзкдтнж]'[яюєї]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
# Letters of other Cyrillic alphabets (Kazakh, Tatar, Bashkir, Serbian, Macedonian, Belarusian).
# Letters a language never writes: a stretch lingua names so, but written with them, is Russian.
_NOT_WRITTEN_IN = {
    "uk": re.compile(r"[ыэёъ]"),
    "be": re.compile(r"[ищъ]"),
    "bg": re.compile(r"[ыэё]|ь(?!о)"),
    "sr": re.compile(r"[ыэёъьйщяю]"),
}
_OTHER_CYRILLIC = re.compile(r"[әөүұқңһғҙҫҡҗјљњћђџѓќѕўӘӨҮҰҚҢҺҒҘҪҠҖЈЉЊЋЂЏЃЌЅЎ]")
_RUSSIAN_WORD = re.compile(r"[а-яё]+")
# Where a word not starting with a Cyrillic letter begins; mixed words were unmasked already.
_FOREIGN_WORD_START = re.compile(r"(?<![^\W_])[^\W\d_\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"[.!?…]+|\n")

# Ukrainian words without і/ї/є/ґ that a Russian letter does not contain.
_UKRAINIAN_WORDS = frozenset(
    """
    що щоб дуже вже також завжди вчора якщо або чи який яке його вона вони воно мене тобто знову
    незабаром треба можна тримайтеся тримайтесь тримайся тримаємось тримаємося тримаймося тримай
    чекаю чекаємо чекаєм дякую дякуємо бажаю бажаємо цілую цілуємо обіймаю обіймаємо щиро кохаю
    сумую сумуємо добрий дорогий любий гарний гарно серце життя сонце сили тиждень новини буде
    будемо писати чекати бути повернення додому вибачте тепер ти звісно мабуть трохи нема немає
    нічого усе ось отже проте хоча поки потім щось хтось десь ніколи бувай рідний рідна коханий
    сину доню донечко синку поруч побачимось побачимося побачення цей ця отож ніби наче вдома
    вдячна вдячний хлопці дівчата гаразд звісно мабуть бувайте сьогодні завтрашній
    шоб всьо тіки тіко нічо канєшно навєрно оце тю
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Words Russian has too ("ми" the note, "як" the yak, "та самая", "тату" the tattoo): evidence
# only beside other Ukrainian words.
_SHARED_WITH_RUSSIAN = frozenset(
    """
    ми як коли тату тато мамо та але з й бо шо ото зараз ще добре брате люба мама тебе
    """.split()  # noqa: SIM905
)
# Common Ukrainian words as a Russian keyboard types them, where that spelling is also a rare
# Russian word ("привит", "тоби"): like the words above, evidence only beside others.
_KEYBOARD_SPELLINGS = frozenset(
    """
    привит прывит тоби мени соби вин мий твий свий вси уси биля дае вид ций цим ции колы
    чекаю сумую
    """.split()  # noqa: SIM905
)

# Endings of Ukrainian verbs and nouns that Russian words do not have: "бачиш" (Russian
# "видишь" keeps its ь), "чекаємо", "писати", "кохання". Russian slang the Russian dictionary
# lacks ("капец", "ваще", "тикток") ends otherwise; the Ukrainian dictionary has it all the same.
_UKRAINIAN_ENDING = re.compile(r"(?:[иеї]ш|[еиєї]мо|[аиіяї]ти|уть|ють|ння|ття|ться|ся|ці|ові|еві)$")

# Crimean Tatar (Cyrillic). Russian writes "ъ" only before е, ё, ю, я ("подъезд"); Crimean
# Tatar writes it for its own sounds: "къ", "гъ", "нъ" ("къардаш", "сагъ ол", "сенинъ").
_CRIMEAN_TATAR_MARK = re.compile(r"ъ(?![еёюя])")
_CRIMEAN_TATAR_WORDS = frozenset(
    """
    мен сен биз сиз олар мени сени бизни сизни оны меним сенинъ бизим сизинъ онынъ манъа санъа
    бизге сизге бизнен сизнен ве амма лякин чюнки эгер бир эки пек чокъ яхшы эйи гузель буюк
    кучюк янъы эски эв эвде эвге эвимиз анамыз къардаш къардашынъ балалар аиле ичюн иле шимди
    бугунь ярын дюн гедже кунь йыл вакъыт эр эпимиз эписи ким насыл насылсынъ насылсыз
    нерде ёкъ бар дегиль олды берсин тез сабыр сагълыкъ сагълыгъынъ дуа
    """.split()  # noqa: SIM905
)
# Crimean Tatar words that a Russian letter uses as they are: greetings, blessings, dishes.
_CRIMEAN_TATAR_IN_RUSSIAN = frozenset(
    """
    селям селам салам саляма алейкум ассаляму ассаламу аллейкум мерхаба сагъ ол олунъыз сау
    хош кельдинъиз хайырлы иншаллах иншааллах машаллах аллах алла бисмиллах рамазан байрам
    курбан мубарек бейрам ифтар эфенди джан апа ага янтыкъ чебурек кобете шорба сарма пахлава
    къурабье айран бурма баклава хайтарма
    янтык янтыки янтыков янтыкам янтыкъы янтыкълар катлама катламу катламы шекер къыйыкъ кыйык
    къыйыкъы чибереки чибьерек чибьереклер къубете кубете корабие сарбурма пилав юфак ашлама
    тымбал дондурма къавэ кахве
    """.split()  # noqa: SIM905
)
# How a Crimean Tatar letter-writer addresses family and friends, in Russian letters too:
# "Селям, къардашым!" is a greeting, not a sentence in Crimean Tatar.
_CRIMEAN_TATAR_ADDRESS = frozenset(
    """
    къардашым къардаш къызым огълум огълан балам анам ананъ бабам бабанъ достум азизим азиз
    севгили эфендим апам агъам дайым агъа апте абла дайы эмдже татай
    """.split()  # noqa: SIM905
)
# Holiday wishes and blessings said as they are in Russian letters too: "Байрамынъыз мубарек
# олсун!" (a blessed Bayram), "Аллах разы олсун", "Хайырлы акъшамлар".
_BLESSING_STEMS = (
    "байрам", "бейрам", "мубарек", "муборек", "олсун", "хайыр", "джума", "рамазан", "ораза", "разы",
    "селям", "салям", "иншалла", "машалла", "аллах", "алхамдулилла", "ассалям", "алейкум",
    "акъшам", "сабах",  # "Хайырлы акъшамлар": good evening
)  # fmt: skip
# Endings Russian words do not have: "-мыз/-миз" (our, we), "-лар/-лер" (plural), "-джакъ".
_TURKIC_ENDING = re.compile(r"(?:мыз|миз|муз|мюз|лар|лер|ларны|лерни|дылар|дилер|гъан|джакъ|джек|лыкъ)$")

# Crimean Tatar and Turkish in Latin letters: ñ and the dotless ı are not in Western languages,
# nor q beside ğ, ş, ç, ö or ü. Without them (typed in plain ASCII), its common words tell.
_CRIMEAN_TATAR_LATIN = re.compile(r"[ñı]|q.*[ğşçöü]|[ğşçöü].*q", re.DOTALL)
_CRIMEAN_TATAR_LATIN_WORDS = frozenset(
    """
    selam selâm qardasim qardaşım qardas qardaş biz siz sen men seni sizni bizni ve pek çoq coq
    yahşı yahsi sabır sabir saglıq sağlıq saglik sagliq tez allah balalar anam anañ babam seniñ
    senin bizim sizin degilsiñ degilsin olsun bayram bayramıñız mubarek tileymiz sagindiq sağındıq
    """.split()  # noqa: SIM905
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
    slava ukraine ukraini ukrainy ukrayini geroyam heroyam zsu vsu putin rossiya krym krim
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_TRANSLIT = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"),
    ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "е"), ("ye", "е"), ("iy", "ий"),
    ("yy", "ый"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("i", "и"), ("j", "й"), ("k", "к"), ("q", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
    ("h", "х"), ("c", "ц"), ("x", "кс"), ("y", "ы"), ("'", "ь"),
]  # fmt: skip
_TRANSLIT_SHARE = 0.75  # English and Spanish read as Russian now and then ("server", "los")

_NAME_LIKE_MAX_WORDS = 3  # "Muslim", "Harry Potter": a name, not a sentence
_TITLE_MAX_WORDS = 6  # «Back to the Future»: a title in quotes
_GROUP_GAP = 3  # other words allowed between evidence words in one finding
# Shares of words the Russian dictionary does not know: in a whole letter, and in a sentence.
_LETTER_UNKNOWN_SHARE = 0.15
_SUSPECT_SHARE = 0.2
_MIN_WORDS_TO_ASK = 4

STRONG, MEDIUM, WEAK = 2, 1, 0


@dataclass
class _Analysis:
    ukrainian: list[Span] = field(default_factory=list)
    crimean_tatar: list[Span] = field(default_factory=list)
    foreign: list[Span] = field(default_factory=list)
    transliterated: list[Span] = field(default_factory=list)


def detect_ukrainian(letter: CanonicalText) -> list[Span]:
    """Stretches of Ukrainian (or surzhyk) words, merged when only a few other words stand between."""
    return _analyse(letter).ukrainian


def detect_crimean_tatar(letter: CanonicalText) -> list[Span]:
    """Sentences in Crimean Tatar (Cyrillic or Latin) or Turkish; a greeting word alone is fine."""
    return _analyse(letter).crimean_tatar


def detect_foreign_language(letter: CanonicalText) -> list[Span]:
    """Text in a language other than Russian, Ukrainian or Crimean Tatar, in any script."""
    return _analyse(letter).foreign


def detect_transliteration(letter: CanonicalText) -> list[Span]:
    """Russian written in Latin letters ("privet, kak dela")."""
    return _analyse(letter).transliterated


@lru_cache(maxsize=2)
def _analyse(letter: CanonicalText) -> _Analysis:
    result = _Analysis()
    tokens = _tokens(letter)
    sentences = _sentence_of_each(letter, tokens)
    cyrillic = [i for i, (_, _, word) in enumerate(tokens) if _CYRILLIC_LETTER.search(word)]
    ukrainian = {}
    tatar = {}
    for index in cyrillic:
        start, _, word = tokens[index]
        uk_weight, ct_weight = _ukrainian_weight(word), _crimean_tatar_weight(word)
        if uk_weight is None and ct_weight is None:
            continue
        if _is_name(letter, tokens, sentences, index) or _is_number_ending(letter, start, word):
            continue
        if uk_weight is not None:
            ukrainian[index] = uk_weight
        if ct_weight is not None:
            tatar[index] = ct_weight
    result.ukrainian = _groups(tokens, ukrainian, _is_ukrainian_group)
    result.crimean_tatar = _groups(tokens, tatar, _is_crimean_tatar_group)
    covered = result.ukrainian + result.crimean_tatar
    for span, language in _unknown_cyrillic_sentences(letter, tokens, sentences, cyrillic, covered):
        {"uk": result.ukrainian, "ct": result.crimean_tatar}.get(language, result.foreign).append(span)
    _read_foreign_runs(letter, tokens, result)
    return result


# ---------------------------------------------------------------- words and sentences


@lru_cache(maxsize=2)
def _tokens(letter: CanonicalText) -> list[Token]:
    """Words of the letter, leaving out e-mails, links and handles (they are not language)."""
    words = words_of(letter)
    contacts = sorted(contact_spans(letter))
    if not contacts:
        return words
    kept: list[Token] = []
    next_contact = 0
    for word in words:
        while next_contact < len(contacts) and contacts[next_contact][1] <= word[0]:
            next_contact += 1
        inside = next_contact < len(contacts) and contacts[next_contact][0] <= word[0]
        if not inside:
            kept.append(word)
    return kept


def _sentence_of_each(letter: CanonicalText, tokens: list[Token]) -> list[int]:
    ends = [m.end() for m in _SENTENCE_END.finditer(letter.text)]
    return [bisect_right(ends, start) for start, _, _ in tokens]


def _is_name(letter: CanonicalText, tokens: list[Token], sentences: list[int], index: int) -> bool:
    """A capitalised word inside a sentence is a name ("Обнимаю, Олексій", "в Києві"); at the
    start of one, it is a name if a dictionary says so or the sentence is a signature line of
    capitalised nouns ("Наталія, Київ")."""
    start, _, word = tokens[index]
    if not letter.is_capitalised(start):
        return False
    first_of_sentence = index == 0 or sentences[index - 1] != sentences[index]
    if not first_of_sentence:
        return True
    if word in _UKRAINIAN_WORDS or word in _CRIMEAN_TATAR_WORDS:
        return False  # "Сени севемиз": a word of the language that is also someone's name
    if lexicon.name_like(word):
        return True
    sentence = [i for i in range(index, len(tokens)) if sentences[i] == sentences[index]]
    # The last line of a longer letter: "Наталія, Київ"; not "Привіт!" as the whole letter.
    signs_off = sentence[-1] == len(tokens) - 1 and sentences[index] > 0
    return (
        signs_off
        and len(sentence) <= _NAME_LIKE_MAX_WORDS
        and all(letter.is_capitalised(tokens[i][0]) for i in sentence)
        and _is_noun(word)
    )


@lru_cache(maxsize=4096)
def _is_noun(word: str) -> bool:
    from shared.screening import morphology

    parses = [p for p in morphology.analyzer("uk").parse(word)[:3] if p.is_known]
    return bool(parses) and all(p.tag.POS == "NOUN" for p in parses)


def _is_number_ending(letter: CanonicalText, start: int, word: str) -> bool:
    """ "5-й класс": the "й" is the ending of a number, not the Ukrainian "and"."""
    before = letter.text[max(0, start - 2) : start]
    return len(word) <= 3 and (before[-1:].isdigit() or (before[-1:] == "-" and before[:1].isdigit()))


# ---------------------------------------------------------------- Ukrainian


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _ukrainian_weight(word: str) -> int | None:
    if _UKRAINIAN_MARK.search(word) or word in _UKRAINIAN_WORDS:
        return STRONG
    if word in _SHARED_WITH_RUSSIAN or word in _KEYBOARD_SPELLINGS:
        return WEAK
    if len(word) < 4 or not _RUSSIAN_WORD.fullmatch(word) or lexicon.russian(word):
        return None
    if lexicon.ukrainian_behind_russian_letters(word):
        return MEDIUM  # "чекаемо", "вулыци": Ukrainian typed on a Russian keyboard
    if lexicon.ukrainian(word) and (_UKRAINIAN_ENDING.search(word) or lexicon.ukrainian_non_noun(word)):
        # "бачиш", "молимося", "звісно" without its і: the Ukrainian dictionary's word. A noun only
        # with a Ukrainian ending: the Ukrainian dictionary has loans Russian has too ("ютуб").
        return MEDIUM
    return None


def _is_ukrainian_group(weights: list[int]) -> bool:
    """One word only Ukrainian has; or several that lean Ukrainian together. Russian slang the
    Russian dictionary lacks ("капец", "плиз", "тикток") can lean too, so two such are not enough."""
    strong, medium, weak = weights.count(STRONG), weights.count(MEDIUM), weights.count(WEAK)
    return strong > 0 or medium >= 3 or (medium >= 1 and medium + weak >= 3) or weak >= 3


# ---------------------------------------------------------------- Crimean Tatar


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _crimean_tatar_weight(word: str) -> int | None:
    if word in _CRIMEAN_TATAR_IN_RUSSIAN or word.startswith(_BLESSING_STEMS):
        return None
    if word in _CRIMEAN_TATAR_ADDRESS:
        return WEAK
    if _CRIMEAN_TATAR_MARK.search(word) or word in _CRIMEAN_TATAR_WORDS:
        return STRONG
    if len(word) < 4 or not _RUSSIAN_WORD.fullmatch(word) or lexicon.known(word):
        return None
    # A word neither dictionary knows: Crimean Tatar by its ending, or at least not Russian.
    return STRONG if len(word) >= 5 and _TURKIC_ENDING.search(word) else WEAK


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _said_in_russian_letters(word: str) -> bool:
    """Greetings, blessings, dishes and forms of address a Russian letter uses as they are."""
    return (
        word in _CRIMEAN_TATAR_IN_RUSSIAN
        or word in _CRIMEAN_TATAR_ADDRESS
        or word.startswith(_BLESSING_STEMS)
    )


def _is_crimean_tatar_group(weights: list[int]) -> bool:
    """Two Crimean Tatar words make a phrase; a greeting and an address ("къардашым") do not."""
    return weights.count(STRONG) >= 2 or (STRONG in weights and len(weights) >= 3)


def _groups(tokens: list[Token], weights: dict[int, int], is_language) -> list[Span]:
    spans: list[Span] = []
    group: list[int] = []
    for index in sorted(weights):
        if group and index - group[-1] - 1 > _GROUP_GAP:
            if is_language([weights[i] for i in group]):
                spans.append((tokens[group[0]][0], tokens[group[-1]][1]))
            group = []
        group.append(index)
    if group and is_language([weights[i] for i in group]):
        spans.append((tokens[group[0]][0], tokens[group[-1]][1]))
    return spans


# ---------------------------------------------------------------- other Cyrillic languages


def _unknown_cyrillic_sentences(letter, tokens, sentences, cyrillic, covered):
    """Stretches of Cyrillic sentences that Russian does not know, named by lingua.

    A Russian letter has few words its dictionary lacks (at most an eighth in the development
    set); Bulgarian has about half, Serbian a fifth (the dictionary knows many archaic forms).
    A letter below the mark never reaches lingua. Above it, each stretch of odd sentences is
    named by lingua when it is sure, and a "Bulgarian" stretch with ы, э, ё or a soft sign
    where Bulgarian has none is Russian after all ("Котэ спит, доча играет").
    """
    by_sentence: dict[int, list[Token]] = {}
    for index in cyrillic:
        by_sentence.setdefault(sentences[index], []).append(index)
    judged = [
        (_words_for_language(letter, tokens, indexes), number)
        for number, indexes in sorted(by_sentence.items())
    ]
    all_words = [t for words, _ in judged for t in words]
    other_alphabet = []
    if _OTHER_CYRILLIC.search(letter.original):
        other_alphabet = [t for t in all_words if _OTHER_CYRILLIC.search(_original(letter, t[:2]))]
    if len(all_words) < _MIN_WORDS_TO_ASK:
        return
    if _unknown_share(all_words) < _LETTER_UNKNOWN_SHARE and len(other_alphabet) < 2:
        return
    stretches: list[list[Token]] = []
    last = None
    for words, number in judged:
        if words and _unknown_share(words) >= _SUSPECT_SHARE:
            if stretches and last == number - 1:
                stretches[-1].extend(words)
            else:
                stretches.append(list(words))
            last = number
    for words in stretches:
        span = (words[0][0], words[-1][1])
        other = sum(1 for t in other_alphabet if span[0] <= t[0] < span[1]) >= 2
        if len(words) < (2 if other else _MIN_WORDS_TO_ASK):
            continue
        if any(s < span[1] and span[0] < e for s, e in covered):
            continue
        if any(_CRIMEAN_TATAR_MARK.search(w) for _, _, w in words):
            continue  # Crimean Tatar is judged by its own words, and one "агъа" is an address
        language = _lingua_language(_original(letter, span), cyrillic=True, sure=not other)
        if language in _NOT_WRITTEN_IN and _NOT_WRITTEN_IN[language].search(_original(letter, span).lower()):
            language = "ru"  # "сидим и чекаем" is no Belarusian: Belarusian never writes "и"
        if other and language in (None, "ru"):
            language = "kk"  # Russian by lingua, yet written with Kazakh or Serbian letters
        if language not in (None, "ru"):
            yield span, language


def _unknown_share(words: list[Token]) -> float:
    return sum(_unknown_to_russian(w) for _, _, w in words) / len(words)


@lru_cache(maxsize=lexicon.WORD_CACHE)
def _unknown_to_russian(word: str) -> bool:
    return not _RUSSIAN_WORD.fullmatch(word) or not lexicon.russian(word)


def _words_for_language(letter, tokens, indexes) -> list[Token]:
    """The words of a sentence that tell its language: not names, greetings or short words."""
    words = [
        tokens[i] for i in indexes if len(tokens[i][2]) >= 3 and not _said_in_russian_letters(tokens[i][2])
    ]
    first = indexes[0]
    return [t for t in words if t[0] == tokens[first][0] or not letter.is_capitalised(t[0])]


# ---------------------------------------------------------------- Latin and other scripts


def _read_foreign_runs(letter: CanonicalText, tokens: list[Token], result: _Analysis) -> None:
    """Each sentence of foreign words gets its language; neighbours in the same one are merged."""
    any_cyrillic = bool(_CYRILLIC_LETTER.search(letter.text))
    previous: tuple[list[Span], Span] | None = None
    for run in _runs_of_foreign_words(letter, tokens):
        span = (run[0][0], run[-1][1])
        found = _language_of_run(letter, run, span, any_cyrillic, result)
        if found is None:
            previous = None
            continue
        if (
            previous is not None
            and previous[0] is found
            and not _LETTER.search(letter.text, previous[1][1], span[0])
        ):
            found[-1] = span = (found[-1][0], span[1])
        else:
            found.append(span)
        previous = (found, span)


def _language_of_run(letter, run, span, any_cyrillic, result) -> list[Span] | None:
    words = [word for _, _, word in run]
    lone_name = len(run) == 1 and letter.is_capitalised(run[0][0])
    if not lone_name and any(word in _TRANSLIT_WORDS for word in words):
        return result.transliterated
    if any_cyrillic and _is_name_or_title(run, letter):
        return None
    if not any(c.isascii() for word in words for c in word if c.isalpha()):
        return result.foreign  # Hebrew, Arabic, Chinese, Georgian...: the scan cannot print them either
    if _CRIMEAN_TATAR_LATIN.search(_original(letter, span).lower()):
        return result.crimean_tatar
    if sum(word in _CRIMEAN_TATAR_LATIN_WORDS for word in words) >= 2:
        return result.crimean_tatar
    if _reads_as_russian([_original(letter, (s, e)) for s, e, _ in run]):
        return result.transliterated
    if _lingua_language(_original(letter, span), cyrillic=False, sure=True) == "ct":
        return result.crimean_tatar
    return result.foreign


def _runs_of_foreign_words(letter: CanonicalText, tokens: list[Token]):
    """Foreign words grouped into runs that no Cyrillic letter interrupts."""
    text = letter.text
    foreign_starts = {found.start() for found in _FOREIGN_WORD_START.finditer(text)}
    run: list[Token] = []
    for token in tokens:
        start, _, word = token
        if start not in foreign_starts or _CYRILLIC_LETTER.search(word):
            continue
        if not _LETTER.search(word) or (len(word) == 1 and word.isascii()):
            continue  # numbers and initials ("P.S.") are not language
        if len(word) <= 4 and any(c.isdigit() for c in word):
            continue  # codes: chess squares (f7), paper sizes (A4), vitamins (B12)
        if run and (
            _CYRILLIC_LETTER.search(text, run[-1][1], start) or _SENTENCE_END.search(text, run[-1][1], start)
        ):
            yield run
            run = []
        run.append(token)
    if run:
        yield run


def _is_name_or_title(run: list[Token], letter: CanonicalText) -> bool:
    """ "Muslim", "Harry Potter", «Back to the Future»; not "SLAVA ZSU" in capitals."""
    capitalised = [letter.is_capitalised(start) for start, _, _ in run]
    shouted = len(run) > 1 and all(
        letter.original[slice(*letter.original_span(s, e))].isupper() for s, e, _ in run
    )
    if shouted:
        return False
    if len(run) == 1:
        return True
    if len(run) <= _NAME_LIKE_MAX_WORDS and all(capitalised):
        return True
    long_words = [c for (_, _, word), c in zip(run, capitalised) if len(word) > 3]
    return len(run) <= _TITLE_MAX_WORDS and capitalised[0] and all(long_words) and _quoted(run, letter)


def _quoted(run: list[Token], letter: CanonicalText) -> bool:
    before = letter.text[max(0, run[0][0] - 2) : run[0][0]]
    after = letter.text[run[-1][1] : run[-1][1] + 2]
    return any(q in before for q in "«\"“'„") and any(q in after for q in "»\"”'“")


def _reads_as_russian(typed_words: list[str]) -> bool:
    """Most words, read letter by letter as Russian, are Russian words ("SLAVA ZSU" is not English).

    Words with letters Russian transliteration does not use ("qardaşım", "Grüße") do not count.
    """
    candidates = [w.lower() for w in typed_words if len(w) >= 4 and w.isascii() and w.isalpha()]
    if len(candidates) < 2:
        return False
    readable = sum(lexicon.known(_cyrillic_reading(w)) for w in candidates)
    return readable >= _TRANSLIT_SHARE * len(candidates)


@lru_cache(maxsize=4096)
def _cyrillic_reading(word: str) -> str:
    out: list[str] = []
    at = 0
    while at < len(word):
        for latin, cyrillic in _TRANSLIT:
            if word.startswith(latin, at):
                out.append(cyrillic)
                at += len(latin)
                break
        else:
            out.append(word[at])
            at += 1
    return "".join(out)


def _original(letter: CanonicalText, span: Span) -> str:
    start, end = letter.original_span(*span)
    return letter.original[start:end]


# ---------------------------------------------------------------- lingua


_LINGUA_CODES = {
    "RUSSIAN": "ru",
    "UKRAINIAN": "uk",
    "BELARUSIAN": "be",
    "BULGARIAN": "bg",
    "KAZAKH": "kk",
    "SERBIAN": "sr",
    "ENGLISH": "en",
    "GERMAN": "de",
    "POLISH": "pl",
    "CZECH": "cs",
    "FRENCH": "fr",
    "TURKISH": "ct",  # Crimean Tatar has no lingua model; in Latin letters it reads as these two
    "AZERBAIJANI": "ct",
}
_CYRILLIC_CODES = frozenset({"ru", "uk", "be", "bg", "kk", "sr"})
_SURE = 0.7


@lru_cache(maxsize=1)
def _detector():
    """One lingua detector per process: low-accuracy mode, models loaded up front (~26 MB)."""
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in _LINGUA_CODES]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


@lru_cache(maxsize=1024)
def _lingua_language(text: str, *, cyrillic: bool, sure: bool = False) -> str | None:
    """The most likely language of `text` among those of its script, as a short code.

    With `sure`, None unless lingua is fairly confident: on a short Cyrillic sentence its
    low-accuracy models easily take Russian baby talk ("доча, внуча") for Bulgarian.
    """
    script = _CYRILLIC_CODES if cyrillic else frozenset(_LINGUA_CODES.values()) - _CYRILLIC_CODES
    values = [
        (_LINGUA_CODES[c.language.name], c.value)
        for c in _detector().compute_language_confidence_values(text)
        if _LINGUA_CODES[c.language.name] in script
    ]
    if not values:
        return None
    code, value = values[0]
    if sure and code != "ru" and (value < _SURE or dict(values).get("ru", 0.0) > 1 - _SURE):
        return None
    return code


def language_of(text: str) -> str | None:
    """The language of a passage screening flagged as not Russian, as a short code ("de", "pl",
    "uk", "ct" for Crimean Tatar or Turkish…), or None when lingua is not fairly sure."""
    return _lingua_language(text, cyrillic=bool(_CYRILLIC_LETTER.search(text)), sure=True)
