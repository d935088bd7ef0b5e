"""The gazetteer: writers' spellings of cities and countries, in six languages, resolved to one place."""

from __future__ import annotations

import pytest
import yaml

from services.intake.results import domain, places
from services.intake.results.places import (
    Gazetteer,
    GazetteerError,
    gazetteer,
    not_a_place,
    place_key,
    resolve,
)

pytestmark = pytest.mark.unit

EVENTS = {"e_berlin": {"_id": "e_berlin", "city": "Berlin", "country": "DE"},
          "e_praha": {"_id": "e_praha", "city": "Praha", "country": "Česko"},
          "e_nowhere": {"_id": "e_nowhere", "city": "", "country": ""}}


@pytest.mark.parametrize("spelling", ["Kyiv", "Київ", "Киев", "Kiew", "Kijów", "Kyjev", "Kiev", "KYIV", " kyiv ",
                                      "Kyïv", "Kyiv.", "м. Київ", "г.Киев", "Kyiv, Ukraine", "Київ (Україна)"])
def test_every_spelling_of_kyiv_is_kyiv_in_ukraine(spelling):
    assert gazetteer().city(spelling) == places.City("Kyiv", "UA")


@pytest.mark.parametrize(("spellings", "city", "country"), [
    (["Odesa", "Одеса", "Одесса", "Odessa", "Oděsa"], "Odesa", "UA"),
    (["Berlin", "Берлін", "Берлин", "Berlín"], "Berlin", "DE"),
    (["Warsaw", "Warszawa", "Варшава", "Warschau", "Varšava"], "Warsaw", "PL"),
    (["Prague", "Praha", "Прага", "Prag", "Praga"], "Prague", "CZ"),
    (["Kraków", "Krakow", "Краків", "Краков", "Krakau", "Krakov"], "Kraków", "PL"),
    (["Vienna", "Wien", "Відень", "Вена", "Wiedeń", "Vídeň"], "Vienna", "AT"),
    (["Lviv", "Львів", "Львов", "Lemberg", "Lwów", "Lwow"], "Lviv", "UA"),
    (["Łódź", "Lodz", "Лодзь"], "Łódź", "PL"),
    (["Simferopol", "Сімферополь", "Симферополь", "Aqmescit"], "Simferopol", "UA"),
    (["Bakhchysarai", "Бахчисарай", "Bakhchisaray"], "Bakhchysarai", "UA"),
    (["Kamianets-Podilskyi", "Кам'янець-Подільський", "Кам’янець-Подільський", "Камʼянець Подільський"],
     "Kamianets-Podilskyi", "UA"),
    (["Munich", "München", "Muenchen", "Мюнхен", "Monachium", "Mnichov"], "Munich", "DE"),
])
def test_spellings_in_six_languages_are_one_city_with_its_country(spellings, city, country):
    assert {gazetteer().city(s) for s in spellings} == {places.City(city, country)}


@pytest.mark.parametrize("center", ["Вінниця", "Луцьк", "Дніпро", "Донецьк", "Житомир", "Ужгород", "Запоріжжя",
                                    "Івано-Франківськ", "Кропивницький", "Луганськ", "Миколаїв", "Полтава", "Рівне",
                                    "Суми", "Тернопіль", "Харків", "Херсон", "Хмельницький", "Черкаси", "Чернівці",
                                    "Чернігів", "Севастополь", "Керч", "Ялта", "Євпаторія", "Феодосія", "Джанкой"])
def test_the_oblast_centres_and_crimeas_towns_are_known(center):
    assert gazetteer().city(center).country == "UA"


@pytest.mark.parametrize(("text", "code"), [
    ("UA", "UA"), ("ua", "UA"), ("UKR", "UA"), ("Ukraine", "UA"), ("Україна", "UA"), ("Украина", "UA"),
    ("Ukraina", "UA"), ("Ukrajina", "UA"), ("Крим", "UA"), ("DE", "DE"), ("Deutschland", "DE"), ("Німеччина", "DE"),
    ("Германия", "DE"), ("Niemcy", "DE"), ("Německo", "DE"), ("Česko", "CZ"), ("Czech Republic", "CZ"),
    ("Чехія", "CZ"), ("Tschechien", "CZ"), ("Polska", "PL"), ("Польща", "PL"), ("Польша", "PL"), ("UK", "GB"),
    ("Великобританія", "GB"), ("Österreich", "AT"), ("Lietuva", None), ("Lithuania", "LT"),
])
def test_countries_are_one_code_whatever_language_or_code_names_them(text, code):
    assert gazetteer().country(text) == code


def test_the_key_ignores_case_accents_apostrophes_and_punctuation():
    assert place_key("Kraków") == place_key("KRAKOW") == "krakow"
    assert place_key("Кам'янець") == place_key("Камʼянець") == place_key("Кам’янець")
    assert place_key("Ivano-Frankivsk") == place_key("ivano frankivsk.")
    assert place_key("Łódź") == place_key("Lodz")
    assert place_key(None) == place_key("  ") == ""


@pytest.mark.parametrize("text", ["+380 67 123 45 67", "0671234567", "anna@example.org", "https://example.org/x",
                                  "www.example.org", "t.me.example.com", "12345", "!!!", "$$"])
def test_a_phone_an_address_or_a_link_is_not_a_place(text):
    assert not_a_place(text)


@pytest.mark.parametrize("text", ["Kyiv", "Kyiv 01001", "Нова Каховка", "Bad Homburg v. d. Höhe", "", None])
def test_real_places_even_with_a_postcode_are_places(text):
    assert not not_a_place(text)


def test_a_kiosk_letter_without_a_city_takes_its_events_city_and_country():
    stored = places.stored_place("", None, "e_berlin")
    assert resolve(stored, EVENTS, gazetteer()) == places.Place("Berlin", "DE", known_city=True)
    assert resolve(places.stored_place(None, None, "e_praha"), EVENTS, gazetteer()).country == "CZ"


def test_the_writers_city_and_country_win_over_the_events():
    at_berlin = resolve(places.stored_place("Харків", None, "e_berlin"), EVENTS, gazetteer())
    assert at_berlin == places.Place("Kharkiv", "UA", known_city=True)
    typed = resolve(places.stored_place("Bad Homburg", "Deutschland", "e_praha"), EVENTS, gazetteer())
    assert typed == places.Place("Bad Homburg", "DE")


def test_an_unknown_city_at_an_event_abroad_is_kept_as_typed_in_the_events_country():
    assert resolve(places.stored_place("Kleinstadt", "", "e_berlin"), EVENTS, gazetteer()) == places.Place(
        "Kleinstadt", "DE")


def test_a_phone_number_as_a_city_is_counted_as_not_a_place_and_never_printed():
    got = resolve(places.stored_place("+380671234567", "UA", None), EVENTS, gazetteer())
    assert got.city is None and got.not_a_place and got.country == "UA"


def test_place_figures_merge_spellings_group_unknown_places_and_count_non_places():
    by_place = {places.stored_place("Kyiv", "UA", None): 3, places.stored_place("Київ", "Україна", None): 2,
                places.stored_place("Киев", None, None): 1, places.stored_place("Berlin", "Germany", None): 1,
                places.stored_place("", None, "e_berlin"): 4, places.stored_place("Kleinstadt", None, None): 1,
                places.stored_place("KLEINSTADT ", None, None): 1, places.stored_place("me@x.org", None, None): 2,
                places.stored_place(None, None, None): 5}
    got = domain.place_figures(by_place, EVENTS, gazetteer())
    assert got.by_city == {"Kyiv": 6, "Berlin": 5, "Kleinstadt": 2}
    assert got.cities_not_in_gazetteer == {"Kleinstadt": 2}
    assert got.letters_without_city == 5 and got.letters_not_a_place == 2
    assert got.by_country == {"UA": 6, "DE": 5} and got.letters_without_country == 9
    assert got.country_names == {"UA": "Ukraine", "DE": "Germany"}


def test_a_spelling_given_to_two_cities_is_refused():
    data = {"cities": [{"en": "Kyiv", "country": "UA", "uk": "Київ"}, {"en": "Other", "country": "PL", "pl": "Kijow",
                                                                         "also": ["Київ"]}]}
    with pytest.raises(GazetteerError, match="Київ"):
        Gazetteer(data)


def test_the_shipped_gazetteer_loads_without_conflicts():
    loaded = Gazetteer(yaml.safe_load(places.GAZETTEER_FILE.read_text(encoding="utf-8")))
    assert len(set(loaded.cities.values())) >= 80
