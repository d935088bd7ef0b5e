"""Transactional outbox: an event is stored in MongoDB with the change it announces, then published.

A change and its events are one write (`WithEvents`): on a replica set (compose, Kubernetes) one
transaction writes the document and the outbox entries; where MongoDB cannot run transactions (a
standalone server, nx-27017: see tests/contract/test_mongodb_outbox.py) the events go into the
changed document itself, in the same update, under `pending_events`. Either way a crash leaves the
change with its events or neither. The use case then publishes at once; the relay publishes
whatever that did not (broker away, process killed), from the outbox and from the documents, and
clears them. Consumers are idempotent, so an event published twice (crash between publish and
mark) has its effects once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiormq.exceptions import DeliveryError
from faststream.rabbit import RabbitBroker, RabbitExchange
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.events import LetterEvent, OverdueLetter, utc_now
from shared.failpoints import failpoint
from shared.logs import Every
from shared.mongo import count_unchanged, read_time, stored_time

log = logging.getLogger("outbox")

# Publishing in the request usually succeeds; the relay only picks up what is older than this,
# so it does not race the inline publish of a fresh event.
RELAY_GRACE = timedelta(seconds=2)
PUBLISH_TIMEOUT_S = 5.0

# Where a document carries the events of its own last changes until the relay has published them,
# since when (an indexed date: the relay finds such documents without scanning every one), and how
# many were ever added: the relay clears a document only if that count is still the one it read, so
# events a change added meanwhile are never cleared unpublished. A count, not the time: two changes
# can fall in one millisecond, and nx-27017 compares times in an update's filter only to the second.
PENDING, PENDING_SINCE, PENDING_ADDED = "pending_events", "pending_events_since", "pending_events_added"

# The collections that carry pending events, per database: registered by the repositories that
# write with `WithEvents`, read by that database's relay.
_CARRIERS: defaultdict[str, set[str]] = defaultdict(set)


async def runs_transactions(client: Any) -> bool:
    """Whether this deployment runs multi-document transactions: a replica set member or mongos.

    A standalone MongoDB refuses them, and nx-27017 accepts the commands without isolating them (an
    abort also discards other clients' writes: tests/contract/test_mongodb_outbox.py), so both keep
    events in the changed document instead.
    """
    hello = await client.admin.command("hello")
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


def _entry(event: LetterEvent) -> dict[str, Any]:
    return {"routing_key": event.routing_key, "body": event.model_dump(mode="json"), "created_at": stored_time(utc_now()),
            "published": False}


def _pending(event: LetterEvent) -> str:
    # Kept as JSON text: nx-27017 turns a document pushed into an array into a string anyway
    # (tests/contract/test_mongodb_outbox.py), and text compares exactly when the relay clears it.
    return json.dumps({"event_id": str(event.event_id), "routing_key": event.routing_key,
                       "body": event.model_dump(mode="json")}, ensure_ascii=False, sort_keys=True)


class WithEvents:
    """One collection whose changes are written together with the events that announce them.

    Repositories use it for every change that is announced; the use case never sees which of the
    two ways (transaction or events in the document) the deployment allows.
    """

    def __init__(self, collection: AsyncCollection, *, transactions: bool | None = None) -> None:
        self._docs = collection
        self._outbox = collection.database["outbox"]
        self._transactions = transactions  # None: ask the server at the first write
        _CARRIERS[collection.database.name].add(collection.name)

    async def insert_one(self, doc: dict[str, Any], events: Sequence[LetterEvent]) -> None:
        """Insert the document with its events; DuplicateKeyError (and no event) if it is already there."""
        if not events:
            await self._docs.insert_one(doc)
            return
        if await self._in_transaction():
            async def write(session: AsyncClientSession) -> None:
                await self._docs.insert_one(doc, session=session)
                failpoint("outbox.after_change")
                await self._add(events, session)
            await self._run(write)
            return
        await self._docs.insert_one({**doc, PENDING: [_pending(e) for e in events], PENDING_SINCE: stored_time(utc_now()),
                                     PENDING_ADDED: len(events)})
        failpoint("outbox.after_change")

    async def update_one(self, where: dict[str, Any], update: dict[str, Any], events: Sequence[LetterEvent]) -> bool:
        """Apply a conditional update with its events if `where` matches; whether it matched.

        The filter is the change's condition (`state: queued`…): events are stored whenever it
        matches, on both ways alike (pushing the events always modifies the document).
        """
        if not events:
            return (await self._docs.update_one(where, update)).matched_count == 1
        if await self._in_transaction():
            async def write(session: AsyncClientSession) -> bool:
                result = await self._docs.update_one(where, update, session=session)
                if result.matched_count != 1:
                    return False
                failpoint("outbox.after_change")
                await self._add(events, session)
                return True
            return await self._run(write)
        carried = {**update, "$set": {**update.get("$set", {}), PENDING_SINCE: stored_time(utc_now())},
                   "$inc": {**update.get("$inc", {}), PENDING_ADDED: len(events)},
                   "$push": {**update.get("$push", {}), PENDING: {"$each": [_pending(e) for e in events]}}}
        result = await self._docs.update_one(where, carried)
        if result.matched_count == 1:
            failpoint("outbox.after_change")
        return result.matched_count == 1

    async def _in_transaction(self) -> bool:
        if self._transactions is None:
            self._transactions = await runs_transactions(self._docs.database.client)
        return self._transactions

    async def _run(self, write: Any) -> Any:
        async with self._docs.database.client.start_session() as session:
            # with_transaction retries a transient conflict and commits, or aborts on any error.
            return await session.with_transaction(write)

    async def _add(self, events: Sequence[LetterEvent], session: AsyncClientSession) -> None:
        for event in events:
            # The same event again (a repeated use case) keeps its first entry.
            await self._outbox.update_one({"_id": str(event.event_id)}, {"$setOnInsert": _entry(event)},
                                          upsert=True, session=session)


@dataclass(frozen=True)
class Unpublished:
    """An event stored with its change and still not published: what the relay has not managed to send."""

    event_id: str
    routing_key: str
    body: dict[str, Any]
    since: datetime

    def as_overdue(self) -> OverdueLetter:
        """As a sweeper reports it: under the letter (or prisoner) it announces, in the state `unannounced`."""
        return OverdueLetter(
            letter_id=str(self.body.get("letter_id") or self.body.get("prisoner_id") or self.event_id),
            state="unannounced", since=self.since,
            note=f"{self.routing_key} not published yet: the outbox relay keeps trying (the broker refuses it "
                 "or cannot be reached; see the outbox warnings in the log)")


class Outbox:
    def __init__(self, collection: AsyncCollection, broker: RabbitBroker, exchange: RabbitExchange, *,
                 publish_timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._events = collection
        self._publish_timeout_s = publish_timeout_s
        # While the broker is away every request and every relay pass would say so: once per interval.
        self._deferred, self._refused, self._away = Every(log), Every(log), Every(log)
        self._broker = broker
        self._exchange = exchange

    async def ensure_indexes(self) -> None:
        await self._events.create_index([("published", ASCENDING), ("created_at", ASCENDING)])
        for name in self._carriers():
            await self._events.database[name].create_index([(PENDING_SINCE, ASCENDING)])

    async def add(self, event: LetterEvent) -> bool:
        """Store the event; storing the same event twice is a no-op (False)."""
        try:
            await self._events.insert_one(
                {
                    "_id": str(event.event_id),
                    "routing_key": event.routing_key,
                    "body": event.model_dump(mode="json"),
                    "created_at": stored_time(utc_now()),
                    "published": False,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def publish(self, event: LetterEvent) -> bool:
        """Publish a stored event now; on failure leave it to the relay and say so."""
        try:
            await self._send(str(event.event_id), event.routing_key, event.model_dump(mode="json"))
        except Exception as error:  # the relay retries: a broker outage must not fail the caller
            self._deferred.warning("outbox publish deferred, the relay will retry",
                                   event_id=str(event.event_id), error=repr(error))
            return False
        return True

    async def add_and_publish(self, event: LetterEvent) -> bool:
        """Store and publish an event written apart from its change (prefer `WithEvents`).

        An event stored before (published, or left to the relay) is not published again.
        """
        if not await self.add(event):
            return True
        failpoint("outbox.after_store")
        return await self.publish(event)

    async def _send(self, event_id: str, routing_key: str, body: dict) -> None:
        await self._broker.publish(
            body,
            exchange=self._exchange,
            routing_key=routing_key,
            message_id=event_id,
            # The AMQP type names the event, so a queue bound to several events can tell them apart.
            message_type=routing_key,
            persist=True,
            mandatory=True,
            timeout=self._publish_timeout_s,
        )
        failpoint("outbox.after_publish")
        # An event carried in its document has no entry yet: the mark is its entry (the relay then
        # clears it from the document), so the outbox lists every event ever published.
        await self._events.update_one(
            {"_id": event_id},
            {"$set": {"published": True, "published_at": utc_now()},
             "$setOnInsert": {"routing_key": routing_key, "body": body, "created_at": stored_time(utc_now())}},
            upsert=True,
        )

    async def relay_once(self, limit: int = 500) -> int:
        cursor = self._events.find(
            {"published": False, "created_at": {"$lt": stored_time(utc_now() - RELAY_GRACE)}}
        ).sort("created_at", ASCENDING).limit(limit)
        sent = 0
        async for doc in cursor:
            outcome = await self._relay(doc["_id"], doc["routing_key"], doc["body"])
            if outcome is None:
                return sent
            sent += outcome
        for name in self._carriers():
            carried = await self._relay_carried(self._events.database[name], limit)
            if carried is None:
                break
            sent += carried
        return sent

    async def _relay(self, event_id: str, routing_key: str, body: dict) -> bool | None:
        """Publish one event: True when sent, False when refused (try later), None when the broker is away."""
        try:
            await self._send(event_id, routing_key, body)
        except DeliveryError as error:
            # One event the broker refuses (e.g. no queue bound yet) must not hold up the rest.
            self._refused.warning("outbox event not published yet", event_id=event_id,
                                  routing_key=routing_key, error=repr(error))
            return False
        except Exception as error:
            # The broker is away: the rest of this pass would fail the same way, one timeout each.
            self._away.warning("outbox cannot reach the broker, will retry", event_id=event_id,
                               routing_key=routing_key, error=repr(error))
            return None
        return True

    async def _relay_carried(self, collection: AsyncCollection, limit: int) -> int | None:
        """Publish the events documents carry (those the inline publish did not mark) and clear them."""
        cutoff = stored_time(utc_now() - RELAY_GRACE)
        sent = 0
        async for doc in collection.find({PENDING_SINCE: {"$lt": cutoff}},
                                         {PENDING: 1, PENDING_SINCE: 1, PENDING_ADDED: 1}).limit(limit):
            pending = [(text, json.loads(text)) for text in doc.get(PENDING) or []]
            ids = [event["event_id"] for _, event in pending]
            published = {entry["_id"] async for entry in self._events.find(
                {"_id": {"$in": ids}, "published": True}, {"_id": 1})}
            done = []
            for text, event in pending:
                if event["event_id"] not in published:
                    outcome = await self._relay(event["event_id"], event["routing_key"], event["body"])
                    if outcome is None:
                        await self._clear(collection, doc, done)
                        return None
                    if not outcome:
                        continue
                    sent += 1
                done.append(text)
            await self._clear(collection, doc, done)
        return sent

    @staticmethod
    async def _clear(collection: AsyncCollection, doc: dict[str, Any], done: list[str]) -> None:
        pending = doc.get(PENDING) or []
        if len(done) == len(pending):
            # Unless a new change added events meanwhile (it moves the count), the document is clear.
            cleared = await collection.update_one({"_id": doc["_id"], **count_unchanged(doc, PENDING_ADDED)},
                                                  {"$unset": {PENDING: "", PENDING_SINCE: "", PENDING_ADDED: ""}})
            if cleared.modified_count == 1:
                return
        if done:
            # Exactly the elements published, as read: never a pull by condition (nx-27017 pulls them all).
            await collection.update_one({"_id": doc["_id"]}, {"$pullAll": {PENDING: done}})

    def _carriers(self) -> list[str]:
        return sorted(_CARRIERS.get(self._events.database.name, ()))

    async def relay_forever(self, interval_s: float = 1.0) -> None:
        while True:
            try:
                sent = await self.relay_once()
                if sent:
                    log.info("outbox relayed events", extra={"count": sent})
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._away.warning("outbox relay failed, will retry", error=repr(error))
            await asyncio.sleep(interval_s)

    async def unpublished(self, older_than_s: float, limit: int = 100) -> list[Unpublished]:
        """Events still unpublished `older_than_s` after they were stored, oldest first; reads only.

        The relay keeps trying these (a broker that refuses them, or is away): the services' sweepers
        report them, so an event that never leaves is seen, not merely retried.
        """
        cutoff = utc_now() - timedelta(seconds=older_than_s)
        found = [Unpublished(doc["_id"], doc["routing_key"], doc["body"], read_time(doc["created_at"]))
                 async for doc in self._events.find({"published": False, "created_at": {"$lt": stored_time(cutoff)}})
                 .sort("created_at", ASCENDING).limit(limit)]
        for name in self._carriers():
            cursor = self._events.database[name].find({PENDING_SINCE: {"$lt": stored_time(cutoff)}},
                                                      {PENDING: 1, PENDING_SINCE: 1})
            async for doc in cursor.sort(PENDING_SINCE, ASCENDING).limit(limit):
                carried = [json.loads(text) for text in doc.get(PENDING) or []]
                # Published inline but not cleared from the document yet: not stuck.
                published = {entry["_id"] async for entry in self._events.find(
                    {"_id": {"$in": [event["event_id"] for event in carried]}, "published": True}, {"_id": 1})}
                since = read_time(doc[PENDING_SINCE])
                found += [Unpublished(event["event_id"], event["routing_key"], event["body"], since)
                          for event in carried if event["event_id"] not in published]
        return sorted(found, key=lambda event: event.since)[:limit]

    async def pending(self) -> int:
        carried = 0
        for name in self._carriers():
            async for doc in self._events.database[name].find({PENDING_SINCE: {"$exists": True}}, {PENDING: 1}):
                carried += len(doc.get(PENDING) or [])
        return await self._events.count_documents({"published": False}) + carried
