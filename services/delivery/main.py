"""Delivery's composition root."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.delivery import (
    api,
    api_bundles,
    api_overdue,
    handlers,
    handover,
    overdue_handlers,
    pages,
    prisoner_handlers,
    scheduler,
    sweeper,
    translation_backlog,
)
from services.delivery.adapters import MongoIntermediaries, MongoOutgoing, MongoOverdueReports, MongoPrisoners
from services.delivery.bundle_store import MongoBundles, MongoConfirmations, MongoReplies
from services.delivery.channels import EmailChannel, ManualChannel
from services.delivery.config import DeliverySettings
from services.delivery.context import Delivery, Policy
from services.delivery.directory import load_demo_intermediaries, prisoner_updated
from services.delivery.errors import Conflict, Invalid, NotFound
from services.delivery.service import queue_letter
from shared.audit import AuditLog
from shared.auth import replicate_staff_tokens
from shared.broker import document_publications
from shared.events import LetterAnswered, LetterDeliveryUpdated, LetterQueued
from shared.service import MAX_BODY_BYTES, Connections, ServiceRuntime, build_http_app


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    infra = settings.infra
    connections = Connections.make(infra, settings.db)
    broker, db, exchange = connections.broker, connections.db, connections.exchange
    delivery = Delivery(
        letters=MongoOutgoing(db), intermediaries=MongoIntermediaries(db), prisoners=MongoPrisoners(db),
        bundles=MongoBundles(db), confirmations=MongoConfirmations(db), replies=MongoReplies(db),
        audit=AuditLog(db["audit"]), store=connections.store, outbox=connections.outbox(),
        channels={"email": EmailChannel(settings), "manual": ManualChannel()}, policy=Policy.of(settings),
    )
    # The subscribers of delivery's queues in the catalogue (shared/topology.py), each fed its use case.
    broker.include_router(handlers.build_router(handlers.ready_queue(infra.namespace), exchange,
                                                partial(queue_letter, delivery=delivery)))
    delivery.translation_waits = translation_backlog.MongoTranslationWaits(db)
    broker.include_router(translation_backlog.build_router(
        translation_backlog.backlog_queue(infra.namespace), exchange,
        partial(translation_backlog.follow, waits=delivery.translation_waits)))
    broker.include_router(prisoner_handlers.build_prisoner_router(
        prisoner_handlers.prisoner_queue(infra.namespace), exchange, partial(prisoner_updated, delivery=delivery)))
    staff_tokens = replicate_staff_tokens(
        "delivery", infra.namespace, broker, exchange, db, public_keys=infra.staff_events_public_key)
    document_publications(broker, exchange, [LetterQueued, LetterDeliveryUpdated, LetterAnswered])
    # The monitor's overdue letters: intake's and sorting's reports by event, delivery's own from its sweeper.
    overdue_reports = MongoOverdueReports(db)
    broker.include_router(overdue_handlers.build_overdue_router(overdue_handlers.overdue_queue(infra.namespace),
                                                                exchange, overdue_reports.keep))
    overdue = sweeper.SweepDeps(delivery, delivery.outbox, overdue_reports, sweeper.Deadlines.of(settings))

    async def prepare() -> None:
        for repository in (delivery.letters, delivery.intermediaries, delivery.prisoners, delivery.bundles,
                           delivery.confirmations, delivery.replies, delivery.audit, delivery.outbox,
                           delivery.translation_waits, overdue_reports):
            await repository.ensure_indexes()
        if infra.demo_campaign:
            await load_demo_intermediaries(delivery)

    runtime = ServiceRuntime(
        name="delivery",
        connections=connections,
        staff_tokens=staff_tokens,
        on_startup=[prepare],
        background=[delivery.outbox.relay_forever, *scheduler.loops(
            delivery, bundle_interval_s=settings.bundle_interval_s, send_poll_s=settings.send_poll_s,
            metrics_refresh_s=settings.metrics_refresh_s),
            lambda: scheduler.every(settings.sweep_interval_s, lambda: sweeper.sweep(overdue), "sweep-overdue",
                                    first_after_s=0)],
    )
    app = build_http_app(
        runtime,
        title="Delivery",
        description="Routes approved letters to intermediaries, bundles and sends them, follows what happened, "
                    "and shows operators the outgoing queue.",
        routers=[*api.routers, api_bundles.router, api_overdue.router, pages.router],
        # A reply scan, and the form fields around it.
        upload_bytes=handover.MAX_REPLY_BYTES + MAX_BODY_BYTES,
    )
    app.state.delivery = delivery
    app.state.overdue_reports = overdue_reports
    app.state.outgoing = delivery.letters
    _install_error_answers(app)
    return app


def _install_error_answers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, error: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(Invalid)
    async def invalid(_: Request, error: Invalid) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)
