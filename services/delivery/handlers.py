"""Delivery's subscriber for approved letters: the queue KEDA scales delivery on."""

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitExchange, RabbitRouter

from services.delivery.metrics import HANDLER_SECONDS
from shared.broker import ConsumerQueue, letters_router
from shared.events import LetterReady
from shared.topology import consumer_queue


def ready_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("delivery.letter-ready", namespace)


def build_router(
    queue: ConsumerQueue, exchange: RabbitExchange, queue_letter: Callable[[LetterReady], Awaitable[bool]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_letter_ready(event: LetterReady) -> None:
        """Put an approved, scanned letter on the outgoing queue for its intermediary, or hold it with the reason."""
        with HANDLER_SECONDS.labels("letter-ready").time():
            await queue_letter(event)

    return router
