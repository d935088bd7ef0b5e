"""Sorting's message handlers; their queues and events are the catalogue's (shared/topology.py)."""

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitExchange, RabbitRouter

from shared.broker import ConsumerQueue, letters_router
from shared.events import LetterReceived, LetterWithdrawalRequested
from shared.topology import consumer_queue


def received_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("sorting.letter-received", namespace)


def build_router(
    queue: ConsumerQueue, exchange: RabbitExchange, sort: Callable[[LetterReceived], Awaitable[str]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_letter_received(event: LetterReceived) -> None:
        """Screen a received letter; approve and scan it, or put it in front of a moderator."""
        await sort(event)

    return router


def withdrawals_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("sorting.withdrawals", namespace)


def build_withdrawal_router(
    queue: ConsumerQueue, exchange: RabbitExchange, withdraw: Callable[[LetterWithdrawalRequested], Awaitable[str]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_withdrawal_requested(event: LetterWithdrawalRequested) -> None:
        """Withdraw a letter at its writer's request unless it was scanned already; announce letter.withdrawn or
        letter.withdrawal_refused."""
        await withdraw(event)

    return router
