"""An in-memory stand-in for ResultsQueries: the same answers, computed from plain letter documents."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from services.intake.domain import REACHED_STATUSES
from services.intake.results.places import stored_place


def make_letter(number: int = 0, **overrides) -> dict[str, Any]:
    """A letter document as intake stores it, with only the fields the results read."""
    day = overrides.pop("day", "2026-03-10")
    doc = {"_id": f"l_{number}", "prisoner_id": "p_1", "channel": "web", "campaign_event_id": None,
           "writer_city": "Kyiv", "writer_country": "UA", "page_keys": [], "status": "received",
           "submitted_day": day, "submitted_epoch": 0.0, "written_day": day, "written_epoch": 0.0}
    doc.update(overrides)
    doc.setdefault("place", stored_place(doc["writer_city"], doc["writer_country"], doc["campaign_event_id"]))
    # As intake keeps it with the status: the prisoner, while the letter has reached them.
    doc.setdefault("reached_prisoner", doc["prisoner_id"] if doc["status"] in REACHED_STATUSES else None)
    return doc


def make_reply(reply_id: str, letter: dict[str, Any]) -> dict[str, Any]:
    """A reply-and-letter document as intake keeps it in `letter_replies`."""
    return {"_id": f"{reply_id}:{letter['_id']}", "reply_id": reply_id, "letter_id": letter["_id"],
            "prisoner_id": letter["prisoner_id"], "campaign_event_id": letter["campaign_event_id"],
            "written_day": letter["written_day"], "received_epoch": 0.0}


class FakeResultsQueries:
    def __init__(self, letters: list[dict], prisoners: list[dict] | None = None, events: list[dict] | None = None,
                 replies: list[dict] | None = None):
        self.letters = letters
        self.directory = prisoners or []
        self.events = events or []
        self.replies = replies or []

    def _matching(self, match: dict, documents: list[dict] | None = None) -> list[dict]:
        found = []
        for doc in self.letters if documents is None else documents:
            ok = True
            for field, wanted in match.items():
                value = doc.get(field)
                if isinstance(wanted, dict) and "$nin" in wanted:
                    ok &= value not in wanted["$nin"]
                elif isinstance(wanted, dict) and "$in" in wanted:
                    ok &= value in wanted["$in"]
                elif isinstance(wanted, dict) and "$gt" in wanted:
                    ok &= isinstance(value, (int, float)) and value > wanted["$gt"]
                elif isinstance(wanted, dict) and "$lte" in wanted:
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
                written = doc["submitted_epoch"] if doc.get("written_epoch") is None else doc["written_epoch"]
                doc["handed_over_after_s"] = max(0.0, doc["handed_over_epoch"] - written)
                noted += 1
        return noted

    async def distinct_replies(self, match: dict) -> int:
        return len({doc["reply_id"] for doc in self._matching(match, self.replies)})

    async def any_letter_to(self, prisoner_ids: list[str]) -> bool:
        return any(doc["prisoner_id"] in prisoner_ids for doc in self.letters)

    async def oldest_failure(self, match: dict) -> float | None:
        failed = [doc["failed_epoch"] for doc in self._matching({**match, "status": "failed"})
                  if doc.get("failed_epoch")]
        return min(failed) if failed else None

    async def prisoners(self) -> list[dict]:
        return list(self.directory)

    async def campaign_events(self) -> list[dict]:
        return list(self.events)

    async def gather(self, **calls) -> dict:
        return {name: await call for name, call in calls.items()}


def _key(value):
    return tuple(value) if isinstance(value, list) else value
