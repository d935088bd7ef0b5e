"""Delivery's subscriber for intake's prisoner directory (`prisoner.updated`).

Its own queue, beside `delivery.letter-ready`: a burst of letters never delays a release, and
KEDA scales delivery on the letters' queue alone.
"""

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitExchange, RabbitRouter

from services.delivery.metrics import HANDLER_SECONDS
from shared.broker import ConsumerQueue, letters_router
from shared.events import PrisonerUpdated
from shared.topology import consumer_queue


def prisoner_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("delivery.prisoner-updated", namespace)


def build_prisoner_router(
    queue: ConsumerQueue, exchange: RabbitExchange, prisoner_updated: Callable[[PrisonerUpdated], Awaitable[None]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_prisoner_updated(event: PrisonerUpdated) -> None:
        """Follow a prisoner's status: released or deceased holds their unsent letters; transferred flags a review."""
        with HANDLER_SECONDS.labels("prisoner-updated").time():
            await prisoner_updated(event)

    return router
