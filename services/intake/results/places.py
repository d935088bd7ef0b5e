"""Where letters were written: writers' spellings of cities and countries resolved through the gazetteer. No I/O
beyond reading the gazetteer file once.

Writers type their city in any of six languages and any spelling ("Kyiv", "Київ", "Киев", "г. Киев"); the
campaign counts one Kyiv in Ukraine. Matching is on a key that ignores case, accents, apostrophes and
punctuation (Unicode decomposition, not a regular expression per city); the names themselves live in
places.yaml, which organisers edit. Countries come from ISO 3166 in those languages (pycountry).
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
import yaml

GAZETTEER_FILE = Path(__file__).with_name("places.yaml")
LANGUAGES = ("uk", "ru", "en", "de", "pl", "cs")
# The campaign's own country: events elsewhere are "abroad".
HOME = "UA"
# Stored on each letter as one field, so one $group gives city, country and event together.
SEPARATOR = "\x1f"

# Latin letters Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"})
_APOSTROPHES = dict.fromkeys(map(ord, "'’ʼ‘`´ʹ′"), None)
# A phone number has at least 7 digits; a postcode and a house number have fewer.
_PHONE_DIGITS = 7
_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+\.(?:com|org|net|info|ua|ru|de|pl|cz|eu|io)\b)")


def place_key(text: str | None) -> str:
    """The spelling-blind key of a place name: "Kyïv", "KYIV" and " kyiv." give "kyiv"; "Кам'янець" and
    "Камʼянець" are one; hyphens and dots count as spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch)).translate(_UNDECOMPOSED)
    bare = bare.translate(_APOSTROPHES)
    spaced = "".join(ch if ch.isalnum() else " " for ch in bare)
    return " ".join(spaced.split())


def not_a_place(text: str | None) -> bool:
    """A "city" that is certainly something else: an e-mail address, a link, a phone number, or no letters."""
    if not text or not text.strip():
        return False
    if "@" in text or "＠" in text or _URL.search(text):
        return True
    if sum(ch.isdigit() for ch in text) >= _PHONE_DIGITS:
        return True
    return not any(ch.isalpha() for ch in text)


@dataclass(frozen=True)
class City:
    name: str  # English, as the results print it
    country: str  # ISO 3166 alpha-2


class GazetteerError(ValueError):
    """The gazetteer file maps one spelling to two places."""


class Gazetteer:
    def __init__(self, data: dict[str, Any]) -> None:
        self.prefixes = tuple(sorted({place_key(p) for p in data.get("prefixes") or ()}, key=len, reverse=True))
        self.cities: dict[str, City] = {}
        # A city's own names by language, for pages that print it in the reader's language.
        self.names: dict[str, dict[str, str]] = {}
        for entry in data.get("cities") or ():
            city = City(str(entry["en"]), str(entry["country"]).upper())
            self.names[city.name] = {lang: str(entry[lang]) for lang in LANGUAGES if entry.get(lang)}
            spellings = [entry.get(lang) for lang in LANGUAGES] + list(entry.get("also") or ())
            for spelling in spellings:
                self._add(self.cities, str(spelling or ""), city)
        self.countries: dict[str, str] = {}
        for country in pycountry.countries:
            for spelling in _iso_names(country):
                self.countries.setdefault(place_key(spelling), country.alpha_2)
        for code, names in (data.get("countries") or {}).items():
            for spelling in names:
                self._add(self.countries, str(spelling), str(code).upper(), replace=True)

    @staticmethod
    def _add(table: dict, spelling: str, value: Any, replace: bool = False) -> None:
        key = place_key(spelling)
        if not key:
            return
        if not replace and table.get(key, value) != value:
            raise GazetteerError(f"places.yaml: {spelling!r} is both {table[key]} and {value}")
        table[key] = value

    def city(self, text: str | None) -> City | None:
        """The city a writer meant, or None when the gazetteer does not know it."""
        key = place_key(text)
        for candidate in (key, self._without_prefix(key), place_key(re.split(r"[,(/;]", text or "")[0])):
            if candidate in self.cities:
                return self.cities[candidate]
            if self._without_prefix(candidate) in self.cities:
                return self.cities[self._without_prefix(candidate)]
        return None

    def city_name(self, name: str, lang: str) -> str:
        """A city of the results (its English name) in another language; a place not listed, as typed."""
        return self.names.get(name, {}).get(lang, name)

    def _without_prefix(self, key: str) -> str:
        for prefix in self.prefixes:
            if key.startswith(prefix + " "):
                return key[len(prefix) + 1:]
        return key

    def country(self, text: str | None) -> str | None:
        """The ISO code of a country given by code or name in any of the campaign's languages."""
        return self.countries.get(place_key(text))

    def country_name(self, code: str, lang: str = "en") -> str:
        country = pycountry.countries.get(alpha_2=code)
        if country is None:
            return code
        name = getattr(country, "common_name", None) or country.name
        return name if lang == "en" else _translation(lang).gettext(country.name)


def _iso_names(country: Any) -> list[str]:
    names = [country.alpha_2, country.alpha_3, country.name, getattr(country, "official_name", None),
             getattr(country, "common_name", None)]
    for lang in LANGUAGES[:2] + LANGUAGES[3:]:
        translation = _translation(lang)
        names += [translation.gettext(n) for n in (country.name, getattr(country, "official_name", None)) if n]
    return [n for n in names if n]


@cache
def _translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


@cache
def gazetteer(path: Path = GAZETTEER_FILE) -> Gazetteer:
    return Gazetteer(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# --- A letter's place, stored and resolved ----------------------------------------------------------

def stored_place(city: str | None, country: str | None, event_id: str | None) -> str:
    """What a letter keeps for the results: the city and country as typed, and its event, in one field.

    Kept as typed so that an edit of the gazetteer (or of an event's city) changes every report, old
    letters' too, without touching a letter.
    """
    parts = (city or "", country or "", event_id or "")
    return SEPARATOR.join(" ".join("".join(ch for ch in part if ch.isprintable()).split()) for part in parts)


@dataclass(frozen=True)
class Place:
    """A letter's place as the results count it. `city` is None when none was given or it is not a place."""

    city: str | None
    country: str | None  # an ISO code, or the country as typed when it is none the gazetteer knows
    known_city: bool = False
    not_a_place: bool = False


def resolve(stored: str | None, events: dict[str, dict], places: Gazetteer) -> Place:
    """A stored place, normalised. A letter written at an event without a city takes the event's city;
    a country comes from the writer, else from the city, else from the event."""
    city_text, country_text, event_id = ((stored or "").split(SEPARATOR) + ["", "", ""])[:3]
    event = events.get(event_id) or {}
    if not_a_place(city_text):
        return Place(None, _country(country_text, places) or _country(event.get("country"), places), not_a_place=True)
    if not city_text.strip():
        city_text = str(event.get("city") or "")
    known = places.city(city_text) if city_text else None
    country = _country(country_text, places) or (known.country if known else None) or _country(
        event.get("country"), places)
    if known:
        return Place(known.name, country, known_city=True)
    return Place(" ".join(city_text.split()) or None, country)


def _country(text: str | None, places: Gazetteer) -> str | None:
    if not text or not text.strip() or not_a_place(text):
        return None
    return places.country(text) or " ".join(text.split())
