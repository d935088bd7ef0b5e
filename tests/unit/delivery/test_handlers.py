"""Delivery's subscriber, through FastStream's in-memory test broker."""

from __future__ import annotations

from functools import partial

from faststream.rabbit import RabbitBroker, TestRabbitBroker

from services.delivery import handlers
from services.delivery.service import queue_letter
from shared.broker import letters_exchange
from shared.events import LetterQueued, LetterReady
from tests.unit.fakes import MemoryOutgoing, RecordingOutbox


def make_ready(letter_id: str = "l_test_1") -> LetterReady:
    return LetterReady.for_letter(
        letter_id, prisoner_id="p_1", scan_key="scans/x.pdf", scan_sha256="ab" * 32, scan_bytes=1000, pages=1
    )


async def test_ready_letter_is_queued_once_however_often_it_arrives():
    outgoing, outbox = MemoryOutgoing(), RecordingOutbox()
    broker, exchange = RabbitBroker(), letters_exchange("unit")
    router = handlers.build_router(
        handlers.ready_queue("unit"), exchange, partial(queue_letter, outgoing=outgoing, outbox=outbox)
    )
    broker.include_router(router)
    async with TestRabbitBroker(broker) as test_broker:
        for _ in range(3):
            await test_broker.publish(make_ready().model_dump(mode="json"), exchange=exchange, routing_key="letter.ready")

    assert list(outgoing.letters) == ["l_test_1"]
    assert outgoing.letters["l_test_1"]["state"] == "queued"
    (queued,) = outbox.of(LetterQueued)
    assert queued.letter_id == "l_test_1"
