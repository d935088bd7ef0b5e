"""Delivery's subscriber for approved letters: the queue KEDA scales delivery on."""

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitExchange, RabbitRouter

from services.delivery.metrics import HANDLER_SECONDS
from shared.broker import ConsumerQueue, letters_router
from shared.events import LetterReady


def ready_queue(namespace: str) -> ConsumerQueue:
    return ConsumerQueue("delivery.letter-ready", (LetterReady.routing_key,), namespace)


def build_router(
    queue: ConsumerQueue, exchange: RabbitExchange, queue_letter: Callable[[LetterReady], Awaitable[bool]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title="delivery.letter-ready")
    async def on_letter_ready(event: LetterReady) -> None:
        """Put an approved, scanned letter on the outgoing queue for its intermediary, or hold it with the reason."""
        with HANDLER_SECONDS.labels("letter-ready").time():
            await queue_letter(event)

    return router
