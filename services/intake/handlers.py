"""Intake's message handlers: follow each letter's progress reported by sorting and delivery."""

from faststream.rabbit import RabbitExchange, RabbitMessage, RabbitRouter

from services.intake.domain import EVENT_TO_STATUS
from services.intake.ports import LetterRepository
from services.intake.service import follow_letter
from shared.broker import ConsumerQueue
from shared.events import LetterEvent


def progress_queue(namespace: str) -> ConsumerQueue:
    return ConsumerQueue("intake.letter-progress", tuple(EVENT_TO_STATUS), namespace)


def build_router(queue: ConsumerQueue, exchange: RabbitExchange, letters: LetterRepository) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(queue.queue(), exchange, title="intake.letter-progress")
    async def on_letter_progress(event: LetterEvent, message: RabbitMessage) -> None:
        """Record a letter's new status so its writer can see it (review, rejected, ready, queued)."""
        status = EVENT_TO_STATUS[message.raw_message.type or message.raw_message.routing_key]
        await follow_letter(letters, event.letter_id, status, event.occurred_at)

    return router
