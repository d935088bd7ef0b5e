"""How many letters wait for a volunteer translator, and since when: for the operators' monitor.

Delivery follows it from sorting's events, the only contract between the services: a letter starts
waiting with letter.translation_needed and stops with the next step (back to review, ready,
rejected, withdrawn). Events may arrive out of order, so each letter keeps the latest time it
started waiting and the latest time it moved on; it waits while the first is the later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from faststream.rabbit import RabbitExchange, RabbitMessage, RabbitRouter
from pydantic import BaseModel, Field
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.delivery.ports import TranslationWaits
from shared.broker import ConsumerQueue, letters_router
from shared.events import (
    LetterReady,
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawn,
)
from shared.mongo import read_times, stored_time, upgrade_times
from shared.topology import consumer_queue

# The steps after which a letter no longer waits for a translator.
MOVED_ON = (LetterReviewNeeded, LetterReady, LetterRejected, LetterWithdrawn)
EVENTS = {cls.routing_key: cls for cls in (LetterTranslationNeeded, *MOVED_ON)}
# A wait's times: when the letter last started waiting, and when it last moved on.
WAIT_TIMES = ("started_at", "left_at")
# The names of the schema before times were dates (epoch seconds), and their dates now: converted at start.
OLD_WAIT_TIMES = {"since": "started_at", "left": "left_at"}


class TranslationBacklog(BaseModel):
    waiting: int = Field(description="Letters waiting for a volunteer translator now")
    oldest_waiting_s: float = Field(description="How long the longest-waiting of them has waited (0 if none)")
    languages: dict[str, int] = Field(default_factory=dict, description="How many by language (und: not known)")


def backlog(waits: Iterable[dict[str, Any]], now: datetime) -> TranslationBacklog:
    """The backlog from each letter's latest start and latest step on: pure."""
    waiting = [w for w in waits if w.get("started_at") and (w.get("left_at") is None or w["started_at"] > w["left_at"])]
    languages: dict[str, int] = {}
    for wait in waiting:
        languages[wait.get("language") or "und"] = languages.get(wait.get("language") or "und", 0) + 1
    oldest = min((w["started_at"] for w in waiting), default=now)
    return TranslationBacklog(waiting=len(waiting), oldest_waiting_s=max(0.0, (now - oldest).total_seconds()),
                              languages=dict(sorted(languages.items())))


async def follow(event: LetterTranslationNeeded | LetterReviewNeeded | LetterReady | LetterRejected
                 | LetterWithdrawn, waits: TranslationWaits) -> None:
    at = event.occurred_at
    if isinstance(event, LetterTranslationNeeded):
        await waits.started(event.letter_id, at, event.source_language)
    else:
        await waits.moved_on(event.letter_id, at)


class MongoTranslationWaits:
    """One small document per letter sorting announced a step of; $max keeps the latest times whatever the
    order."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._waits = db["translation_waits"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._waits, OLD_WAIT_TIMES)
        await self._waits.create_index([("started_at", ASCENDING)])

    async def started(self, letter_id: str, at: datetime, language: str | None) -> None:
        await self._waits.update_one(
            {"_id": letter_id}, {"$max": {"started_at": stored_time(at)}, "$set": {"language": language}}, upsert=True)

    async def moved_on(self, letter_id: str, at: datetime) -> None:
        # Upserted too: a step that overtakes the start must still end the wait when the start arrives.
        await self._waits.update_one({"_id": letter_id}, {"$max": {"left_at": stored_time(at)}}, upsert=True)

    async def waiting(self) -> list[dict[str, Any]]:
        return [read_times(doc, WAIT_TIMES) async for doc in self._waits.find({"started_at": {"$exists": True}})]


def backlog_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("delivery.translation-backlog", namespace)


def build_router(queue: ConsumerQueue, exchange: RabbitExchange,
                 follow_step: Callable[[Any], Awaitable[None]]) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_translation_step(body: dict, message: RabbitMessage) -> None:
        """Follow letters waiting for a volunteer translator, for the operators' monitor."""
        kind = message.raw_message.type or message.raw_message.routing_key
        await follow_step(EVENTS[kind].model_validate(body))

    return router
