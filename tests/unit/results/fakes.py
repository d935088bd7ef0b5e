"""An in-memory stand-in for ResultsQueries: the same answers, computed from plain letter documents."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any


def make_letter(number: int = 0, **overrides) -> dict[str, Any]:
    """A letter document as intake stores it, with only the fields the results read."""
    day = overrides.pop("day", "2026-03-10")
    doc = {"_id": f"l_{number}", "prisoner_id": "p_1", "channel": "web", "campaign_event_id": None,
           "writer_city": "Kyiv", "writer_country": "UA", "page_keys": [], "status": "received",
           "submitted_day": day, "submitted_epoch": 0.0}
    doc.update(overrides)
    return doc


class FakeResultsQueries:
    def __init__(self, letters: list[dict], prisoners: list[dict] | None = None, events: list[dict] | None = None):
        self.letters = letters
        self.directory = prisoners or []
        self.events = events or []

    def _matching(self, match: dict) -> list[dict]:
        found = []
        for doc in self.letters:
            ok = True
            for field, wanted in match.items():
                value = doc.get(field)
                if isinstance(wanted, dict) and "$lte" in wanted:
                    ok &= value is not None and wanted["$gte"] <= value <= wanted["$lte"]
                elif isinstance(wanted, dict) and "$regex" in wanted:
                    ok &= isinstance(value, str) and re.search(wanted["$regex"], value) is not None
                elif isinstance(wanted, dict) and "$size" in wanted:
                    ok &= len(value or []) == wanted["$size"]
                elif isinstance(wanted, dict) and "$gte" in wanted:
                    bound = wanted["$gte"]
                    comparable = (str,) if isinstance(bound, str) else (int, float)
                    if isinstance(value, list):  # as MongoDB: any element
                        ok &= any(isinstance(v, comparable) and v >= bound for v in value)
                    else:
                        ok &= isinstance(value, comparable) and value >= bound
                else:
                    ok &= value == wanted
            if ok:
                found.append(doc)
        return found

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
            if doc.get("handed_over_epoch") and doc.get("handed_over_after_s") is None and noted < limit:
                doc["handed_over_after_s"] = max(0.0, doc["handed_over_epoch"] - doc["submitted_epoch"])
                noted += 1
        return noted

    async def prisoners(self) -> list[dict]:
        return list(self.directory)

    async def campaign_events(self) -> list[dict]:
        return list(self.events)

    async def gather(self, **calls) -> dict:
        return {name: await call for name, call in calls.items()}


def _key(value):
    return tuple(value) if isinstance(value, list) else value
