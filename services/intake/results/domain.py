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
from datetime import date, timedelta

from pydantic import BaseModel, Field

# Prisoners still held are the ones letters can reach; released or deceased ones only count as reached.
HELD = ("detained", "transferred")
# A prisoner with this many letters in the period is "well reached".
WELL_REACHED = 5
# Public counts below this could point at one writer (a city, an event with 2 letters): shown as "<5".
SMALL_COUNT = 5
SMALL = "<5"
# The open end of a period without a start: the campaign's data cannot be older.
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class ReportFilter:
    """A period of days (both ends included, UTC, as `submitted_day`) and optionally one campaign event."""

    date_from: date | None = None
    date_to: date | None = None
    event_id: str | None = None

    def bounds(self, today: date) -> tuple[date, date] | None:
        if self.date_from is None and self.date_to is None:
            return None
        return self.date_from or EARLIEST, self.date_to or today

    def describe(self) -> dict[str, str | None]:
        return {"from": _iso(self.date_from), "to": _iso(self.date_to), "event": self.event_id}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def day_pattern(first: date, last: date) -> str:
    """A regular expression matching exactly the `YYYY-MM-DD` days from `first` to `last`.

    The period is matched this way rather than with $gte/$lte: a range makes nx-27017's SQLite
    pick a single-field index and read every letter's document, while a pattern lets it scan the
    (dimension, submitted_day) index alone. MongoDB applies it to index keys just as well.
    Whole years and whole months collapse to one alternative each, so the pattern stays short.
    """
    if last < first:
        return "^$(?!x)x"  # matches nothing
    parts: list[str] = []
    for year in range(first.year, last.year + 1):
        if first <= date(year, 1, 1) and date(year, 12, 31) <= last:
            parts.append(rf"{year:04d}-\d\d-\d\d")
            continue
        for month in range(1, 13):
            start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
            if end < first or start > last:
                continue
            if first <= start and end <= last:
                parts.append(rf"{year:04d}-{month:02d}-\d\d")
            else:
                days = range(max(start, first).day, min(end, last).day + 1)
                parts.append(f"{year:04d}-{month:02d}-(?:{'|'.join(f'{d:02d}' for d in days)})")
    return "^(?:" + "|".join(parts) + ")$"


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


class Totals(BaseModel):
    letters: int = Field(description="Letters written in the period (every channel, every outcome)")
    prisoners_reached: int
    events: int = Field(description="Campaign events with at least one letter in the period")
    cities: int = Field(description="Distinct writers' cities (spellings merged)")
    countries: int


class PrisonerFigures(BaseModel):
    in_directory: int
    held: int = Field(description="Detained or transferred: those letters can still reach")
    reached: int = Field(description="Prisoners with at least one letter in the period")
    well_reached: int = Field(description=f"Prisoners with at least {WELL_REACHED} letters in the period")
    held_without_letters: int
    median_letters_per_held_prisoner: float | None
    histogram: dict[str, int] = Field(description="Held prisoners by letters received in the period (bins)")


class ModerationFigures(BaseModel):
    auto_approved: int = Field(description="Passed screening alone")
    approved_after_review: int
    redacted: int = Field(description="Approved after a moderator's redaction")
    rejected: int
    awaiting_review: int
    top_finding_categories: dict[str, int] = Field(description="Letters per finding category, most frequent first")


class DeliveryFigures(BaseModel):
    in_progress: int = Field(description="Approved, queued or bundled, not yet sent")
    sent: int = Field(description="Left the campaign: sent, and everything after it")
    handed_over: int = Field(description="Handed over to the prisoner (answered letters included)")
    blocked: int = Field(description="Blocked by the prison censor")
    returned: int = Field(description="Returned by the prison or the censor")
    held: int = Field(description="Held, e.g. the prisoner was transferred or released")
    failed: int
    answered: int = Field(description="Replies received")
    blocked_reasons: dict[str, int] = Field(default_factory=dict)
    returned_reasons: dict[str, int] = Field(default_factory=dict)
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
    city: str
    country: str
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
    by_city: dict[str, int]
    letters_without_city: int
    by_country: dict[str, int]
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
        rejected=by_status.get("rejected", 0),
        awaiting_review=by_status.get("review_needed", 0),
        top_finding_categories=dict(list(categories.items())[:top]),
    )


def delivery_figures(by_status: Mapping[str, int], **rest) -> DeliveryFigures:
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
        failed=s("failed", 0),
        answered=s("answered", 0),
        **rest,
    )


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


def prisoner_figures(directory: list[dict], per_prisoner: Mapping[str, int]) -> PrisonerFigures:
    held = [p for p in directory if p.get("status", "detained") in HELD]
    held_counts = [per_prisoner.get(p["_id"], 0) for p in held]
    return PrisonerFigures(
        in_directory=len(directory),
        held=len(held),
        reached=sum(1 for letters in per_prisoner.values() if letters >= 1),
        well_reached=sum(1 for letters in per_prisoner.values() if letters >= WELL_REACHED),
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
    prisoners_reached: PublicCount
    handed_over: PublicCount
    replies: PublicCount
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
        prisoners_reached=suppress(report.totals.prisoners_reached),
        handed_over=suppress(report.delivery.handed_over),
        replies=suppress(report.delivery.answered),
        by_channel={channel: suppress(letters) for channel, letters in report.by_channel.items()},
        cities=fold_small(report.by_city),
        countries=fold_small(report.by_country),
        events=[PublicEvent(name=e.name, city=e.city, country=e.country, starts_on=e.starts_on,
                            letters=suppress(e.letters)) for e in report.by_event if e.letters > 0],
    )
