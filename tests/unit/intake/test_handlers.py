"""Intake's progress subscriber, through FastStream's in-memory test broker."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker, TestRabbitBroker

from services.intake import handlers
from shared.broker import letters_exchange
from shared.events import LetterQueued, LetterReady


class MemoryProgress:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str]] = []

    async def record_status(self, letter_id, status, at, facts=None) -> bool:
        if (letter_id, status) in self.recorded:
            return False
        self.recorded.append((letter_id, status))
        return True


async def test_progress_events_become_the_writers_timeline():
    letters = MemoryProgress()
    broker, exchange = RabbitBroker(), letters_exchange("unit")
    queue = handlers.progress_queue("unit")
    broker.include_router(handlers.build_router(queue, exchange, letters.record_status))
    ready = LetterReady.for_letter("l_1", prisoner_id="p", scan_key="k", scan_sha256="0" * 64, scan_bytes=1, pages=1)
    queued = LetterQueued.for_letter("l_1", prisoner_id="p")
    async with TestRabbitBroker(broker) as test_broker:
        # The test broker knows only the queue's first binding (the real broker has them all),
        # so route by that; the AMQP type names the event, as the outbox sets it.
        for event in (ready, queued, ready):
            await test_broker.publish(
                event.model_dump(mode="json"),
                exchange=exchange,
                routing_key=queue.routing_keys[0],
                message_type=event.routing_key,
            )

    assert letters.recorded == [("l_1", "ready"), ("l_1", "queued")]
