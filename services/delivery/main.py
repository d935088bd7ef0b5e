"""Delivery's composition root."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.delivery import api, handlers
from services.delivery.adapters import MongoOutgoing
from services.delivery.config import DeliverySettings
from services.delivery.service import queue_letter
from shared.auth import replicate_staff_tokens
from shared.broker import document_publications, letters_exchange, make_broker
from shared.events import LetterQueued
from shared.mongo import make_client
from shared.outbox import Outbox
from shared.s3 import ObjectStore
from shared.service import ServiceRuntime, build_http_app


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    infra = settings.infra
    broker = make_broker(infra.amqp_url)
    mongo = make_client(infra.mongodb_url)
    db = mongo[infra.db_name(settings.db)]
    exchange = letters_exchange(infra.namespace)
    outgoing = MongoOutgoing(db)
    outbox = Outbox(db["outbox"], broker, exchange)
    queue = handlers.ready_queue(infra.namespace)
    broker.include_router(handlers.build_router(queue, exchange, partial(queue_letter, outgoing=outgoing, outbox=outbox)))
    staff_tokens, staff_queue = replicate_staff_tokens("delivery", infra.namespace, broker, exchange, db)
    document_publications(broker, exchange, [LetterQueued])

    async def prepare() -> None:
        await outgoing.ensure_indexes()
        await outbox.ensure_indexes()

    runtime = ServiceRuntime(
        name="delivery",
        infra=infra,
        broker=broker,
        mongo=mongo,
        store=ObjectStore.from_settings(infra),
        staff_tokens=staff_tokens,
        queues=[queue, staff_queue],
        on_startup=[prepare],
        background=[outbox.relay_forever],
    )
    app = build_http_app(
        runtime,
        title="Delivery",
        description="Routes approved letters to intermediaries and shows operators the outgoing queue.",
        routers=[api.router],
    )
    app.state.outgoing = outgoing
    return app
