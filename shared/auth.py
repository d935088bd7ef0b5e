"""Staff access for every service: bearer tokens checked against a local copy of their hashes.

Intake issues and revokes staff tokens and announces each change (`staff.token_changed`, hash
only). Every service keeps its own copy, so sorting and delivery check a moderator's or operator's
token without asking intake, and a revocation reaches them all through the broker.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from faststream.rabbit import RabbitExchange, RabbitRouter
from limits import parse
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.broker import ConsumerQueue
from shared.events import StaffTokenChanged

ROLES = ("moderator", "operator", "admin")


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
        # Epoch seconds rather than datetimes: compared in queries on every backend alike.
        doc = {
            "subject": change.subject,
            "role": change.role,
            "expires_epoch": change.expires_at.timestamp(),
            "changed_epoch": change.occurred_at.timestamp(),
            "revoked": change.revoked,
        }
        try:
            await self._tokens.insert_one({"_id": change.token_hash, **doc})
        except DuplicateKeyError:
            if change.revoked:
                # A revocation wins whatever order the changes arrive in.
                await self._tokens.update_one({"_id": change.token_hash}, {"$set": {"revoked": True}})
            else:
                await self._tokens.update_one(
                    {"_id": change.token_hash, "changed_epoch": {"$lt": doc["changed_epoch"]}, "revoked": False},
                    {"$set": doc},
                )

    async def find(self, token: str) -> Principal | None:
        doc = await self._tokens.find_one(
            {"_id": hash_token(token), "revoked": False, "expires_epoch": {"$gt": time.time()}}
        )
        return Principal(doc["subject"], doc["role"]) if doc else None


def staff_queue(service: str, namespace: str) -> ConsumerQueue:
    return ConsumerQueue(f"{service}.staff-tokens", (StaffTokenChanged.routing_key,), namespace)


def staff_router(queue: ConsumerQueue, exchange: RabbitExchange, tokens: StaffTokens) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_staff_token_changed(change: StaffTokenChanged) -> None:
        """Keep this service's copy of staff tokens current (issue, expiry, revocation)."""
        await tokens.apply(change)

    return router


class FailedSignIns:
    """Guessing a 256-bit token is hopeless, but failed attempts are still limited per address,
    so a stranger scanning the API is locked out for a while and shows up in the logs.

    Counted in the service's database, not in the process: every replica of a service sees the same
    attempts, so running three intakes does not give a guesser three times the tries. A moving
    window: the failures of the last period (a minute for "10/minute") count.
    """

    def __init__(self, collection: AsyncCollection, limit: str = "10/minute",
                 clock: Callable[[], float] = time.time) -> None:
        item = parse(limit)
        self._attempts = collection
        self._amount = item.amount
        self._window_s = item.get_expiry()
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._attempts.create_index([("address", ASCENDING), ("at_epoch", ASCENDING)])

    async def allowed(self, address: str) -> bool:
        recent = {"address": address, "at_epoch": {"$gt": self._clock() - self._window_s}}
        return await self._attempts.count_documents(recent, limit=self._amount) < self._amount

    async def failed(self, address: str) -> None:
        now = self._clock()
        await self._attempts.insert_one({"_id": uuid.uuid4().hex, "address": address, "at_epoch": now})
        # Older attempts no longer count: removed here, so the collection holds at most a window's worth.
        await self._attempts.delete_many({"address": address, "at_epoch": {"$lte": now - self._window_s}})


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
        address = request.client.host if request.client else "unknown"
        failures: FailedSignIns = request.app.state.failed_sign_ins
        if not await failures.allowed(address):
            raise HTTPException(429, "too many failed sign-ins; try again later", headers={"Retry-After": "60"})
        principal = await request.app.state.staff_tokens.find(token) if token else None
        if principal is None:
            if token:
                await failures.failed(address)
            raise HTTPException(401, "a valid staff token is required", headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in allowed_roles:
            raise HTTPException(403, f"this needs the role {' or '.join(sorted(allowed_roles))}")
        return principal

    return dependency


def replicate_staff_tokens(service: str, namespace: str, broker, exchange: RabbitExchange, db) -> tuple[
    StaffTokens, ConsumerQueue
]:
    """Give a service its own copy of staff tokens, kept current from `staff.token_changed`."""
    tokens = StaffTokens(db["staff_tokens"])
    queue = staff_queue(service, namespace)
    broker.include_router(staff_router(queue, exchange, tokens))
    return tokens, queue
