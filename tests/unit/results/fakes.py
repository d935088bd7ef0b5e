"""An in-memory stand-in for ResultsQueries: the same answers, computed from plain letter documents."""

from __future__ import annotations

import operator
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from services.intake.domain import REACHED_STATUSES
from services.intake.results.places import stored_place


def noon(day: str) -> datetime:
    """The time a test letter of `day` ("YYYY-MM-DD") was written or received at."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def make_letter(number: int = 0, **overrides) -> dict[str, Any]:
    """A letter document as intake stores it, with only the fields the results read: received at noon of
    `day`, written (counted at) noon of `written_day` (the same day unless given)."""
    day = overrides.pop("day", "2026-03-10")
    written_day = overrides.pop("written_day", day)
    doc = {"_id": f"l_{number}", "prisoner_id": "p_1", "channel": "web", "campaign_event_id": None,
           "writer_city": "Kyiv", "writer_country": "UA", "page_keys": [], "status": "received",
           "submitted_day": day, "submitted_at": noon(day), "written_day": written_day, "counted_at": noon(written_day)}
    doc.update(overrides)
    doc.setdefault("place", stored_place(doc["writer_city"], doc["writer_country"], doc["campaign_event_id"]))
    # As intake keeps it with the status: the prisoner, while the letter has reached them.
    doc.setdefault("reached_prisoner", doc["prisoner_id"] if doc["status"] in REACHED_STATUSES else None)
    return doc


def make_reply(reply_id: str, letter: dict[str, Any]) -> dict[str, Any]:
    """A reply-and-letter document as intake keeps it in `letter_replies`."""
    return {"_id": f"{reply_id}:{letter['_id']}", "reply_id": reply_id, "letter_id": letter["_id"],
            "prisoner_id": letter["prisoner_id"], "campaign_event_id": letter["campaign_event_id"],
            "written_day": letter["written_day"], "received_at": letter["counted_at"]}


class FakeResultsQueries:
    def __init__(self, letters: list[dict], prisoners: list[dict] | None = None, events: list[dict] | None = None,
                 replies: list[dict] | None = None):
        self.letters = letters
        self.directory = prisoners or []
        self.events = events or []
        self.replies = replies or []

    def _matching(self, match: dict, documents: list[dict] | None = None) -> list[dict]:
        return [doc for doc in (self.letters if documents is None else documents)
                if all(_holds(doc.get(field), wanted) for field, wanted in match.items())]

    async def ensure_indexes(self) -> None:
        return None

    async def count_by(self, field: str, match: dict) -> dict:
        return dict(Counter(_key(doc.get(field)) for doc in self._matching(match)))

    async def count_present(self, field: str, match: dict) -> dict:
        if field in match:
            return await self.count_by(field, match)
        return await self.count_by(field, {**match, field: {"$gte": ""}})

    async def typed_by_channel(self, match: dict) -> dict:
        return await self.count_by("channel", {**match, "page_keys": {"$size": 0}})

    async def by_category_combination(self, match: dict) -> dict:
        rows = Counter(tuple(sorted(doc.get("finding_categories") or [])) for doc in self._matching(match))
        return {key: n for key, n in rows.items() if key}

    async def handover_count(self, match: dict) -> int:
        return len(self._matching({**match, "handed_over_after_s": {"$gte": 0}}))

    async def handover_delays_at(self, match: dict, skip: int, take: int) -> list[float]:
        delays = sorted(doc["handed_over_after_s"] for doc in self._matching({**match, "handed_over_after_s": {"$gte": 0}}))
        return delays[skip:skip + take]

    async def note_handover_delays(self, limit: int = 2000) -> int:
        noted = 0
        for doc in self.letters:
            if doc.get("handed_over_at") and doc.get("handed_over_after_s") is None and noted < limit:
                written = doc.get("counted_at") or doc["submitted_at"]
                doc["handed_over_after_s"] = max(0.0, (doc["handed_over_at"] - written).total_seconds())
                doc["handed_over_after_h"] = int(doc["handed_over_after_s"] // 3600)
                noted += 1
        return noted

    async def distinct_replies(self, match: dict) -> int:
        return len({doc["reply_id"] for doc in self._matching(match, self.replies)})

    async def any_letter_to(self, prisoner_ids: list[str]) -> bool:
        return any(doc["prisoner_id"] in prisoner_ids for doc in self.letters)

    async def oldest_failure(self, match: dict) -> datetime | None:
        failed = [doc["failed_at"] for doc in self._matching({**match, "status": "failed"})
                  if doc.get("failed_at")]
        return min(failed) if failed else None

    async def prisoners(self) -> list[dict]:
        return list(self.directory)

    async def campaign_events(self) -> list[dict]:
        return list(self.events)

    async def gather(self, **calls) -> dict:
        return {name: await call for name, call in calls.items()}


COMPARISONS = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def _holds(value: Any, wanted: Any) -> bool:
    """Whether a document's value meets a condition, as MongoDB decides: a comparison only between values
    of one kind (texts, numbers, times), on a list any element."""
    if not isinstance(wanted, dict):
        return value == wanted
    for op, bound in wanted.items():
        if op == "$nin":
            ok = value not in bound
        elif op == "$in":
            ok = value in bound
        elif op == "$size":
            ok = len(value or []) == bound
        else:
            ok = any(_comparable(v, bound) and COMPARISONS[op](v, bound)
                     for v in (value if isinstance(value, list) else [value]))
        if not ok:
            return False
    return True


def _comparable(value: Any, bound: Any) -> bool:
    kinds = (str,), (int, float), (datetime,)
    return any(isinstance(value, kind) and isinstance(bound, kind) for kind in kinds) and not isinstance(value, bool)


def _key(value):
    return tuple(value) if isinstance(value, list) else value
