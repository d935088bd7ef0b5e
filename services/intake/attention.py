"""Fair attention: the order in which the writer's page and the kiosk offer prisoners. Pure: values in, order out.

Writers mostly pick from the top of the list, so the order decides who gets letters. A prisoner is
the more in need the longer no letter has reached them, the fewer reached them lately and the fewer
are on their way; a birthday or a holiday they mark, a few weeks ahead, lifts them so that the
greetings arrive in time. Released and deceased prisoners always come after everyone who can be
written to. The holidays are data (holidays.yaml), edited by the organiser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.prisoners import can_receive_letters

HOLIDAYS_FILE = Path(__file__).with_name("holidays.yaml")

# A letter "reached them lately" if it was handed over within this many days.
RECENT = timedelta(days=30)
# How far back letters are read: delivery can take months, and older letters no longer weigh.
LOOKBACK = timedelta(days=120)
# Beyond two months without a letter, a longer silence adds no more need: everyone that quiet is
# equally urgent, and the other terms decide between them.
QUIET_CAP_DAYS = 60
# A letter takes some three to six weeks to be printed, bundled and handed over: an occasion this
# far ahead is the time to write for it. Once it has begun, a new letter would arrive too late.
OCCASION_AHEAD_DAYS = 45
# Weights, in "days of silence": a letter handed over lately counts as a week without one, a letter
# still on its way (accepted, in review, in delivery) as four days, since most of them arrive.
PASSED_ON_WEIGHT = 7
ON_THE_WAY_WEIGHT = 4
OCCASION_WEIGHT = 30

# Statuses of a letter accepted for a prisoner that has not reached them yet and is not stopped.
ON_THE_WAY = frozenset({"received", "awaiting_translation", "review_needed", "ready", "queued", "held",
                        "bundled", "sent", "failed"})
REACHED = frozenset({"handed_over", "answered"})


class Holiday(BaseModel):
    """One of the campaign's holidays: its names, who marks it, and its first day each year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    names: dict[Literal["uk", "ru", "en"], str]
    everyone: bool = False
    fixed: str | None = Field(None, pattern=r"^\d\d-\d\d$", description="MM-DD, the same day every year")
    dates: dict[int, date] = Field(default_factory=dict, description="First day per year, for a moving holiday")

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> Holiday:
        if (self.fixed is None) == (not self.dates):
            raise ValueError(f"holiday {self.id}: give either `fixed` (MM-DD) or `dates` per year")
        return self

    def starts_on(self, year: int) -> date | None:
        if self.fixed is None:
            return self.dates.get(year)
        month, day = map(int, self.fixed.split("-"))
        return _day_in(year, month, day)


@cache
def campaign_holidays(path: Path = HOLIDAYS_FILE) -> tuple[Holiday, ...]:
    """The holidays file, validated once; a file with a mistake stops the service at start."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(Holiday.model_validate(item) for item in data.get("holidays") or [])


class Occasion(BaseModel):
    """A birthday or a holiday coming soon enough that a letter written today arrives for it."""

    kind: Literal["birthday", "holiday"]
    starts_on: date
    days_until: int
    holiday_id: str | None = None
    names: dict[str, str] = Field(default_factory=dict, description="The holiday's name in uk, ru, en")


@dataclass(frozen=True)
class LetterFacts:
    """What the letters say of one prisoner's attention lately."""

    passed_on_recently: int = 0
    on_the_way: int = 0
    last_passed_on: date | None = None


def letter_facts(letters: Iterable[Mapping[str, Any]], today: date) -> dict[str, LetterFacts]:
    """Fold letters (prisoner_id, status, handed_over_at or answered_at) into facts per prisoner."""
    recent_since = today - RECENT
    counts: dict[str, list] = {}
    for letter in letters:
        facts = counts.setdefault(letter["prisoner_id"], [0, 0, None])
        status = letter.get("status")
        if status in ON_THE_WAY:
            facts[1] += 1
        elif status in REACHED:
            reached = _day_of(letter.get("handed_over_at") or letter.get("answered_at"))
            if reached is not None:
                facts[0] += reached >= recent_since
                facts[2] = max(facts[2] or reached, reached)
    return {prisoner: LetterFacts(*facts) for prisoner, facts in counts.items()}


def upcoming_occasions(prisoner: Mapping[str, Any], today: date, holidays: Sequence[Holiday]) -> list[Occasion]:
    """The prisoner's birthday and the holidays they mark that begin within OCCASION_AHEAD_DAYS, soonest first."""
    found = []
    birthday = _as_date(prisoner.get("birthday"))
    if birthday is not None:
        next_birthday = _next(today, lambda year: _day_in(year, birthday.month, birthday.day))
        if next_birthday is not None:
            found.append(Occasion(kind="birthday", starts_on=next_birthday, days_until=(next_birthday - today).days))
    marked = set(prisoner.get("holidays") or ())
    for holiday in holidays:
        if holiday.everyone or holiday.id in marked:
            starts = _next(today, holiday.starts_on)
            if starts is not None:
                found.append(Occasion(kind="holiday", starts_on=starts, days_until=(starts - today).days,
                                      holiday_id=holiday.id, names=dict(holiday.names)))
    return sorted(found, key=lambda occasion: occasion.days_until)


def need(facts: LetterFacts, occasions: int, today: date) -> int:
    """How much a prisoner needs a letter now, in days of silence (higher: more in need)."""
    quiet = QUIET_CAP_DAYS if facts.last_passed_on is None \
        else min((today - facts.last_passed_on).days, QUIET_CAP_DAYS)
    return (quiet - PASSED_ON_WEIGHT * facts.passed_on_recently - ON_THE_WAY_WEIGHT * facts.on_the_way
            + OCCASION_WEIGHT * occasions)


def attention_order(prisoners: Sequence[Mapping[str, Any]], facts: Mapping[str, LetterFacts], today: date,
                    holidays: Sequence[Holiday]) -> list[Mapping[str, Any]]:
    """Prisoners (directory documents, `_id` or `id`) in the order writers are offered them.

    Writable first, then by need; equal need: fewer letters ever received, then the id, so the
    order is stable from one request to the next."""
    def key(prisoner: Mapping[str, Any]) -> tuple:
        prisoner_id = prisoner.get("_id") or prisoner.get("id")
        score = need(facts.get(prisoner_id, LetterFacts()), len(upcoming_occasions(prisoner, today, holidays)), today)
        return (not can_receive_letters(prisoner.get("status")), -score, prisoner.get("letters_received") or 0,
                prisoner_id)
    return sorted(prisoners, key=key)


def _next(today: date, starts_on) -> date | None:
    """The first start on or after today within OCCASION_AHEAD_DAYS (this year's or next year's)."""
    for year in (today.year, today.year + 1):
        start = starts_on(year)
        if start is not None and 0 <= (start - today).days <= OCCASION_AHEAD_DAYS:
            return start
    return None


def _day_in(year: int, month: int, day: int) -> date:
    """That day in that year; 29 February is kept on 28 February in other years."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _day_of(at: datetime | None) -> date | None:
    return None if at is None else at.astimezone(UTC).date()
