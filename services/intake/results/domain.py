"""The campaign's results as values: what a report holds and the arithmetic behind it. No I/O.

Counts arrive here already grouped by MongoDB (one row per day, city, status…); everything below
works on those few rows, never on letters.
"""

from __future__ import annotations

import calendar
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field

from services.intake.results import places
from shared.prisoners import RECEIVING_STATUSES

# Prisoners still held are the ones letters can reach; released or deceased ones only count as reached.
HELD = tuple(sorted(RECEIVING_STATUSES))
# A prisoner with this many letters in the period is "well reached".
WELL_REACHED = 5
# Public counts below this could point at one writer (a city, an event with 2 letters): shown as "<5".
SMALL_COUNT = 5
SMALL = "<5"
# The open end of a period without a start: the campaign's data cannot be older.
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class ReportFilter:
    """A period of days (both ends included, UTC, as `written_day`) and optionally one campaign event.

    The demo campaign's fictional prisoners are left out unless `include_demo`.
    """

    date_from: date | None = None
    date_to: date | None = None
    event_id: str | None = None
    include_demo: bool = False

    def bounds(self, today: date) -> tuple[date, date] | None:
        if self.date_from is None and self.date_to is None:
            return None
        return self.date_from or EARLIEST, self.date_to or today

    def describe(self) -> dict[str, str | None]:
        described = {"from": _iso(self.date_from), "to": _iso(self.date_to), "event": self.event_id}
        return described | ({"demo": "included"} if self.include_demo else {})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def period_times(first: date, last: date) -> tuple[datetime, datetime]:
    """The days from `first` to `last` (UTC) as times: from the first day's midnight up to, not including,
    the midnight after the last. A letter counts in the period when its `counted_at` falls in there."""
    start = datetime.combine(first, time.min, UTC)
    # A period ending before it starts holds no time at all.
    return start, max(start, datetime.combine(last + timedelta(days=1), time.min, UTC))


def iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def roll_up(by_day: Mapping[str, int], key) -> dict[str, int]:
    """Weeks and months from days: the same keys intake stores as `submitted_week`/`submitted_month`."""
    totals: Counter[str] = Counter()
    for day, letters in by_day.items():
        totals[key(day)] += letters
    return dict(sorted(totals.items()))


def by_week(by_day: Mapping[str, int]) -> dict[str, int]:
    return roll_up(by_day, iso_week)


def by_month(by_day: Mapping[str, int]) -> dict[str, int]:
    return roll_up(by_day, lambda day: day[:7])


def percentile_ranks(count: int, fraction: float) -> tuple[int, float] | None:
    """Where a percentile sits in `count` sorted values: (index of the lower neighbour, weight of the upper).

    Linear interpolation between the closest ranks (as numpy's default): the median of 4 values is
    halfway between the 2nd and the 3rd.
    """
    if count <= 0:
        return None
    position = (count - 1) * fraction
    lower = math.floor(position)
    return lower, position - lower


def interpolate(values: list[float], weight: float) -> float:
    if len(values) == 1 or weight == 0:
        return values[0]
    return values[0] + (values[1] - values[0]) * weight


def median(values: Iterable[int]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    lower, weight = percentile_ranks(len(ordered), 0.5)
    return interpolate([float(v) for v in ordered[lower:lower + 2]], weight)


def humane_duration(seconds: float | None) -> str | None:
    """A duration in the unit a person would say: "40 minutes", "5.5 hours", "3.2 days" (never "0.00 days")."""
    parts = duration_parts(seconds)
    if parts is None:
        return None
    amount, unit = parts
    return "under a minute" if unit == "second" else _plural(amount, unit)


def duration_parts(seconds: float | None) -> tuple[float | int, str] | None:
    """The amount and unit a person would say a duration in: (40, "minute"), (5.5, "hour"), (3.2, "day");
    ("second") for anything under a minute. The PDF and the pages print them in their language."""
    if seconds is None:
        return None
    if seconds < 60:
        return 0, "second"
    if seconds < 3600:
        return round(seconds / 60), "minute"
    if seconds < 48 * 3600:
        return _tenths(seconds / 3600), "hour"
    return _tenths(seconds / 86400), "day"


def _tenths(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _plural(value: float, unit: str) -> str:
    return f"{value:g} {unit}" + ("" if value == 1 else "s")


def channels(letters: int, typed_by_channel: Mapping[str | None, int]) -> dict[str, int]:
    """web, kiosk and paper: a letter with photographed pages counts as paper, whichever channel brought it."""
    typed = {"web": 0, "kiosk": 0}
    for channel, count in typed_by_channel.items():
        typed[channel or "web"] = typed.get(channel or "web", 0) + count
    return {**typed, "paper": letters - sum(typed.values())}


def explode_categories(by_combination: Mapping[tuple[str, ...], int]) -> dict[str, int]:
    """Letters per finding category, from letters per combination of categories (most frequent first)."""
    totals: Counter[str] = Counter()
    for categories, letters in by_combination.items():
        for category in set(categories):
            totals[category] += letters
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def merge_spellings(by_name: Mapping[str | None, int]) -> dict[str, int]:
    """Cities and countries as writers typed them: "Kyiv", "kyiv " and "KYIV" are one place.

    The most frequent spelling names the group. Letters without a place are left out here
    (the report counts them separately).
    """
    groups: dict[str, Counter[str]] = {}
    for name, letters in by_name.items():
        cleaned = " ".join((name or "").split())
        if not cleaned:
            continue
        groups.setdefault(cleaned.casefold(), Counter())[cleaned] += letters
    merged = {spellings.most_common(1)[0][0]: sum(spellings.values()) for spellings in groups.values()}
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class PlaceFigures:
    by_city: dict[str, int]
    letters_without_city: int
    letters_not_a_place: int
    cities_not_in_gazetteer: dict[str, int]
    by_country: dict[str, int]
    letters_without_country: int
    country_names: dict[str, str]


def place_figures(by_place: Mapping[str | None, int], events: Mapping[str, dict],
                  gazetteer: places.Gazetteer) -> PlaceFigures:
    """Cities and countries from letters per stored place (city, country and event as typed), normalised.

    Known cities count under their English name; unknown ones are grouped by their spelling-blind key and
    named by the spelling most writers used. A "city" that is a phone number, address or link is never a city.
    """
    cities: dict[str, Counter[str]] = {}
    known: set[str] = set()
    countries: dict[str, Counter[str]] = {}
    without_city = without_country = not_place = 0
    for stored, letters in by_place.items():
        place = places.resolve(stored, events, gazetteer)
        not_place += letters if place.not_a_place else 0
        if place.city is None:
            without_city += 0 if place.not_a_place else letters
        else:
            key = place.city if place.known_city else "?" + places.place_key(place.city)
            cities.setdefault(key, Counter())[place.city] += letters
            if place.known_city:
                known.add(key)
        if place.country is None:
            without_country += letters
        else:
            countries.setdefault(places.place_key(place.country), Counter())[place.country] += letters
    by_city = _named(cities)
    unknown = _named({k: v for k, v in cities.items() if k not in known})
    by_country = _named(countries)
    names = {code: gazetteer.country_name(code) for code in by_country if len(code) == 2 and code.isupper()}
    return PlaceFigures(by_city, without_city, not_place, unknown, by_country, without_country, names)


def _named(groups: Mapping[str, Counter[str]]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for spellings in groups.values():
        merged[spellings.most_common(1)[0][0]] += sum(spellings.values())
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


class Totals(BaseModel):
    letters: int = Field(description="Letters written in the period (every channel, every outcome)")
    prisoners_written_to: int = Field(description="Prisoners with at least one letter written in the period")
    prisoners_reached: int = Field(description="Prisoners with at least one letter of the period passed on to them")
    events: int = Field(description="Campaign events with at least one letter in the period")
    events_abroad: int = Field(description="Of those, events outside the campaign's country")
    cities: int = Field(description="Distinct writers' cities (spellings merged through the gazetteer)")
    countries: int = Field(description="Distinct countries (codes and names in every language merged)")
    replies: int = Field(description="Prisoners' replies to letters of the period (a reply to several letters once)")


class PrisonerFigures(BaseModel):
    in_directory: int
    held: int = Field(description="Detained or transferred: those letters can still reach")
    written_to: int = Field(description="Prisoners with at least one letter written in the period")
    written_to_well: int = Field(description=f"Prisoners with at least {WELL_REACHED} letters written in the period")
    reached: int = Field(description="Prisoners who had at least one letter of the period passed on by an "
                                     "intermediary (handed over or answered)")
    well_reached: int = Field(description=f"Prisoners who had at least {WELL_REACHED} letters of the period passed on")
    held_without_letters: int
    median_letters_per_held_prisoner: float | None
    histogram: dict[str, int] = Field(description="Held prisoners by letters written to them in the period (bins)")


class ModerationFigures(BaseModel):
    auto_approved: int = Field(description="Passed screening alone")
    approved_after_review: int
    redacted: int = Field(description="Approved after a moderator's redaction")
    translated: int = Field(0, description="Approved as a volunteer translated them into Russian")
    rejected: int
    awaiting_review: int
    awaiting_translation: int = Field(0, description="Waiting for a volunteer translator now")
    top_finding_categories: dict[str, int] = Field(description="Letters per finding category, most frequent first")


# Why delivery holds a letter, as delivery names it (`hold_kind` on letter.delivery_updated).
HOLD_KINDS = ("prisoner_released", "prisoner_deceased", "prisoner_moving", "no_route", "archived")
# Letters held before delivery named the kind.
UNKNOWN_HOLD = "unknown"


class DeliveryStuck(BaseModel):
    """Delivery gave up on these letters after its retries: an operator must act (re-queue, fix the channel)."""

    stuck: bool = Field(description="True while any letter of the period is failed")
    failed_letters: int
    failing_since: str | None = Field(None, description="How long the oldest failed letter has been failed")
    failing_since_s: float | None = None


class DeliveryFigures(BaseModel):
    in_progress: int = Field(description="Approved, queued or bundled, not yet sent")
    sent: int = Field(description="Left the campaign: sent, and everything after it")
    handed_over: int = Field(description="Passed on to the prisoner by an intermediary (answered letters included)")
    blocked: int = Field(description="Blocked by the prison censor")
    returned: int = Field(description="Returned by the prison or the censor")
    held: int = Field(description="Held: the prisoner was released, has no intermediary, or an operator archived it")
    held_by_reason: dict[str, int] = Field(default_factory=dict, description="Held letters per kind: "
                                           + ", ".join(HOLD_KINDS) + f", {UNKNOWN_HOLD}")
    failed: int
    failed_reasons: dict[str, int] = Field(default_factory=dict)
    stuck: DeliveryStuck | None = None
    answered: int = Field(description="Letters with at least one reply")
    replies: int = Field(0, description="Replies received (one reply thanking for three letters counts once; "
                                        "two replies to one letter count twice)")
    blocked_reasons: dict[str, int] = Field(default_factory=dict)
    returned_reasons: dict[str, int] = Field(default_factory=dict)
    handover_seconds_median: float | None = Field(None, description="Seconds from writing to hand-over, median")
    handover_seconds_p90: float | None = Field(None, description="Seconds from writing to hand-over, 90th percentile")
    handover_median: str | None = Field(None, description="The median in words: minutes, hours or days")
    handover_p90: str | None = Field(None, description="The 90th percentile in words")
    handover_days_median: float | None = Field(description="Days from writing to hand-over, median")
    handover_days_p90: float | None = Field(description="Days from writing to hand-over, 90th percentile")


class PrisonerLetters(BaseModel):
    id: str
    name_uk: str
    name_en: str
    status: str
    letters: int


def per_prisoner(directory: list[dict], counts: Mapping[str, int]) -> list[PrisonerLetters]:
    rows = [PrisonerLetters(id=p["_id"], name_uk=(p.get("names") or {}).get("uk", p["_id"]),
                            name_en=(p.get("names") or {}).get("en", p["_id"]), status=p.get("status", "detained"),
                            letters=counts.get(p["_id"], 0)) for p in directory]
    return sorted(rows, key=lambda row: (row.letters, row.id))


class EventFigure(BaseModel):
    id: str
    name: str
    city: str = Field(description="The event's city, through the gazetteer")
    country: str = Field(description="The event's country, an ISO code when known")
    abroad: bool = Field(False, description="Outside the campaign's own country")
    starts_on: str
    letters: int


class Report(BaseModel):
    period: dict[str, str | None]
    generated_on: str
    totals: Totals
    by_day: dict[str, int]
    by_week: dict[str, int]
    by_month: dict[str, int]
    by_channel: dict[str, int]
    by_event: list[EventFigure]
    letters_without_event: int
    by_city: dict[str, int] = Field(description="Letters per city: gazetteer cities by their English name, others "
                                             "as most often typed; kiosk letters without a city take the event's")
    letters_without_city: int
    letters_not_a_place: int = Field(0, description="Letters whose city is a phone number, an address or a link")
    cities_not_in_gazetteer: dict[str, int] = Field(default_factory=dict,
                                                    description="Cities the gazetteer does not know (to add to it)")
    by_country: dict[str, int] = Field(description="Letters per country (ISO code when known)")
    letters_without_country: int = 0
    country_names: dict[str, str] = Field(default_factory=dict, description="English names of the countries' codes")
    by_status: dict[str, int]
    prisoners: PrisonerFigures
    per_prisoner: list[PrisonerLetters] = Field(description="Every prisoner in the directory, fewest letters first")
    moderation: ModerationFigures
    delivery: DeliveryFigures


def moderation_figures(by_moderation: Mapping[str | None, int], by_status: Mapping[str, int],
                       categories: Mapping[str, int], top: int = 10) -> ModerationFigures:
    return ModerationFigures(
        auto_approved=by_moderation.get("auto", 0),
        approved_after_review=by_moderation.get("approved", 0),
        redacted=by_moderation.get("redacted", 0),
        translated=by_moderation.get("translated", 0),
        rejected=by_status.get("rejected", 0),
        awaiting_review=by_status.get("review_needed", 0),
        awaiting_translation=by_status.get("awaiting_translation", 0),
        top_finding_categories=dict(list(categories.items())[:top]),
    )


def delivery_figures(by_status: Mapping[str, int], held_by_kind: Mapping[str | None, int] | None = None,
                     **rest) -> DeliveryFigures:
    """Outcomes from each letter's furthest status (a letter's status only moves forward).

    A reply means the letter reached the prisoner, so answered letters count as handed over too;
    everything from "sent" on has left the campaign.
    """
    s = by_status.get
    handed_over = s("handed_over", 0) + s("answered", 0)
    return DeliveryFigures(
        in_progress=s("ready", 0) + s("queued", 0) + s("bundled", 0),
        sent=s("sent", 0) + handed_over + s("blocked", 0) + s("returned", 0),
        handed_over=handed_over,
        blocked=s("blocked", 0),
        returned=s("returned", 0),
        held=s("held", 0),
        held_by_reason=hold_reasons(held_by_kind or {}),
        failed=s("failed", 0),
        answered=s("answered", 0),
        **rest,
    )


def hold_reasons(by_kind: Mapping[str | None, int]) -> dict[str, int]:
    reasons = {kind: 0 for kind in HOLD_KINDS}
    for kind, letters in by_kind.items():
        key = kind if kind in reasons else UNKNOWN_HOLD
        reasons[key] = reasons.get(key, 0) + letters
    return {kind: n for kind, n in reasons.items() if n or kind in HOLD_KINDS}


def stuck_figure(failed: int, oldest_failed_at: datetime | None, now: datetime) -> DeliveryStuck:
    since = max(0.0, (now - oldest_failed_at).total_seconds()) if oldest_failed_at is not None and failed else None
    return DeliveryStuck(stuck=failed > 0, failed_letters=failed, failing_since_s=since,
                         failing_since=humane_duration(since))


HISTOGRAM_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 4, "2–4"), (5, 9, "5–9"), (10, 19, "10–19"), (20, 49, "20–49"),
                  (50, None, "50+"))


def histogram(counts: Iterable[int]) -> dict[str, int]:
    bins = {label: 0 for *_, label in HISTOGRAM_BINS}
    for letters in counts:
        for low, high, label in HISTOGRAM_BINS:
            if letters >= low and (high is None or letters <= high):
                bins[label] += 1
                break
    return bins


def prisoner_figures(directory: list[dict], per_prisoner: Mapping[str, int],
                     passed_on: Mapping[str, int] | None = None) -> PrisonerFigures:
    """Written to counts letters written; reached counts letters an intermediary passed on."""
    held = [p for p in directory if p.get("status", "detained") in HELD]
    held_counts = [per_prisoner.get(p["_id"], 0) for p in held]
    passed_on = passed_on or {}
    return PrisonerFigures(
        in_directory=len(directory),
        held=len(held),
        written_to=sum(1 for letters in per_prisoner.values() if letters >= 1),
        written_to_well=sum(1 for letters in per_prisoner.values() if letters >= WELL_REACHED),
        reached=sum(1 for letters in passed_on.values() if letters >= 1),
        well_reached=sum(1 for letters in passed_on.values() if letters >= WELL_REACHED),
        held_without_letters=sum(1 for letters in held_counts if letters == 0),
        median_letters_per_held_prisoner=median(held_counts),
        histogram=histogram(held_counts),
    )


# --- Fair attention -------------------------------------------------------------------------------

class PrisonerAttention(BaseModel):
    id: str
    name_uk: str
    name_en: str
    status: str
    recent_letters: int = Field(description="Letters written to them in the last `days` days")
    letters_received: int = Field(description="All letters so far")


class BirthdayAttention(BaseModel):
    id: str
    name_uk: str
    name_en: str
    birthday: str = Field(description="Month and day, MM-DD")
    on: str = Field(description="The date of the coming birthday")
    in_days: int
    recent_letters: int


class Attention(BaseModel):
    days: int
    birthdays_within: int
    fewest_recent_letters: list[PrisonerAttention]
    upcoming_birthdays: list[BirthdayAttention]


def next_birthday(birthday: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        # 29 February is celebrated on 28 February in other years.
        day = min(birthday.day, calendar.monthrange(year, birthday.month)[1])
        candidate = date(year, birthday.month, day)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def attention(directory: list[dict], recent: Mapping[str, int], today: date, days: int,
              birthdays_within: int, limit: int = 20) -> Attention:
    """Held prisoners with the fewest letters lately, and those whose birthday is coming."""
    held = [p for p in directory if p.get("status", "detained") in HELD]

    def person(p: dict) -> dict:
        names = p.get("names") or {}
        return {"id": p["_id"], "name_uk": names.get("uk", p["_id"]), "name_en": names.get("en", p["_id"]),
                "recent_letters": recent.get(p["_id"], 0)}

    fewest = sorted(held, key=lambda p: (recent.get(p["_id"], 0), p.get("letters_received", 0), p["_id"]))[:limit]
    birthdays = []
    for p in held:
        if not p.get("birthday"):
            continue
        born = date.fromisoformat(str(p["birthday"]))
        coming = next_birthday(born, today)
        if (coming - today).days <= birthdays_within:
            birthdays.append(BirthdayAttention(**person(p), birthday=born.strftime("%m-%d"), on=coming.isoformat(),
                                               in_days=(coming - today).days))
    return Attention(
        days=days,
        birthdays_within=birthdays_within,
        fewest_recent_letters=[PrisonerAttention(**person(p), status=p.get("status", "detained"),
                                                 letters_received=p.get("letters_received", 0)) for p in fewest],
        upcoming_birthdays=sorted(birthdays, key=lambda b: (b.in_days, b.id)),
    )


def recent_period(today: date, days: int) -> tuple[date, date]:
    return today - timedelta(days=max(days, 1) - 1), today


# --- The public summary ---------------------------------------------------------------------------

PublicCount = int | str


class PublicPlace(BaseModel):
    name: str
    letters: PublicCount


class PublicEvent(BaseModel):
    name: str
    city: str
    country: str
    starts_on: str
    letters: PublicCount


class PublicSummary(BaseModel):
    """Safe to publish: no writer, no private fact about a prisoner, no count small enough to point at someone."""

    period: dict[str, str | None]
    letters: PublicCount
    prisoners_written_to: PublicCount
    prisoners_reached: PublicCount = Field(description="Prisoners who had at least one letter passed on")
    handed_over: PublicCount
    replies: PublicCount
    events_abroad: PublicCount = 0
    # How many places, not how many letters: a count of cities points at no one, so it is never hidden.
    event_count: int = Field(0, description="Campaign events with at least one letter")
    city_count: int = Field(0, description="Cities letters came from, after the gazetteer (small ones included)")
    country_count: int = Field(0, description="Countries letters came from")
    by_channel: dict[str, PublicCount]
    cities: list[PublicPlace]
    countries: list[PublicPlace]
    events: list[PublicEvent]
    note: str = (f"Counts below {SMALL_COUNT} are shown as \"{SMALL}\"; cities and countries with fewer letters "
                 "are counted under \"other\".")


def suppress(count: int) -> PublicCount:
    return SMALL if 0 < count < SMALL_COUNT else count


def fold_small(by_name: Mapping[str, int], other: str = "other") -> list[PublicPlace]:
    """Places with fewer than SMALL_COUNT letters are folded into one "other" line (itself suppressed if small)."""
    shown = [PublicPlace(name=name, letters=letters) for name, letters in by_name.items() if letters >= SMALL_COUNT]
    folded = sum(letters for letters in by_name.values() if letters < SMALL_COUNT)
    if folded:
        shown.append(PublicPlace(name=other, letters=suppress(folded)))
    return shown


def public_summary(report: Report) -> PublicSummary:
    return PublicSummary(
        period=report.period,
        letters=suppress(report.totals.letters),
        prisoners_written_to=suppress(report.totals.prisoners_written_to),
        prisoners_reached=suppress(report.totals.prisoners_reached),
        handed_over=suppress(report.delivery.handed_over),
        replies=suppress(report.delivery.replies),
        events_abroad=suppress(report.totals.events_abroad),
        event_count=report.totals.events,
        city_count=report.totals.cities,
        country_count=report.totals.countries,
        by_channel={channel: suppress(letters) for channel, letters in report.by_channel.items()},
        cities=fold_small(report.by_city),
        countries=fold_small(report.by_country),
        events=[PublicEvent(name=e.name, city=e.city, country=e.country, starts_on=e.starts_on,
                            letters=suppress(e.letters)) for e in report.by_event if e.letters > 0],
    )
