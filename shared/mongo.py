"""MongoDB through PyMongo's async API (Motor's successor; Motor is end-of-life)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient

if TYPE_CHECKING:
    from shared.settings import InfraSettings


def make_client(url: str, *, timeout_ms: int = 5000, server_selection_timeout_ms: int = 3000,
                connect_timeout_ms: int = 3000) -> AsyncMongoClient:
    # tz_aware: datetimes come back as UTC-aware, as they went in.
    # timeoutMS bounds each operation as a whole (server selection, the call, a retry), so a paused
    # or unreachable database turns into a fast 503 or a handler's retry, not a request that hangs.
    return AsyncMongoClient(
        url,
        tz_aware=True,
        timeoutMS=timeout_ms or None,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=connect_timeout_ms,
    )


def client_for(infra: InfraSettings) -> AsyncMongoClient:
    """The client for MONGODB_URL with the configured timeouts."""
    return make_client(
        infra.mongodb_url,
        timeout_ms=infra.mongodb_timeout_ms,
        server_selection_timeout_ms=infra.mongodb_server_selection_timeout_ms,
        connect_timeout_ms=infra.mongodb_connect_timeout_ms,
    )


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")


def missing_counts_as_unequal(condition: dict[str, Any]) -> dict[str, Any]:
    """The same condition with each field's `{"$ne": v}` written as `{"$nin": [v]}`.

    In MongoDB the two are the same: both match a document that lacks the field. nx-27017 (the
    development stand-in) matches a missing field with `$nin` but not with `$ne` in an update's
    filter, so a "not announced yet" condition never held there; written this way it holds in both.
    """
    return {field: {"$nin": [test["$ne"]]} if isinstance(test, dict) and set(test) == {"$ne"} else test
            for field, test in condition.items()}
