"""Transactional outbox: an event is stored in MongoDB with the change it announces, then published.

If the broker is down when a letter is stored, the relay publishes the event once the broker is
back. Consumers are idempotent, so an event published twice (crash between publish and mark) has
its effects once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiormq.exceptions import DeliveryError
from faststream.rabbit import RabbitBroker, RabbitExchange
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.events import LetterEvent, utc_now
from shared.failpoints import failpoint
from shared.logs import Every

log = logging.getLogger("outbox")

# Publishing in the request usually succeeds; the relay only picks up what is older than this,
# so it does not race the inline publish of a fresh event.
RELAY_GRACE = timedelta(seconds=2)
PUBLISH_TIMEOUT_S = 5.0


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

    async def add(self, event: LetterEvent) -> None:
        """Store the event; storing the same event twice is a no-op."""
        try:
            await self._events.insert_one(
                {
                    "_id": str(event.event_id),
                    "routing_key": event.routing_key,
                    "body": event.model_dump(mode="json"),
                    "created_at": utc_now(),
                    "published": False,
                }
            )
        except DuplicateKeyError:
            pass

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
        await self.add(event)
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
        await self._events.update_one({"_id": event_id}, {"$set": {"published": True, "published_at": utc_now()}})

    async def relay_once(self, limit: int = 500) -> int:
        cursor = self._events.find(
            {"published": False, "created_at": {"$lt": utc_now() - RELAY_GRACE}}
        ).sort("created_at", ASCENDING).limit(limit)
        sent = 0
        async for doc in cursor:
            try:
                await self._send(doc["_id"], doc["routing_key"], doc["body"])
            except DeliveryError as error:
                # One event the broker refuses (e.g. no queue bound yet) must not hold up the rest.
                self._refused.warning("outbox event not published yet", event_id=doc["_id"],
                                            routing_key=doc["routing_key"], error=repr(error))
                continue
            except Exception as error:
                # The broker is away: the rest of this pass would fail the same way, one timeout each.
                self._away.warning("outbox cannot reach the broker, will retry", event_id=doc["_id"],
                                            routing_key=doc["routing_key"], error=repr(error))
                break
            sent += 1
        return sent

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

    async def pending(self) -> int:
        return await self._events.count_documents({"published": False})
