"""Sorting's composition root."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.sorting import handlers
from services.sorting.adapters import MongoSortedLetters
from services.sorting.config import SortingSettings
from services.sorting.service import sort_letter
from shared.auth import replicate_staff_tokens
from shared.broker import document_publications, letters_exchange, make_broker
from shared.events import LetterReady, LetterReviewNeeded
from shared.mongo import make_client
from shared.outbox import Outbox
from shared.s3 import ObjectStore
from shared.service import ServiceRuntime, build_http_app


def create_app(settings: SortingSettings | None = None) -> FastAPI:
    settings = settings or SortingSettings()
    infra = settings.infra
    broker = make_broker(infra.amqp_url)
    mongo = make_client(infra.mongodb_url)
    db = mongo[infra.db_name(settings.db)]
    exchange = letters_exchange(infra.namespace)
    letters = MongoSortedLetters(db)
    scans = ObjectStore.from_settings(infra)
    outbox = Outbox(db["outbox"], broker, exchange)
    queue = handlers.received_queue(infra.namespace)
    sort = partial(sort_letter, letters=letters, scans=scans, outbox=outbox, font_path=settings.font_path)
    broker.include_router(handlers.build_router(queue, exchange, sort))
    staff_tokens, staff_queue = replicate_staff_tokens("sorting", infra.namespace, broker, exchange, db)
    document_publications(broker, exchange, [LetterReady, LetterReviewNeeded])

    async def prepare() -> None:
        await letters.ensure_indexes()
        await outbox.ensure_indexes()

    runtime = ServiceRuntime(
        name="sorting",
        infra=infra,
        broker=broker,
        mongo=mongo,
        store=scans,
        staff_tokens=staff_tokens,
        queues=[queue, staff_queue],
        on_startup=[prepare],
        background=[outbox.relay_forever],
    )
    return build_http_app(
        runtime,
        title="Sorting",
        description="Screens letters for the prison censor, queues the rest for moderators, renders scans.",
        routers=[],
    )
