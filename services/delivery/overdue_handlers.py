"""Delivery's subscriber for the other services' overdue reports (their sweepers'), for the monitor."""

from collections.abc import Awaitable, Callable

from faststream.exceptions import RejectMessage
from faststream.rabbit import RabbitExchange, RabbitMessage, RabbitRouter

from services.delivery.metrics import HANDLER_SECONDS
from shared.broker import ConsumerQueue, letters_router
from shared.events import OverdueReport
from shared.topology import consumer_queue


def overdue_queue(namespace: str) -> ConsumerQueue:
    return consumer_queue("delivery.overdue-reports", namespace)


def build_overdue_router(queue: ConsumerQueue, exchange: RabbitExchange,
                         keep: Callable[[OverdueReport], Awaitable[object]]) -> RabbitRouter:
    router = letters_router()

    @router.subscriber(queue.queue(), exchange, title=queue.name)
    async def on_overdue_report(report: OverdueReport, message: RabbitMessage) -> None:
        """Keep a service's latest overdue report (letters past their deadline) for the operators' monitor."""
        # Each service's broker user may publish only its own key: the key, not the body, says who reports.
        if message.raw_message.routing_key != OverdueReport.routing_key_of(report.service):
            raise RejectMessage()
        with HANDLER_SECONDS.labels("overdue-report").time():
            await keep(report)

    return router
