"""Staff access for every service: bearer tokens checked against a local copy of their hashes.

Intake issues and revokes staff tokens and announces each change (`staff.token_changed`, hash
only). Every service keeps its own copy, so sorting and delivery check a moderator's or operator's
token without asking intake, and a revocation reaches them all through the broker. Such an event
grants rights, so a copy takes only what intake signed (shared/signing.py), each event once, while
it is fresh; anything else is logged, counted and acknowledged, never applied.

Wrong tokens of every kind (staff, kiosk, receipt, hand-over link) are counted per address; past
the limit a wrong token is answered 429, while a valid token keeps working: an office behind one
address is not locked out by one guesser.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from faststream.rabbit import RabbitExchange, RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from limits import parse
from prometheus_client import Counter
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.broker import ConsumerQueue, letters_router
from shared.events import StaffTokenChanged, utc_now
from shared.mongo import stored_time
from shared.signing import EventVerifier
from shared.topology import consumer_queue

log = logging.getLogger("auth")

# A translator reads letters waiting for translation and submits their Russian version, nothing else.
ROLES = ("moderator", "operator", "admin", "translator")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str


class StaffTokens:
    """This service's copy of the staff tokens (hashes, roles, expiry, revocation)."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._tokens = collection

    async def apply(self, change: StaffTokenChanged) -> None:
        doc = staff_token_document(change)
        try:
            await self._tokens.insert_one({"_id": change.token_hash, **doc})
        except DuplicateKeyError:
            if change.revoked:
                # A revocation wins whatever order the changes arrive in.
                await self._tokens.update_one({"_id": change.token_hash}, {"$set": {"revoked": True}})
            else:
                await self._tokens.update_one(
                    {"_id": change.token_hash, "changed_at": {"$lt": doc["changed_at"]}, "revoked": False},
                    {"$set": doc},
                )

    async def find(self, token: str) -> Principal | None:
        doc = await self._tokens.find_one(
            {"_id": hash_token(token), "revoked": False, "expires_at": {"$gt": stored_time(utc_now())}}
        )
        return Principal(doc["subject"], doc["role"]) if doc else None


def staff_token_document(change: StaffTokenChanged) -> dict[str, Any]:
    """A staff token as every service's copy stores it (intake's too, with its announcement)."""
    return {"subject": change.subject, "role": change.role, "expires_at": stored_time(change.expires_at),
            "changed_at": stored_time(change.occurred_at), "revoked": change.revoked}


def staff_queue(service: str, namespace: str) -> ConsumerQueue:
    return consumer_queue(f"{service}.staff-tokens", namespace)


# Replays are recognised by event id for this long; an older event is refused as stale. Generous,
# so that an event the outbox could publish only after a long broker outage still arrives.
STAFF_EVENT_MAX_AGE = timedelta(days=7)
# Hosts' clocks differ a little; an event dated further ahead than this is refused.
STAFF_EVENT_CLOCK_SKEW = timedelta(minutes=5)

STAFF_EVENTS_REFUSED = Counter(
    "staff_events_refused_total",
    "staff.token_changed events refused and acknowledged without effect",
    ["reason"],  # unsigned, bad_signature, stale, future, replayed
)


class StaffEventGate:
    """Admits a staff-token event only if intake signed it, it is fresh, and it was not seen before."""

    def __init__(self, verifier: EventVerifier, seen: AsyncCollection, clock: Callable[[], datetime] = utc_now,
                 max_age: timedelta = STAFF_EVENT_MAX_AGE) -> None:
        self._verifier = verifier
        self._seen = seen
        self._clock = clock
        self._max_age = max_age

    async def refusal(self, change: StaffTokenChanged, body: dict[str, Any]) -> str | None:
        """Why this event must not be applied, or None. `body` is the JSON as received."""
        reason = self._verifier.verify(change.routing_key, body)
        if reason:
            return reason
        age = self._clock() - change.occurred_at
        if age > self._max_age:
            return "stale"
        if age < -STAFF_EVENT_CLOCK_SKEW:
            return "future"
        if await self._seen.find_one({"_id": str(change.event_id)}) is not None:
            return "replayed"
        return None

    async def remember(self, change: StaffTokenChanged) -> None:
        """After applying: the same event again is a replay. Ids older than the window are dropped."""
        try:
            await self._seen.insert_one({"_id": str(change.event_id), "occurred_at": stored_time(change.occurred_at)})
        except DuplicateKeyError:
            pass
        await self._seen.delete_many({"occurred_at": {"$lt": stored_time(self._clock() - self._max_age)}})


async def replicate_change(change: StaffTokenChanged, body: dict[str, Any], tokens: StaffTokens,
                           gate: StaffEventGate) -> bool:
    """Apply a received staff-token change if the gate admits it; a refusal is logged and counted.

    A refused event is acknowledged, not retried: redelivering a forgery would not make it genuine.
    Applied before it is remembered, so a crash in between re-applies it (harmless) on redelivery.
    """
    reason = await gate.refusal(change, body)
    if reason:
        STAFF_EVENTS_REFUSED.labels(reason).inc()
        log.warning("staff-token event refused", extra={
            "reason": reason, "event_id": str(change.event_id), "role": change.role, "revoked": change.revoked,
            "token_hash": change.token_hash[:12]})
        return False
    await tokens.apply(change)
    await gate.remember(change)
    return True


def staff_router(queue: ConsumerQueue, exchange: RabbitExchange, tokens: StaffTokens,
                 gate: StaffEventGate) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_staff_token_changed(change: StaffTokenChanged, message: RabbitMessage) -> None:
        """Keep this service's copy of staff tokens current (issue, expiry, revocation).

        Only changes signed by intake are applied; unsigned, wrongly signed, replayed or stale ones
        are logged, counted (`staff_events_refused_total`) and acknowledged."""
        await replicate_change(change, json.loads(message.body), tokens, gate)

    return router


class FailedSignIns:
    """Guessing a 256-bit token is hopeless, but wrong tokens are still limited per address, so a
    stranger scanning the API gets 429s for a while and shows up in the logs. Only wrong tokens are
    refused: a valid token from the same address (an office behind one NAT) keeps working.

    Counted in the service's database, not in the process: every replica of a service sees the same
    attempts, so running three intakes does not give a guesser three times the tries. A moving
    window: the failures of the last period (a minute for "10/minute") count.
    """

    def __init__(self, collection: AsyncCollection, limit: str = "10/minute",
                 clock: Callable[[], datetime] = utc_now) -> None:
        item = parse(limit)
        self._attempts = collection
        self._amount = item.amount
        self._window = timedelta(seconds=item.get_expiry())
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._attempts.create_index([("address", ASCENDING), ("at", ASCENDING)])

    async def allowed(self, address: str) -> bool:
        recent = {"address": address, "at": {"$gt": stored_time(self._clock() - self._window)}}
        return await self._attempts.count_documents(recent, limit=self._amount) < self._amount

    async def failed(self, address: str) -> None:
        now = self._clock()
        await self._attempts.insert_one({"_id": uuid.uuid4().hex, "address": address, "at": stored_time(now)})
        # Older attempts no longer count: removed here, so the collection holds at most a window's worth.
        await self._attempts.delete_many({"address": address, "at": {"$lte": stored_time(now - self._window)}})

    async def wrong_token(self, address: str) -> None:
        """A wrong token from this address: counted, or, once the address is past its limit, a 429.

        Called only after a token was looked up and not found, so a valid one is never refused here.
        Past the limit nothing more is stored: a guesser cannot grow the collection.
        """
        if not await self.allowed(address):
            raise TooManyWrongTokens(int(self._window.total_seconds()))
        await self.failed(address)
        if not await self.allowed(address):
            log.warning("wrong tokens from this address are throttled", extra={"address": address})


class TooManyWrongTokens(HTTPException):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(429, "too many wrong tokens from this address; try again later",
                         headers={"Retry-After": str(retry_after_s)})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def count_wrong_token(request: Request) -> None:
    """In a route that was given a token it does not know: count it (or answer 429, see above)."""
    failures: FailedSignIns = request.app.state.failed_sign_ins
    await failures.wrong_token(client_address(request))


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def require_staff(*roles: str) -> Callable:
    """FastAPI dependency: 401 without a valid staff token, 403 with the wrong role.

    Needs `app.state.staff_tokens` (StaffTokens) and `app.state.failed_sign_ins` (FailedSignIns).
    """
    allowed_roles = set(roles) | {"admin"}

    async def dependency(request: Request, token: Annotated[str | None, Depends(bearer_token)]) -> Principal:
        # The token is looked up first: a valid one works even while its address is throttled.
        principal = await request.app.state.staff_tokens.find(token) if token else None
        if principal is None:
            if token:
                await count_wrong_token(request)
            raise HTTPException(401, "a valid staff token is required", headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in allowed_roles:
            raise HTTPException(403, f"this needs the role {' or '.join(sorted(allowed_roles))}")
        return principal

    return dependency


def replicate_staff_tokens(service: str, namespace: str, broker, exchange: RabbitExchange, db, *,
                           public_keys: str) -> StaffTokens:
    """Give a service its own copy of staff tokens, kept current from `staff.token_changed`
    events signed by intake (`public_keys`: STAFF_EVENTS_PUBLIC_KEY)."""
    tokens = StaffTokens(db["staff_tokens"])
    gate = StaffEventGate(EventVerifier(public_keys), db["staff_events_seen"])
    broker.include_router(staff_router(staff_queue(service, namespace), exchange, tokens, gate))
    return tokens
