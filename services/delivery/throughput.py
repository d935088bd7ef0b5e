"""Throughput over time, for the operators' monitor: how many letters reached each step per hour over
the last 48 hours, or per day over the last 30 days.

Pure: the letters' movements and the time in, the buckets out. Buckets are whole UTC hours or UTC
days (a boundary is a multiple of 3,600 or 86,400 seconds since the Unix epoch, which counts UTC); the newest
is the one `now` falls in, still filling. Every bucket is listed, those with nothing in them too, so
a quiet night shows as one. Each letter counts once per step, at the last time it reached it (the
times delivery keeps on the letter): held twice in the window, it counts at its latest hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from services.delivery.domain import DAY_S, Movement

HOUR_S = 3600
ThroughputRange = Literal["48h", "30d"]
# The steps an operator follows, as `Movement` names them.
STEPS = ("queued", "sent", "handed_over", "held")


@dataclass(frozen=True)
class Span:
    bucket: Literal["hour", "day"]
    bucket_s: int
    buckets: int


SPANS: dict[str, Span] = {"48h": Span("hour", HOUR_S, 48), "30d": Span("day", DAY_S, 30)}


class StepCounts(BaseModel):
    queued: int = Field(0, description="Letters that arrived at delivery: approved and ready to route")
    sent: int = Field(0, description="Letters sent to an intermediary in a bundle")
    handed_over: int = Field(0, description="Letters whose hand-over was confirmed")
    held: int = Field(0, description="Letters put on hold: no route, prisoner released or moved")


class ThroughputBucket(StepCounts):
    start: datetime = Field(description="Where the bucket begins (UTC); it lasts `bucket_s`")


class ThroughputOverTime(BaseModel):
    range: ThroughputRange
    bucket: Literal["hour", "day"] = Field(description="Each bucket is one UTC hour or one UTC day")
    bucket_s: int = Field(description="A bucket's length in seconds", examples=[3600])
    start: datetime = Field(description="The oldest bucket's start (UTC)")
    end: datetime = Field(description="The newest bucket's end (UTC); that bucket holds the time asked")
    buckets: list[ThroughputBucket] = Field(description="Oldest first, every one of them, empty ones too")
    totals: StepCounts = Field(description="The buckets added up")


_UNIX = datetime(1970, 1, 1, tzinfo=UTC)


def window(now: datetime, span: Span) -> tuple[datetime, datetime]:
    """The oldest bucket's start and the newest one's end: the newest holds `now`."""
    bucket = timedelta(seconds=span.bucket_s)
    end = _UNIX + ((now - _UNIX) // bucket + 1) * bucket
    return end - span.buckets * bucket, end


def over_time(movements: Iterable[Movement], now: datetime, range_: ThroughputRange) -> ThroughputOverTime:
    """Letters per bucket and step. A time outside the window (before it, or after `now`'s bucket, as a
    replica's clock ahead of this one's may write) is not counted."""
    span = SPANS[range_]
    start, end = window(now, span)
    bucket_length = timedelta(seconds=span.bucket_s)
    counts = [dict.fromkeys(STEPS, 0) for _ in range(span.buckets)]
    for movement in movements:
        for step in STEPS:
            at = getattr(movement, step)
            if at is not None and start <= at < end:
                counts[(at - start) // bucket_length][step] += 1
    totals = {step: sum(bucket[step] for bucket in counts) for step in STEPS}
    return ThroughputOverTime(
        range=range_, bucket=span.bucket, bucket_s=span.bucket_s, start=start, end=end,
        buckets=[ThroughputBucket(start=start + n * bucket_length, **bucket) for n, bucket in enumerate(counts)],
        totals=StepCounts(**totals))
