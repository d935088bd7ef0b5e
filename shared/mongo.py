"""MongoDB through PyMongo's async API (Motor's successor; Motor is end-of-life)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

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


# Times. The schema keeps every time as a BSON date (an aware UTC datetime here), and queries compare
# them as dates. nx-27017, the development stand-in, keeps an inserted date as a date but turns one
# written by `$set` into text ("2026-12-01 13:00:00.123000"), sorts text before dates, and gives
# `$min`/`$max` over the mixed forms in no useful order. So on the stand-in, and only there, every
# time is written as that same text: one form per field, which sorts, compares and groups by day
# correctly. `read_times` turns either form back into a datetime, so nothing past the adapters ever
# sees the difference. tests/contract/test_mongodb_times.py pins each of these behaviours.

STAND_IN_PROCESS = "nx_27017"
_STAND_IN_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class _Server:
    """What the connected server is; learned once at start by `learn_server`."""

    times_as_text = False


async def learn_server(client: AsyncMongoClient) -> None:
    """Find out whether `client` talks to the stand-in, so `stored_time` writes the form it sorts."""
    info = await client.admin.command("buildInfo")
    _Server.times_as_text = info.get("process") == STAND_IN_PROCESS


def bson_time(value: datetime) -> datetime:
    """`value` as MongoDB keeps it: UTC, to the millisecond (BSON dates hold no finer time)."""
    if value.tzinfo is None:
        raise ValueError("a stored time must be timezone-aware")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def stored_time(value: datetime | None) -> datetime | str | None:
    """A time to write or to compare in a query: a BSON date, or on the stand-in its text form."""
    if value is None:
        return None
    value = bson_time(value)
    return value.strftime(_STAND_IN_FORMAT) if _Server.times_as_text else value


def read_time(value: Any) -> datetime | None:
    """A stored time back as an aware UTC datetime, whichever form the server returned."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if isinstance(value, datetime) else None
    if isinstance(value, dict) and "$date" in value:  # inside a sub-document the stand-in kept as JSON
        value = value["$date"]
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise TypeError(f"not a stored time: {value!r}")


def read_times(doc: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """`doc` with each named time field (a dotted path reaches into sub-documents) read back as a
    datetime. Only the named fields: a letter's text that happens to look like a date stays text."""
    out = dict(doc)
    for path in fields:
        head, _, rest = path.partition(".")
        if head not in out:
            continue
        if rest:
            if isinstance(out[head], dict):
                out[head] = read_times(out[head], [rest])
        else:
            out[head] = read_time(out[head])
    return out


def count_unchanged(doc: dict[str, Any], field: str) -> dict[str, Any]:
    """An update's filter condition: the document's write count `field` is still what `doc` read.

    For a change decided on what was read, such as "the later report wins": compare the times read
    back in Python, then write only if nothing was written in between. A count compares exactly on
    every server; a time does not (two writes can share a millisecond, and nx-27017 compares times in
    an update's filter only to the second: tests/contract/test_mongodb_times.py)."""
    count = doc.get(field)
    return {field: count} if count is not None else {field: {"$exists": False}}


def stored_times(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with every datetime value (at any depth) in the form `stored_time` writes."""
    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return stored_time(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value
    return convert(doc)


async def upgrade_times(collection: AsyncCollection, renamed: Mapping[str, str], batch: int = 500) -> int:
    """Rewrite documents stored before times were dates: each old epoch-seconds field in `renamed`
    becomes its new date field. Run at start with the indexes; a no-op once done, and safe to repeat
    or to run from two replicas (each document is converted by a condition on its old field).
    Indexes on the old fields are dropped: nothing queries them any more. Returns how many documents
    were converted."""
    converted = 0
    olds = list(renamed)
    async for index in await collection.list_indexes():
        if any(key in renamed for key in index["key"]):
            await collection.drop_index(index["name"])
    while True:
        docs = [doc async for doc in collection.find({"$or": [{old: {"$exists": True}} for old in olds]},
                                                     {old: 1 for old in olds}).limit(batch)]
        if not docs:
            return converted
        before = converted
        for doc in docs:
            present = [old for old in olds if old in doc]
            new = {renamed[old]: stored_time(datetime.fromtimestamp(doc[old], UTC))
                   if isinstance(doc[old], int | float) else doc[old] for old in present}
            result = await collection.update_one({"_id": doc["_id"], **{old: doc[old] for old in present}},
                                                 {"$set": new, "$unset": dict.fromkeys(present, "")})
            converted += result.modified_count
        if converted == before:
            return converted  # none of them would change: never loop over the same documents
