"""The guards that count in MongoDB do what they promise on the real database (or its stand-in):
anonymous rate limits shared by replicas, wrong tokens counted without growing past the limit,
and remembered staff-token events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException

from services.intake.ratelimit import AddressLimiter, RateLimited
from shared.auth import FailedSignIns, StaffEventGate
from shared.events import StaffTokenChanged, utc_now
from shared.signing import (
    DEV_STAFF_EVENTS_PRIVATE_KEY,
    DEV_STAFF_EVENTS_PUBLIC_KEY,
    EventSigner,
    EventVerifier,
)

ADDRESS = "203.0.113.7"


async def test_two_replicas_share_one_submission_limit_and_say_when_it_frees(db):
    now = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    first, second = (AddressLimiter(db["rate_limits"], {"submit": "3/minute", "check": "5/minute"},
                                    clock=lambda: now[0]) for _ in range(2))
    await first.ensure_indexes()
    await first.hit("submit", ADDRESS)
    now[0] += timedelta(seconds=10)
    await second.hit("submit", ADDRESS)
    await first.hit("submit", ADDRESS)
    with pytest.raises(RateLimited) as refused:
        await second.hit("submit", ADDRESS)
    assert refused.value.retry_after_s == 50  # the first hit leaves the window at 12:01:00
    await first.hit("check", ADDRESS)  # another rule, another count
    await first.hit("submit", "198.51.100.1")  # another address, another count
    now[0] += timedelta(seconds=51)
    await second.hit("submit", ADDRESS)
    # Refused hits are not stored; hits that left the window are removed as new ones come.
    assert await db["rate_limits"].count_documents({"rule": "submit", "address": ADDRESS}) == 3


async def test_wrong_tokens_past_the_limit_are_refused_and_not_stored(db):
    guesses = FailedSignIns(db["failed_sign_ins"], "3/minute")
    await guesses.ensure_indexes()
    for _ in range(3):
        await guesses.wrong_token(ADDRESS)
    for _ in range(5):
        with pytest.raises(HTTPException) as refused:
            await guesses.wrong_token(ADDRESS)
        assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "60"
    assert await db["failed_sign_ins"].count_documents({"address": ADDRESS}) == 3


async def test_the_staff_event_gate_remembers_applied_events_in_the_database(db):
    gate = StaffEventGate(EventVerifier(DEV_STAFF_EVENTS_PUBLIC_KEY), db["staff_events_seen"])
    change = EventSigner(DEV_STAFF_EVENTS_PRIVATE_KEY).sign(StaffTokenChanged(
        token_hash="ab" * 32, subject="anna", role="moderator", expires_at=utc_now()))
    body = json.loads(change.model_dump_json())
    assert await gate.refusal(change, body) is None
    await gate.remember(change)
    await gate.remember(change)  # a redelivery after a crash: no error
    assert await gate.refusal(change, body) == "replayed"
