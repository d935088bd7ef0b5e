"""In-memory stand-ins for sorting's ports. tests/integration/sorting runs the same repository
tests over these and the MongoDB adapters, so the fakes cannot drift from the real thing."""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.sorting.adapters import QUEUE_STATES, STALLED_SINCE, queue_fingerprint
from services.sorting.domain import STALLED_APPROVAL_S
from services.sorting.ports import QueueFilter
from shared.mongo import bson_time
from shared.s3 import StoredObject

_ticks = itertools.count()


class MemorySortedLetters:
    def __init__(self) -> None:
        self.letters: dict[str, dict[str, Any]] = {}
        self.transitions: list[tuple[str, str]] = []
        # The events each move was written with, by letter, as WithEvents stores them with the change;
        # the use case also publishes them (to the recording outbox).
        self.carried: dict[str, list[Any]] = {}

    async def register(self, facts: dict[str, Any]) -> dict[str, Any]:
        letter_id = facts["letter_id"]
        if letter_id not in self.letters:
            self.letters[letter_id] = {
                **_as_stored({k: v for k, v in facts.items() if k != "letter_id"}), "_id": letter_id, "state": "received",
                "revision": 0, "round": 0, "scan_key": f"scans/{letter_id}-key.pdf", "received_at": _now(),
            }
        return copy.deepcopy(self.letters[letter_id])

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        letter = self.letters.get(letter_id)
        return copy.deepcopy(letter) if letter else None

    async def mark_review_needed(self, letter_id: str, announcing: Sequence[Any] = ()) -> bool:
        return self._move(letter_id, {"state": "received"}, "review_needed", announcing)

    async def mark_approved(self, letter_id: str, by: str, revision: int | None = None,
                            facts: dict[str, Any] | None = None) -> bool:
        expected: dict[str, Any] = {"state": "review_needed"}
        if revision is not None:
            expected["revision"] = revision
        return self._move(letter_id, expected, "approved", (), **{"decided_by": by, "decided_at": _now(),
                                                              **(facts or {})})

    async def mark_first_approval(self, letter_id: str, by: str, revision: int, round_: int) -> bool:
        return self._move(letter_id, {"state": "review_needed", "revision": revision}, "review_needed", (),
                          first_approved_by=by, first_approved_revision=revision, first_approved_round=round_)

    async def mark_rejected(self, letter_id: str, by: str, reason: str, facts: dict[str, Any] | None = None,
                            announcing: Sequence[Any] = ()) -> bool:
        return self._move(letter_id, {"state": "review_needed"}, "rejected", announcing,
                          **{"decided_by": by, "decided_at": _now(), "reason": reason, **(facts or {})})

    async def mark_withdrawn(self, letter_id: str, from_states: tuple[str, ...], announcing: Sequence[Any] = ()) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter["state"] not in from_states:
            return False
        return self._move(letter_id, {"state": letter["state"]}, "withdrawn", announcing,
                          withdrawn_from=letter["state"])

    async def mark_redacted(self, letter_id: str, revision: int, changes: dict[str, Any], by: str) -> bool:
        return self._move(letter_id, {"state": "review_needed", "revision": revision}, "review_needed", (),
                          **changes, revision=revision + 1, redacted_by=by)

    async def mark_undone(self, letter_id: str, by: str, round_: int, now: datetime) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter.get("undo_until") is None or not letter["undo_until"] > bson_time(now):
            return False
        return self._move(letter_id, {"state": "approved", "round": round_}, "review_needed", (), round=round_ + 1,
                          undone_by=by, scan_key=f"scans/{letter_id}-key{round_ + 1}.pdf")

    async def mark_ready(self, letter_id: str, from_state: str, scan: StoredObject, pages: int,
                         announcing: Sequence[Any] = ()) -> bool:
        return self._move(letter_id, {"state": from_state, "scan_key": scan.key}, "ready", announcing,
                          scan_sha256=scan.sha256, scan_bytes=scan.size, pages=pages)

    def _move(self, letter_id: str, expected: dict[str, Any], state: str, announcing: Sequence[Any] = (),
              **facts: Any) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or any(letter.get(k) != v for k, v in expected.items()):
            return False
        if letter["state"] != state:
            letter[f"{state}_at"] = _now()  # as the adapter stamps each move into a state
        letter.update(state=state, **_as_stored(facts))
        self.transitions.append((letter_id, state))
        self.carried.setdefault(letter_id, []).extend(announcing)
        return True

    def _waiting(self, where: QueueFilter, lane: str | None) -> list[dict[str, Any]]:
        wanted = {"prisoner_id": where.prisoner_id, "campaign_event_id": where.campaign_event_id,
                  "language_flag": where.language_flag}
        found = [letter for letter in self.letters.values() if letter["state"] == "review_needed"
                 and all(letter.get(k) == v for k, v in wanted.items() if v not in (None, ""))
                 and (lane is None or (letter.get("lane") == "fast") == (lane == "fast"))]
        return sorted(found, key=lambda letter: (letter["received_at"], letter["_id"]))

    async def queue(self, where: QueueFilter, limit: int) -> tuple[int, list[dict[str, Any]]]:
        found = self._waiting(where, where.lane)
        return len(found), copy.deepcopy(found[:limit])

    async def lane_counts(self, where: QueueFilter) -> dict[str, int]:
        return {lane: len(self._waiting(where, lane)) for lane in ("fast", "careful")}

    async def queue_version(self) -> tuple[str, int]:
        waiting = [letter for letter in self.letters.values() if letter["state"] in QUEUE_STATES]
        rows = sorted(f"{letter['_id']}:{letter['state']}:{letter.get('revision', 0)}:{letter.get('lane')}"
                      for letter in waiting)
        return queue_fingerprint(rows), sum(letter["state"] == "review_needed" for letter in waiting)

    async def queue_facets(self) -> dict[str, list[dict[str, Any]]]:
        prisoners: dict[str, dict[str, Any]] = {}
        events: dict[str, int] = {}
        for letter in self.letters.values():
            if letter["state"] != "review_needed":
                continue
            entry = prisoners.setdefault(letter["prisoner_id"], {"id": letter["prisoner_id"], "count": 0,
                                                                 "name": letter["prisoner_name_ru"]})
            entry["count"] += 1
            if letter.get("campaign_event_id"):
                events[letter["campaign_event_id"]] = events.get(letter["campaign_event_id"], 0) + 1
        return {"prisoners": sorted(prisoners.values(), key=lambda p: p["name"]),
                "campaign_events": [{"id": k, "count": v} for k, v in sorted(events.items())]}

    async def due_releases(self, now: datetime, limit: int) -> list[str]:
        now = bson_time(now)
        approved = [letter for letter in self.letters.values()
                    if letter["state"] == "approved" and not letter.get("release_parked")]
        due = sorted((letter for letter in approved if "release_at" in letter and letter["release_at"] < now),
                     key=lambda letter: letter["release_at"])
        # Approved before approvals had a release time, as the adapter finds them.
        older = [letter for letter in approved if "release_at" not in letter
                 and letter.get("decided_at", now) < now - timedelta(seconds=STALLED_APPROVAL_S)]
        return [letter["_id"] for letter in due[:limit]] + [letter["_id"] for letter in older[:limit]]

    async def release_failed(self, letter_id: str, error: str, park_after: int) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter["state"] != "approved":
            return False
        letter["release_failures"] = letter.get("release_failures", 0) + 1
        letter["release_error"] = error[:500]
        if letter["release_failures"] < park_after or letter.get("release_parked"):
            return False
        letter["release_parked"] = True
        return True

    async def stuck_releases(self, limit: int) -> list[dict[str, Any]]:
        stuck = sorted((letter for letter in self.letters.values()
                        if letter["state"] == "approved" and letter.get("release_parked")),
                       key=lambda letter: letter["decided_at"])
        return copy.deepcopy(stuck[:limit])

    async def unpark_release(self, letter_id: str) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter["state"] != "approved" or not letter.get("release_parked"):
            return False
        letter["release_parked"], letter["release_failures"] = False, 0
        return True

    async def awaiting_release(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        waiting = sorted((letter for letter in self.letters.values() if letter["state"] == "approved"
                          and letter.get("undo_until") is not None and letter["undo_until"] > bson_time(now)),
                         key=lambda letter: letter["undo_until"])
        return copy.deepcopy(waiting[:limit])

    async def recent_decisions(self, limit: int) -> list[dict[str, Any]]:
        decided = sorted((letter for letter in self.letters.values() if letter.get("decided_comparable")
                          and letter["state"] in ("approved", "ready", "rejected")),
                         key=lambda letter: letter["decided_at"], reverse=True)
        return [{k: letter[k] for k in ("_id", "decided_flagged", "decided_outcome", "decided_at")}
                for letter in decided[:limit]]

    async def mark_awaiting_translation(self, letter_id: str, from_state: str, facts: dict[str, Any],
                                        revision: int | None = None, announcing: Sequence[Any] = ()) -> bool:
        expected: dict[str, Any] = {"state": from_state}
        if revision is not None:
            expected["revision"] = revision
        return self._move(letter_id, expected, "awaiting_translation", announcing, **facts)

    async def mark_translated(self, letter_id: str, round_: int, changes: dict[str, Any],
                              announcing: Sequence[Any] = ()) -> bool:
        return self._move(letter_id, {"state": "awaiting_translation", "translation_round": round_}, "review_needed",
                          announcing, **changes)

    async def translation_queue(self, language: str | None, limit: int) -> tuple[int, list[dict[str, Any]]]:
        found = sorted((letter for letter in self.letters.values() if letter["state"] == "awaiting_translation"
                        and language in (None, "", letter.get("source_language"))),
                       key=lambda letter: (letter["received_at"], letter["_id"]))
        return len(found), copy.deepcopy(found[:limit])

    async def translation_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for letter in self.letters.values():
            if letter["state"] == "awaiting_translation":
                language = letter.get("source_language") or "und"
                counts[language] = counts.get(language, 0) + 1
        return counts

    async def translation_oldest_received_at(self) -> datetime | None:
        waiting = [letter["received_at"] for letter in self.letters.values()
                   if letter["state"] == "awaiting_translation"]
        return min(waiting, default=None)

    async def stalled(self, state: str, before: datetime, limit: int) -> tuple[int, list[tuple[str, datetime]]]:
        field = STALLED_SINCE[state]
        before = bson_time(before)
        found = sorted(((letter["_id"], letter[field]) for letter in self.letters.values()
                        if letter["state"] == state and field in letter and letter[field] < before),
                       key=lambda row: row[1])
        return len(found), found[:limit]


class MemoryDecisions:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    async def record(self, letter_id: str, decision: str, facts: dict[str, Any]) -> bool:
        key = f"{letter_id}:{decision}"
        if key in self.entries:
            return False
        self.entries[key] = {"_id": key, "letter_id": letter_id, "decision": decision.split(":")[0],
                             "at": _now(), "seq": next(_ticks), **facts}
        return True

    async def history(self, letter_id: str) -> list[dict[str, Any]]:
        return sorted((e for e in self.entries.values() if e["letter_id"] == letter_id), key=lambda e: e["seq"])


def _now() -> datetime:
    return bson_time(datetime.now(UTC))


def _as_stored(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as the adapter stores them: times to the millisecond, as BSON dates hold them."""
    def stored(value: Any) -> Any:
        if isinstance(value, datetime):
            return bson_time(value)
        return {k: stored(v) for k, v in value.items()} if isinstance(value, dict) else value
    return {name: stored(value) for name, value in facts.items()}


class MemoryScans:
    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects: dict[str, bytes] = dict(objects or {})
        self.puts = 0
        self.down = False

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        if self.down:
            raise ConnectionError("object store down")
        self.objects[key] = data
        self.puts += 1
        return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data))

    async def get(self, key: str) -> bytes:
        return self.objects[key]

    def scans(self) -> dict[str, bytes]:
        return {k: v for k, v in self.objects.items() if k.startswith("scans/")}


class MemoryPageLinks:
    async def presign_get(self, key: str, expires_s: int) -> str:
        return f"https://files.example.org/{key}?expires={expires_s}"
