"""Is a word a given name, a surname, a place? Asked of the pymorphy3 dictionaries, plus short lists.

The personal-data detectors need it to tell "на Сумской 10, кв 5" (a street) from "в 7 вечера",
and "в фейсбуке: Оксана Петренко" (a profile) from "в фейсбуке пишут"; the printed-field
detectors need it to tell a first name or a city from anything else typed into that box.

The dictionaries tag given names (Name), surnames (Surn), patronymics (Patr) and places (Geox),
but not evenly: the Ukrainian one tags no places at all ("Київ" is a plain noun there), and
neither knows most Crimean Tatar names or foreign cities spelt in Cyrillic. The lists below fill
those gaps; they are not meant to be complete, since an unknown word is never evidence by itself.
Only called on the few words a cheap pattern has already picked out, and cached per word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared.screening.morphology import analyzer
from shared.screening.normalize import canonicalise


def word_set(text: str) -> frozenset[str]:
    return frozenset(canonicalise(word).text for word in text.split())


# Given names the dictionaries do not know as names: Crimean Tatar and other Muslim names the
# campaign's writers and prisoners carry ("Эдем" and "Сервер" are common nouns to pymorphy3),
# and a few Ukrainian spellings.
GIVEN_NAMES = word_set(
    """
    эдем едем сервер сервір ремзи ремзі нариман наріман ахтем ахтэм асан амет аметхан айдер
    айдэр энвер енвер эскендер ескендер вилен вілен теймур осман рустем рустэм эмиль еміль
    лёнур ленур ленура бекир бекір эльмира ельміра зарема заріна зарина диляра діляра сафие
    сафіє эльвира ельвіра мумине мумінє алие аліє айше гульнара гульсум февзи февзі решат
    джемиль джеміль мустафа рефат ресуль ризван різван сейран сейдамет сейтумер сейтмемет
    иззет іззет исмаил ісмаїл ибраим ібраїм усеин усеїн нури нурі абдулла абляз аблязиз фера
    фатма эмине еміне земфира земфіра сусанна мерьем мерьєм мунире лиля
    ліля аким акім эрфан ерфан тимур тімур ділявер дилявер эрнес ернес вадим вадім вадым
    олексій олексий андрій андрий сергій сергий юрій юрий дмитро богдан тарас остап назар
    марічка мар'яна мар'ян оленка оля олена ігор игорь ярослав ярослава софи
    найле наіле мусине мусіне ридван курман мамут эмир емір севиль севіль нияра ніяра
    """
)

# Place names in the spellings writers use where the dictionaries do not tag them as places:
# Ukrainian spellings (the Ukrainian dictionary has no place tag), Crimean towns and villages,
# Latin spellings of Ukrainian cities, foreign cities in Cyrillic.
PLACES = word_set(
    """
    київ киев kyiv kiev kiew kijów kijow львів львов lviv lwów lwow харків харьков kharkiv
    одеса одесса odesa odessa дніпро днепр днипро dnipro запоріжжя запорожье zaporizhzhia
    вінниця винница полтава чернігів чернигов черкаси черкассы суми сумы житомир рівне ровно
    луцьк луцк тернопіль тернополь ужгород івано-франківськ ивано-франковск чернівці черновцы
    хмельницький хмельницкий кропивницький кропивницкий миколаїв николаев херсон маріуполь
    мариуполь донецьк донецк луганськ луганск ірпінь ирпень буча бровари бровары каховка
    мелітополь мелитополь бердянськ бердянск бердичів бердичев умань конотоп ніжин нежин фастів
    фастов обухів обухов ізмаїл измаил кременчук слов'янськ краматорськ краматорск изюм ізюм
    крим крым сімферополь симферополь севастополь ялта алушта бахчисарай джанкой євпаторія
    евпатория керч керчь феодосія феодосия судак армянськ армянск саки білогірськ белогорск
    красноперекопськ красноперекопск кіровське кировское бахчисараї бахчисарае мирне мирное
    гаспра алупка сімеїз симеиз форос коктебель зуя щёлкино щолкіне инкерман інкерман
    bakhchysarai bakhchisaray simferopol sevastopol yalta alushta dzhankoi kerch feodosia
    берлін берлин варшава прага краків краков кракова відень відня вена вени вильнюс вільнюс
    рига ріга таллінн таллин лондон париж рим мадрид амстердам стокгольм осло гельсінкі
    хельсинки цюрих цюріх мюнхен гамбург братислава брно будапешт бухарест кишинів кишинев
    тбілісі тбилиси стамбул анкара нью-йорк торонто монреаль ванкувер чикаго бостон вроцлав
    вроцлава познань гданськ гданьск лодзь люблін люблин женева брюссель копенгаген дублін
    дублин лісабон лиссабон барселона мілан милан неаполь кельн дрезден лейпциг франкфурт
    штутгарт
    """
)
# Words that stand in front of or after a place name: "с. Мирне", "Київська область".
PLACE_WORDS = word_set(
    "с. м. г. смт пгт село селище сел. деревня поселок посёлок хутор місто город район р-н "
    "область обл. обл округ край республіка республика"
)

_PERSON_TAGS = frozenset({"Name", "Surn", "Patr"})


@lru_cache(maxsize=20_000)
def known_grammemes(word: str) -> frozenset[str]:
    """Grammemes of every dictionary (not guessed) reading of `word`, in Russian and Ukrainian."""
    found: set[str] = set()
    for lang in ("ru", "uk"):
        for parse in analyzer(lang).parse(word):
            if parse.is_known:
                found |= parse.tag.grammemes
    return frozenset(found)


@lru_cache(maxsize=20_000)
def guessed_grammemes(word: str) -> frozenset[str]:
    """Grammemes of the readings pymorphy3 guesses from the ending of a word it does not know."""
    found: set[str] = set()
    for lang in ("ru", "uk"):
        for parse in analyzer(lang).parse(word)[:3]:
            if not parse.is_known:
                found |= parse.tag.grammemes
    return frozenset(found)


def is_known_word(word: str) -> bool:
    return bool(known_grammemes(word))


@lru_cache(maxsize=20_000)
def is_known_in(lang: str, word: str) -> bool:
    """Whether the dictionary of `lang` ("ru", "uk") knows the word, not just guesses it."""
    return any(parse.is_known for parse in analyzer(lang).parse(word))


def is_given_name(word: str, *, nominative: bool = False) -> bool:
    """A first name: tagged Name by a dictionary, or on the list of names it lacks.

    `nominative`: only as a name is signed ("Иван", not "Иванов", which is also "of the Ivans").
    """
    if word in GIVEN_NAMES:
        return True
    if not nominative:
        return "Name" in known_grammemes(word)
    return _is_nominative_name(word)


@lru_cache(maxsize=20_000)
def _is_nominative_name(word: str) -> bool:
    """A Name reading in the nominative, or a Name reading when no surname reading competes
    ("Мартина" is "of Martin" to the dictionary, "Иванов" is a surname first)."""
    readings = [p.tag.grammemes for lang in ("ru", "uk") for p in analyzer(lang).parse(word) if p.is_known]
    if any({"Name", "nomn"} <= tags for tags in readings):
        return True
    surname = any(tags & {"Surn", "Patr"} and "nomn" in tags for tags in readings)
    return any("Name" in tags for tags in readings) and not surname


def is_surname(word: str, *, patronymic: bool = True) -> bool:
    """A surname the dictionaries know, or one guessed from a surname ending (-енко, -ова...).

    `patronymic`: whether "Петрович" counts too (a name with a patronymic is how one addresses
    an elder, not a profile name; a patronymic in the first-name box is still not a first name).
    """
    tags = known_grammemes(word)
    if "Patr" in tags:
        return patronymic  # "Петровича" is also a surname to the dictionary, but rarely one
    if "Surn" in tags:
        return True
    return not tags and ("Surn" in guessed_grammemes(word) or bool(_SURNAME_ENDING.search(word)))


_SURNAME_ENDING = re.compile(
    r"(?:енко|ченко|чук|щук|юк|ук|ський|ська|ский|ская|цкий|цкая|ов|ова|ев|ева|ин|ина|ович|евич|"
    r"ишин|ко|ак|ян|дзе|швили|ов[аы]?й|ev|ova|enko|chuk|uk|sky|ska|ski|wicz|ov)$"
)


def is_place(word: str) -> bool:
    """A town, region or country, in any case form the dictionary knows, or on the list."""
    return word in PLACES or "Geox" in known_grammemes(word)


def is_place_word(word: str) -> bool:
    """A word that comes before or after a place name: "с.", "село", "область"..."""
    return word in PLACE_WORDS


@lru_cache(maxsize=20_000)
def looks_like_street_name(word: str) -> bool:
    """How streets are named without the word "street": "Сумская", "на Садовой", "Гоголя", "Шевченко".

    A feminine adjective (the word "улица" left out) or a person's name, surname included.
    """
    if word.isdigit():
        return False
    for lang in ("ru", "uk"):
        for parse in analyzer(lang).parse(word):
            tag = parse.tag
            if "ADJF" in tag.grammemes and ("femn" in tag.grammemes or "plur" in tag.grammemes):
                return True
            if tag.grammemes & _PERSON_TAGS and (parse.is_known or "Surn" in tag.grammemes):
                return True
    return False
