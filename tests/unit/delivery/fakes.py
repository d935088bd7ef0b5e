"""In-memory stand-ins for delivery's ports. The same repository tests run against these and the
MongoDB adapters (tests/integration/delivery/test_repositories.py), so they cannot drift apart."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.delivery.bundle_store import OPEN_STATES
from services.delivery.config import DeliverySettings
from services.delivery.context import Delivery, Policy
from services.delivery.domain import WAITING_STATES, LinkAnswer, Movement, WaitingLetter
from services.delivery.model import DELIVERY_STATES, Bundle, Intermediary, OutgoingLetter, Prisoner, RouteStep
from services.delivery.ports import ChannelError, Confirmation, Parcel
from shared.events import LetterEvent
from shared.s3 import StoredObject
from tests.unit.fakes import RecordingOutbox


class Clock:
    def __init__(self, now: datetime = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _holds(doc: dict[str, Any], condition: dict[str, Any]) -> bool:
    """The part of MongoDB's filters the repositories use: equality, `$ne` and `$in`."""
    for key, wanted in condition.items():
        value = doc.get(key)
        if isinstance(wanted, dict) and "$ne" in wanted:
            if value == wanted["$ne"]:
                return False
        elif isinstance(wanted, dict) and "$in" in wanted:
            if value not in wanted["$in"]:
                return False
        elif value != wanted:
            return False
    return True


def _append(doc: dict[str, Any], history: RouteStep | None) -> None:
    if history is not None:
        doc["history"] = [*doc.get("history", []), history.model_dump()]


class MemoryOutgoing:
    def __init__(self, clock: Clock) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._clock = clock

    def _all(self, **match: Any) -> list[OutgoingLetter]:
        found = [OutgoingLetter.model_validate(d) for d in self.docs.values()
                 if all(d.get(k) == v for k, v in match.items())]
        return sorted(found, key=lambda letter: letter.queued_at)

    async def enqueue(self, letter: OutgoingLetter, announcing: Sequence[LetterEvent] = ()) -> bool:
        if letter.id in self.docs:
            return False
        self.docs[letter.id] = letter.model_dump()
        if letter.state == "held":  # held on arrival: stamped as a move to hold is
            self.docs[letter.id]["held_at"] = letter.changed_at
        return True

    async def get(self, letter_id: str) -> OutgoingLetter | None:
        doc = self.docs.get(letter_id)
        return OutgoingLetter.model_validate(doc) if doc else None

    async def move(self, letter_id: str, target: str, sources: Sequence[str], *, only_if: dict | None = None,
                   announcing: Sequence[LetterEvent] = (), history: RouteStep | None = None, **facts: Any) -> bool:
        doc = self.docs.get(letter_id)
        if doc is None or doc["state"] not in sources or not _holds(doc, only_if or {}):
            return False
        now = self._clock()
        doc.update(state=target, changed_at=now, **facts)
        if target != "queued":
            doc[f"{target}_at"] = now
        _append(doc, history)
        return True

    async def note(self, letter_id: str, *, only_if: dict[str, Any], announcing: Sequence[LetterEvent] = (),
                   history: RouteStep | None = None, **facts: Any) -> bool:
        doc = self.docs.get(letter_id)
        if doc is None or not _holds(doc, only_if):
            return False
        doc.update(changed_at=self._clock(), **facts)
        _append(doc, history)
        return True

    async def assign(self, letter_id: str, intermediary_id: str) -> bool:
        doc = self.docs.get(letter_id)
        if doc is None or doc["state"] != "queued":
            return False
        doc.update(intermediary_id=intermediary_id, changed_at=self._clock())
        return True

    async def unrouted(self, limit: int) -> list[OutgoingLetter]:
        return [letter for letter in self._all(state="queued") if letter.intermediary_id is None][:limit]

    async def queued_for(self, intermediary_id: str, limit: int) -> list[OutgoingLetter]:
        return self._all(intermediary_id=intermediary_id, state="queued")[:limit]

    async def load(self, intermediary_ids: Sequence[str]) -> dict[str, int]:
        return {i: len(self._all(intermediary_id=i, state="queued")) for i in intermediary_ids}

    async def intermediaries_with_queued(self) -> list[str]:
        return sorted({letter.intermediary_id for letter in self._all(state="queued") if letter.intermediary_id})

    async def of_prisoner(self, prisoner_id: str, states: Sequence[str]) -> list[OutgoingLetter]:
        return [letter for letter in self._all(prisoner_id=prisoner_id) if letter.state in states]

    async def in_bundle(self, bundle_id: str) -> list[OutgoingLetter]:
        return self._all(bundle_id=bundle_id)

    async def archive(self, letter_id: str, reason: str, announcing: Sequence[LetterEvent] = ()) -> bool:
        doc = self.docs.get(letter_id)
        if doc is None or doc["state"] != "held" or doc["archived"]:
            return False
        doc.update(archived=True, reason=reason, changed_at=self._clock())
        return True

    async def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(DELIVERY_STATES, 0)
        for doc in self.docs.values():
            counts[doc["state"]] += 1
        return counts

    async def waiting(self, limit: int) -> list[OutgoingLetter]:
        return self._all(state="queued")[:limit]

    async def waiting_letters(self) -> list[WaitingLetter]:
        return [WaitingLetter(x.id, x.prisoner_id, x.intermediary_id, x.state, x.queued_at)
                for x in self._all() if x.state in WAITING_STATES]

    async def held(self, limit: int) -> list[OutgoingLetter]:
        return self._all(state="held", archived=False)[:limit]

    async def movements_since(self, since: datetime) -> list[Movement]:
        rows = [Movement(d.get("queued_at"), d.get("sent_at"), d.get("handed_over_at"), d.get("held_at"))
                for d in self.docs.values()]
        return [m for m in rows if any(t is not None and t >= since for t in (m.queued, m.sent, m.handed_over, m.held))]

    async def stalled(self, state: str, before: datetime, limit: int) -> tuple[int, list[OutgoingLetter]]:
        found = sorted((x for x in self._all(state=state) if x.changed_at < before),
                       key=lambda letter: letter.changed_at)
        return len(found), found[:limit]


class MemoryIntermediaries:
    def __init__(self) -> None:
        self.people: dict[str, Intermediary] = {}

    async def get(self, intermediary_id: str) -> Intermediary | None:
        return self.people.get(intermediary_id)

    async def of_prisoner(self, prisoner_id: str) -> list[Intermediary]:
        return sorted((p for p in self.people.values() if p.prisoner_id == prisoner_id), key=lambda p: p.id)

    async def all(self) -> list[Intermediary]:
        return sorted(self.people.values(), key=lambda p: p.id)

    async def save(self, intermediary: Intermediary) -> None:
        self.people[intermediary.id] = intermediary

    async def is_empty(self) -> bool:
        return not self.people


class MemoryPrisoners:
    def __init__(self) -> None:
        self.prisoners: dict[str, Prisoner] = {}

    async def get(self, prisoner_id: str) -> Prisoner | None:
        return self.prisoners.get(prisoner_id)

    async def all(self) -> list[Prisoner]:
        return sorted(self.prisoners.values(), key=lambda p: p.id)

    async def save_if_newer(self, prisoner: Prisoner) -> bool:
        stored = self.prisoners.get(prisoner.id)
        if stored is not None and stored.updated_at >= prisoner.updated_at:
            return False
        self.prisoners[prisoner.id] = prisoner
        return True

    async def seed(self, prisoner: Prisoner) -> None:
        self.prisoners.setdefault(prisoner.id, prisoner)

    async def set_review(self, prisoner_id: str, reason: str | None) -> bool:
        if prisoner_id not in self.prisoners:
            return False
        self.prisoners[prisoner_id] = self.prisoners[prisoner_id].model_copy(update={"review_reason": reason})
        return True


class MemoryBundles:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def _all(self, states: Sequence[str], **match: Any) -> list[Bundle]:
        found = [Bundle.model_validate(d) for d in self.docs.values()
                 if d["state"] in states and all(d.get(k) == v for k, v in match.items())]
        return sorted(found, key=lambda b: b.created_at)

    async def create(self, bundle: Bundle) -> None:
        if bundle.id in self.docs:
            raise KeyError(bundle.id)
        self.docs[bundle.id] = bundle.model_dump()

    async def get(self, bundle_id: str) -> Bundle | None:
        doc = self.docs.get(bundle_id)
        return Bundle.model_validate(doc) if doc else None

    async def claim(self, bundle_id: str, states: Sequence[str], now: datetime, lease_s: float) -> bool:
        doc = self.docs.get(bundle_id)
        if doc is None or doc["state"] not in states or doc["leased_until"] >= now:
            return False
        doc["leased_until"] = now + timedelta(seconds=lease_s)
        return True

    async def update(self, bundle_id: str, states: Sequence[str], **facts: Any) -> bool:
        doc = self.docs.get(bundle_id)
        if doc is None or doc["state"] not in states:
            return False
        doc.update(facts)
        return True

    async def due(self, now: datetime, channels: Sequence[str], limit: int) -> list[Bundle]:
        due = [b for b in self._all(["ready"]) if b.channel in channels and b.next_attempt_at is not None
               and b.next_attempt_at <= now and b.leased_until < now]
        return sorted(due, key=lambda b: b.next_attempt_at)[:limit]

    async def stale_building(self, now: datetime) -> list[Bundle]:
        return [b for b in self._all(["building"]) if b.leased_until < now]

    async def open_for(self, intermediary_id: str) -> Bundle | None:
        found = self._all(OPEN_STATES, intermediary_id=intermediary_id)
        return found[0] if found else None

    async def of_prisoner(self, prisoner_id: str, states: Sequence[str]) -> list[Bundle]:
        return self._all(states, prisoner_id=prisoner_id)

    async def listing(self, states: Sequence[str], limit: int) -> list[Bundle]:
        return self._all(states)[:limit]


class MemoryConfirmations:
    def __init__(self) -> None:
        self.links: dict[str, Confirmation] = {}
        self.given: dict[str, LinkAnswer] = {}

    async def create(self, token_hash: str, bundle_id: str, intermediary_id: str, expires_at: datetime) -> None:
        self.links[token_hash] = Confirmation(bundle_id, intermediary_id, expires_at, None, None)

    async def find(self, token_hash: str) -> Confirmation | None:
        return self.links.get(token_hash)

    async def use(self, token_hash: str, outcome: str, now: datetime) -> bool:
        link = self.links.get(token_hash)
        if link is None or link.used_at is not None or link.expires_at <= now:
            return False
        self.links[token_hash] = Confirmation(link.bundle_id, link.intermediary_id, link.expires_at, now, outcome)
        return True

    async def delete(self, token_hash: str) -> None:
        self.links.pop(token_hash, None)

    async def answer(self, answer: LinkAnswer) -> bool:
        if answer.letter_id in self.given:
            return False
        self.given[answer.letter_id] = answer
        return True

    async def answers(self, bundle_id: str) -> list[LinkAnswer]:
        return sorted((a for a in self.given.values() if a.bundle_id == bundle_id), key=lambda a: a.answered_at)

    async def undo(self, letter_id: str, now: datetime) -> bool:
        answer = self.given.get(letter_id)
        if answer is None or answer.final or answer.undoable_until <= now:
            return False
        del self.given[letter_id]
        return True

    async def due_answers(self, now: datetime, limit: int) -> list[LinkAnswer]:
        due = [a for a in self.given.values() if not a.final and a.undoable_until <= now]
        return sorted(due, key=lambda a: a.undoable_until)[:limit]

    async def finalise(self, letter_id: str) -> bool:
        answer = self.given.get(letter_id)
        if answer is None or answer.final:
            return False
        self.given[letter_id] = dataclasses.replace(answer, final=True)
        return True


class MemoryReplies:
    def __init__(self) -> None:
        self.replies: dict[str, dict[str, Any]] = {}

    async def insert(self, reply: dict[str, Any], announcing: Sequence[LetterEvent] = ()) -> bool:
        if reply["_id"] in self.replies:
            return False
        self.replies[reply["_id"]] = dict(reply)
        return True

    async def get(self, reply_id: str) -> dict[str, Any] | None:
        return self.replies.get(reply_id)


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, actor: str, action: str, target: str, *, role: str | None = None, **details: Any) -> None:
        self.entries.append({"actor": actor, "role": role, "action": action, "target": target, "details": details})

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self.entries))[:limit]

    def actions(self) -> list[str]:
        return [entry["action"] for entry in self.entries]


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        if self.down:
            raise ConnectionError("object store down")
        self.objects[key] = data
        return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data))

    async def get(self, key: str) -> bytes:
        if self.down:
            raise ConnectionError("object store down")
        if key not in self.objects:
            error = KeyError(key)
            error.response = {"Error": {"Code": "NoSuchKey"}}  # as botocore's ClientError carries it
            raise error
        return self.objects[key]

    async def presign_get(self, key: str, expires_s: int) -> str:
        return f"http://s3.invalid/{key}?expires={expires_s}"


class FakeChannel:
    """Records parcels; `failures` is a list of ChannelErrors to raise first, one per attempt."""

    def __init__(self, name: str = "email", automatic: bool = True) -> None:
        self.name = name
        self.automatic = automatic
        self.parcels: list[Parcel] = []
        self.failures: list[ChannelError] = []

    async def send(self, parcel: Parcel) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.parcels.append(parcel)


def make_delivery(**policy: Any) -> Delivery:
    clock = Clock()
    return Delivery(
        letters=MemoryOutgoing(clock), intermediaries=MemoryIntermediaries(), prisoners=MemoryPrisoners(),
        bundles=MemoryBundles(), confirmations=MemoryConfirmations(), replies=MemoryReplies(), audit=MemoryAudit(),
        store=MemoryStore(), outbox=RecordingOutbox(),
        channels={"email": FakeChannel("email"), "manual": FakeChannel("manual", automatic=False)},
        policy=Policy.of(DeliverySettings(public_url="https://delivery.test", retry_base_s=10, retry_max_s=80,
                                          send_max_attempts=4, **policy)),
        clock=clock,
    )
