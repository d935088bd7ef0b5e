"""Staff-token events grant rights: only what intake signed is applied, each event once, while fresh."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from shared.auth import STAFF_EVENTS_REFUSED, StaffEventGate, replicate_change
from shared.events import StaffTokenChanged, utc_now
from shared.signing import (
    DEV_STAFF_EVENTS_PRIVATE_KEY,
    DEV_STAFF_EVENTS_PUBLIC_KEY,
    BadKey,
    EventSigner,
    EventVerifier,
    new_key_pair,
)

INTAKE = EventSigner(DEV_STAFF_EVENTS_PRIVATE_KEY)
VERIFIER = EventVerifier(DEV_STAFF_EVENTS_PUBLIC_KEY)


def make_change(**overrides) -> StaffTokenChanged:
    fields = {"token_hash": "ab" * 32, "subject": "anna.moderator", "role": "moderator",
              "expires_at": utc_now() + timedelta(days=30)}
    return StaffTokenChanged(**(fields | overrides))


def as_received(change: StaffTokenChanged) -> dict:
    """The body a consumer gets: the event as JSON, through the wire."""
    return json.loads(json.dumps(change.model_dump(mode="json")))


def test_the_development_key_pair_belongs_together():
    assert INTAKE.public_key == DEV_STAFF_EVENTS_PUBLIC_KEY
    assert VERIFIER.trusts(INTAKE)


def test_an_event_signed_by_intake_verifies():
    assert VERIFIER.verify(StaffTokenChanged.routing_key, as_received(INTAKE.sign(make_change()))) is None


def test_an_unsigned_event_is_refused():
    assert VERIFIER.verify(StaffTokenChanged.routing_key, as_received(make_change())) == "unsigned"


def test_an_event_signed_with_another_key_is_refused():
    stranger = EventSigner(new_key_pair()[0])
    assert VERIFIER.verify(StaffTokenChanged.routing_key, as_received(stranger.sign(make_change()))) == "bad_signature"


@pytest.mark.parametrize("field, value", [("role", "admin"), ("subject", "mallory"), ("revoked", True),
                                          ("token_hash", "cd" * 32), ("expires_at", "2999-01-01T00:00:00Z")])
def test_changing_any_signed_field_breaks_the_signature(field, value):
    body = as_received(INTAKE.sign(make_change()))
    body[field] = value
    assert VERIFIER.verify(StaffTokenChanged.routing_key, body) == "bad_signature"


class NewerStaffTokenChanged(StaffTokenChanged):
    scope: str = "all-events"


def test_a_field_added_by_a_newer_intake_is_covered_by_the_signature():
    body = as_received(INTAKE.sign(NewerStaffTokenChanged(**make_change().model_dump())))
    assert VERIFIER.verify(StaffTokenChanged.routing_key, body) is None  # an older consumer verifies it
    body["scope"] = "one-event"
    assert VERIFIER.verify(StaffTokenChanged.routing_key, body) == "bad_signature"


def test_a_signature_is_bound_to_its_kind_of_event():
    body = as_received(INTAKE.sign(make_change()))
    assert VERIFIER.verify("prisoner.updated", body) == "bad_signature"


@pytest.mark.parametrize("signature", ["", "not base64!", "QUJD", None, 12])
def test_a_malformed_signature_is_refused_not_an_error(signature):
    body = as_received(make_change()) | {"signature": signature}
    assert VERIFIER.verify(StaffTokenChanged.routing_key, body) in ("unsigned", "bad_signature")


def test_a_rotated_key_is_verified_while_both_public_keys_are_listed():
    new_private, new_public = new_key_pair()
    both = EventVerifier(f"{new_public},{DEV_STAFF_EVENTS_PUBLIC_KEY}")
    for signer in (EventSigner(new_private), INTAKE):
        assert both.verify(StaffTokenChanged.routing_key, as_received(signer.sign(make_change()))) is None


@pytest.mark.parametrize("key", ["", "short", "AAAA", "not base64 at all"])
def test_a_key_setting_that_is_no_key_is_refused_at_start(key):
    with pytest.raises(BadKey):
        EventVerifier(key)
    if key:
        with pytest.raises(BadKey):
            EventSigner(key)


class MemorySeen:
    """The few collection calls the gate makes, in memory."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}

    async def find_one(self, query: dict):
        return self.docs.get(query["_id"])

    async def insert_one(self, doc: dict) -> None:
        from pymongo.errors import DuplicateKeyError

        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate")
        self.docs[doc["_id"]] = doc

    async def delete_many(self, query: dict) -> None:
        limit = query["occurred_at"]["$lt"]
        self.docs = {k: v for k, v in self.docs.items() if v["occurred_at"] >= limit}


class MemoryTokens:
    def __init__(self) -> None:
        self.applied: list[StaffTokenChanged] = []

    async def apply(self, change: StaffTokenChanged) -> None:
        self.applied.append(change)


def refused(reason: str) -> float:
    return STAFF_EVENTS_REFUSED.labels(reason)._value.get()


async def test_a_signed_change_is_applied_once_and_its_replay_refused():
    gate, tokens = StaffEventGate(VERIFIER, MemorySeen()), MemoryTokens()
    change = INTAKE.sign(make_change())
    before = refused("replayed")
    assert await replicate_change(change, as_received(change), tokens, gate)
    assert not await replicate_change(change, as_received(change), tokens, gate)
    assert tokens.applied == [change]
    assert refused("replayed") == before + 1


async def test_a_forged_admin_token_is_never_applied_and_is_counted():
    gate, tokens = StaffEventGate(VERIFIER, MemorySeen()), MemoryTokens()
    forged = make_change(role="admin", subject="mallory")
    before = refused("unsigned")
    assert not await replicate_change(forged, as_received(forged), tokens, gate)
    assert tokens.applied == [] and refused("unsigned") == before + 1


async def test_a_stale_or_future_signed_change_is_refused():
    gate, tokens = StaffEventGate(VERIFIER, MemorySeen()), MemoryTokens()
    old = INTAKE.sign(make_change(occurred_at=utc_now() - timedelta(days=8), event_id=uuid.uuid4()))
    ahead = INTAKE.sign(make_change(occurred_at=utc_now() + timedelta(hours=1), event_id=uuid.uuid4()))
    assert await gate.refusal(old, as_received(old)) == "stale"
    assert await gate.refusal(ahead, as_received(ahead)) == "future"
    assert not await replicate_change(old, as_received(old), tokens, gate)
    assert tokens.applied == []


async def test_remembered_ids_are_dropped_once_their_events_would_be_stale_anyway():
    now = [utc_now()]
    seen = MemorySeen()
    gate = StaffEventGate(VERIFIER, seen, clock=lambda: now[0])
    first = INTAKE.sign(make_change())
    await gate.remember(first)
    now[0] += timedelta(days=8)
    await gate.remember(INTAKE.sign(make_change(event_id=uuid.uuid4(), occurred_at=utc_now() + timedelta(days=8))))
    assert str(first.event_id) not in seen.docs and len(seen.docs) == 1
