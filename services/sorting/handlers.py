"""Sorting's message handlers."""

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitExchange, RabbitRouter

from shared.broker import ConsumerQueue, letters_router
from shared.events import LetterReceived, LetterWithdrawalRequested


def received_queue(namespace: str) -> ConsumerQueue:
    return ConsumerQueue("sorting.letter-received", (LetterReceived.routing_key,), namespace)


def build_router(
    queue: ConsumerQueue, exchange: RabbitExchange, sort: Callable[[LetterReceived], Awaitable[str]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title="sorting.letter-received")
    async def on_letter_received(event: LetterReceived) -> None:
        """Screen a received letter; approve and scan it, or put it in front of a moderator."""
        await sort(event)

    return router


def withdrawals_queue(namespace: str) -> ConsumerQueue:
    return ConsumerQueue("sorting.withdrawals", (LetterWithdrawalRequested.routing_key,), namespace)


def build_withdrawal_router(
    queue: ConsumerQueue, exchange: RabbitExchange, withdraw: Callable[[LetterWithdrawalRequested], Awaitable[str]]
) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title="sorting.withdrawals")
    async def on_withdrawal_requested(event: LetterWithdrawalRequested) -> None:
        """Withdraw a letter at its writer's request unless it was scanned already; announce letter.withdrawn or
        letter.withdrawal_refused."""
        await withdraw(event)

    return router
