"""Help for writers on the writer's page and the kiosk: the phrase bank, and place names to choose from.

Read-only and the same for everyone, so the answers may be cached; nothing a writer types is stored here.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pycountry
from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from services.intake.phrases import PhraseBank, phrase_bank
from services.intake.results.places import gazetteer, place_key
from shared.screening.offline import default_offline_rules

router = APIRouter(prefix="/api/v1", tags=["writing help"])

# The bank changes only when an organiser edits the file and the service restarts: an hour is plenty.
PHRASES_CACHE = "public, max-age=3600"
PLACES_CACHE = "public, max-age=86400"
# Revalidated on every load (the ETag makes that one round trip): new rules reach an online kiosk at once,
# and its service worker keeps the last copy for when the network is gone.
OFFLINE_RULES_CACHE = "public, no-cache"
MAX_CITY_SUGGESTIONS = 8

InterfaceLanguage = Literal["uk", "en", "ru"]


class CitySuggestion(BaseModel):
    name: str = Field(description="The city's name in the interface language", examples=["Київ"])
    country: str = Field(description="ISO 3166 code", examples=["UA"])
    country_name: str = Field(description="The country's name in the interface language", examples=["Україна"])


class CountryName(BaseModel):
    code: str = Field(examples=["DE"])
    name: str = Field(examples=["Німеччина"])


@router.get("/phrases", response_model=PhraseBank, summary="The phrase bank: Russian phrases and sample letters")
async def phrases(response: Response) -> PhraseBank:
    """Russian phrases and short sample letters by topic, each with what it means in uk, en, de and pl.
    Role: anyone. The kiosk keeps a copy for days without a network."""
    response.headers["Cache-Control"] = PHRASES_CACHE
    return phrase_bank()


@router.get(
    "/screening/offline-rules",
    summary="The word, phrase and symbol rules, for hints on a kiosk without a network",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}, "description": "The exported rules (shared/screening/offline.py)"},
        304: {"description": "The copy the kiosk has (If-None-Match) is current"},
    },
)
async def offline_screening_rules(
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """The rules file's word, phrase and symbol rules, compiled (every dictionary word expanded into its
    forms), with `rules_version`; the rules only the server can apply are listed in `server_only`.
    The kiosk's service worker keeps a copy, and the kiosk screens with it while /letters/check cannot be
    reached. Role: anyone."""
    body, gzipped, etag = default_offline_rules()
    headers = {"ETag": etag, "Cache-Control": OFFLINE_RULES_CACHE, "Vary": "Accept-Encoding"}
    if if_none_match and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    if accept_encoding and "gzip" in accept_encoding:  # 1.5 MB of word forms, 0.2 MB compressed
        return Response(gzipped, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type="application/json", headers=headers)


@router.get("/places/cities", response_model=list[CitySuggestion], summary="Cities whose name starts as typed")
async def city_suggestions(
    response: Response,
    q: Annotated[str, Query(max_length=80, description="What the writer has typed, in any spelling")] = "",
    lang: InterfaceLanguage = "en",
) -> list[CitySuggestion]:
    """Cities of the campaign's gazetteer whose name, in any of its spellings, starts with `q`; named in `lang`.
    A suggestion only: the city field stays free text. Role: anyone."""
    response.headers["Cache-Control"] = PLACES_CACHE
    return suggest_cities(q, lang)


@router.get("/places/countries", response_model=list[CountryName], summary="Country names in a language")
async def countries(response: Response, lang: InterfaceLanguage = "en") -> list[CountryName]:
    """Every country (ISO 3166) named in `lang`, alphabetically, for the writer's country field. Role: anyone."""
    response.headers["Cache-Control"] = PLACES_CACHE
    return country_names(lang)


def suggest_cities(typed: str, lang: str, limit: int = MAX_CITY_SUGGESTIONS) -> list[CitySuggestion]:
    places = gazetteer()
    key = place_key(typed)
    if not key:
        return []
    found: dict[str, CitySuggestion] = {}
    # A name that starts as typed comes before one where only a later word does ("Nova Kakhovka" for "kakh").
    for matches in (lambda spelling: spelling.startswith(key), lambda spelling: f" {key}" in f" {spelling}"):
        for spelling, city in sorted(places.cities.items()):
            if len(found) >= limit:
                break
            if city.name not in found and matches(spelling):
                found[city.name] = CitySuggestion(name=places.city_name(city.name, lang), country=city.country,
                                                  country_name=places.country_name(city.country, lang))
    return list(found.values())


def country_names(lang: str) -> list[CountryName]:
    places = gazetteer()
    names = [CountryName(code=c.alpha_2, name=places.country_name(c.alpha_2, lang)) for c in pycountry.countries]
    return sorted(names, key=lambda country: country.name.casefold())
