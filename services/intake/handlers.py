"""Intake's message handlers: follow each letter's progress reported by sorting and delivery."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from faststream.exceptions import RejectMessage
from faststream.rabbit import RabbitExchange, RabbitMessage, RabbitRouter

from services.intake.domain import status_of
from shared.broker import ConsumerQueue, letters_router
from shared.events import STATUS_EVENTS
from shared.topology import consumer_queue


def progress_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("intake.letter-progress", namespace)


Follow = Callable[[str, str, datetime, dict], Awaitable[bool]]


def build_router(queue: ConsumerQueue, exchange: RabbitExchange, follow: Follow) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_letter_progress(body: dict, message: RabbitMessage) -> None:
        """Record a letter's new status so its writer can see it (translation, review, ready, queued, delivery,
        answer)."""
        kind = message.raw_message.type or message.raw_message.routing_key
        status = status_of(kind, body)
        if status is None:
            # Not a progress event we know: park it with the reason rather than guess.
            raise RejectMessage()
        event = STATUS_EVENTS[kind].model_validate(body)
        await follow(event.letter_id, status, event.occurred_at, _facts(event))

    return router


def _facts(event) -> dict:
    """What the campaign's results need from a progress event, beyond the status itself."""
    facts = {}
    # handed_over_to: a letter kept for a released prisoner was handed to them or their family.
    for field in ("categories", "reason", "moderation", "reply_id", "hold_kind", "handed_over_to", "prisoner_id",
                  "printed_text", "translated", "redacted", "source_language", "reason_code", "note"):
        value = getattr(event, field, None)
        if value:
            facts[field] = value
    return facts
