"""Facilities and their rules: what a pre-trial centre, colony or prison hands over to the people it holds.

One home for the schema, used by every stage: intake keeps the facilities (its directory) and
shows writers what they need to know, sorting puts a letter longer than the facility's page limit
in front of a moderator, delivery routes letters to the facility's address. Rules change and are
learnt from letters that came back, lawyers and families, so each rule carries the date someone
last checked it; the monitor lists rules nobody has checked for too long.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FacilityKind = Literal["pre_trial_centre", "colony", "prison"]
# What is known of a rule: handed over, not handed over, or nobody knows yet.
Answer = Literal["yes", "no", "unknown"]
FACILITY_ID_PATTERN = r"^[a-z0-9_\-]{2,64}$"


class VerifiedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Answer = "unknown"
    verified_on: date | None = Field(None, description="When someone last checked this rule; empty: never")


class VerifiedPageLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: int | None = Field(None, ge=1, le=100, description="Most pages a letter may have; empty: no known limit")
    verified_on: date | None = None


class VerifiedNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    value: str = Field("", max_length=2000, description="Anything else a writer or an operator should know")
    verified_on: date | None = None


class FacilityRules(BaseModel):
    """What the facility passes on, as far as the campaign knows."""

    model_config = ConfigDict(extra="forbid")

    strangers_letters: VerifiedAnswer = Field(
        default_factory=VerifiedAnswer, description="Letters from people the prisoner does not know are handed over")
    postcards: VerifiedAnswer = Field(default_factory=VerifiedAnswer)
    drawings: VerifiedAnswer = Field(default_factory=VerifiedAnswer)
    photos: VerifiedAnswer = Field(default_factory=VerifiedAnswer)
    page_limit: VerifiedPageLimit = Field(default_factory=VerifiedPageLimit)
    notes: VerifiedNote = Field(default_factory=VerifiedNote)


RULE_NAMES: tuple[str, ...] = tuple(FacilityRules.model_fields)


class FacilityAddress(BaseModel):
    """The address as intermediaries write it on an envelope or a parcel form (in Russian)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lines: list[str] = Field(min_length=1, max_length=6, description="Street, building, institution, as written",
                             examples=[["ул. Павленко, 3", "ФКУ СИЗО-1 УФСИН России по Республике Крым"]])
    postcode: str = Field("", max_length=12, examples=["295000"])
    city: str = Field(min_length=1, max_length=100, examples=["Симферополь"])
    country: str = Field("Россия", max_length=100)


class Facility(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=FACILITY_ID_PATTERN, examples=["sizo_1_simferopol"])
    name: str = Field(min_length=1, max_length=200, examples=["СИЗО-1 Симферополь"])
    kind: FacilityKind
    region: str = Field(min_length=1, max_length=100, examples=["Крым"])
    address: FacilityAddress
    rules: FacilityRules = Field(default_factory=FacilityRules)


class WriterNote(BaseModel):
    """One thing a writer should know before writing to someone held at this facility.

    `code` is stable, for the page's own words in each language; `text` is an English fallback.
    """

    code: Literal["strangers_letters_not_handed_over", "strangers_letters_unknown", "postcards_not_handed_over",
                  "drawings_not_handed_over", "photos_not_handed_over", "page_limit", "note"]
    pages: int | None = Field(None, description="For page_limit: the most pages a letter may have")
    text: str


class FacilityNote(BaseModel):
    """What the public directory says of a prisoner's facility: where, and what the writer needs to know."""

    id: str
    name: str
    kind: FacilityKind
    region: str
    page_limit: int | None = None
    notes: list[WriterNote] = Field(default_factory=list)


_REFUSED = {
    "postcards": ("postcards_not_handed_over", "Postcards are not handed over here."),
    "drawings": ("drawings_not_handed_over", "Drawings are not handed over here."),
    "photos": ("photos_not_handed_over", "Photos are not handed over here."),
}


def writer_notes(rules: FacilityRules) -> list[WriterNote]:
    """What a writer needs to know: only what is refused or limited; an unknown rule is no refusal,
    except for letters from strangers, where not knowing is itself worth saying."""
    notes = []
    if rules.strangers_letters.value == "no":
        notes.append(WriterNote(code="strangers_letters_not_handed_over",
                                text="Letters from people the prisoner does not know are not handed over here."))
    elif rules.strangers_letters.value == "unknown":
        notes.append(WriterNote(code="strangers_letters_unknown",
                                text="It is not known whether letters from strangers are handed over here."))
    for name, (code, text) in _REFUSED.items():
        if getattr(rules, name).value == "no":
            notes.append(WriterNote(code=code, text=text))
    if rules.page_limit.value is not None:
        notes.append(WriterNote(code="page_limit", pages=rules.page_limit.value,
                                text=f"Letters of at most {rules.page_limit.value} page(s) are handed over here."))
    if rules.notes.value:
        notes.append(WriterNote(code="note", text=rules.notes.value))
    return notes


def facility_note(facility: Facility | dict | None) -> FacilityNote | None:
    if facility is None:
        return None
    facility = Facility.model_validate(facility)
    return FacilityNote(id=facility.id, name=facility.name, kind=facility.kind, region=facility.region,
                        page_limit=facility.rules.page_limit.value, notes=writer_notes(facility.rules))


def page_limit_of(facility: Facility | dict | None) -> int | None:
    if facility is None:
        return None
    return Facility.model_validate(facility).rules.page_limit.value


def exceeds_page_limit(pages: int, limit: int | None) -> bool:
    return limit is not None and pages > limit


def stale_rules(facility: Facility, today: date, max_age_days: int) -> list[str]:
    """The rules nobody has checked within `max_age_days` (or ever)."""
    stale = []
    for name in RULE_NAMES:
        if name == "notes" and not facility.rules.notes.value:
            continue  # no notes: nothing to check
        verified = getattr(facility.rules, name).verified_on
        if verified is None or (today - verified).days > max_age_days:
            stale.append(name)
    return stale
