"""Sorting's composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure

from services.sorting import api, handlers, sweeper, translation_api, web, withdrawal
from services.sorting.adapters import MongoDecisions, MongoSortedLetters
from services.sorting.config import SortingSettings
from services.sorting.domain import DecisionRefused, ModerationPolicy
from services.sorting.moderation import ConfirmationNeeded, LetterNotFound, NotInReview
from services.sorting.release import RELEASE_SWEEP_S, release_pass
from services.sorting.render_pool import RenderPool, pool_size
from services.sorting.service import SortingDeps, sort_letter
from shared.auth import replicate_staff_tokens
from shared.broker import document_publications, overdue_publisher, overdue_reporting
from shared.events import (
    LetterReady,
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawalRefused,
    LetterWithdrawn,
)
from shared.s3 import ObjectStore
from shared.service import Connections, ServiceRuntime, build_http_app, every

RETRY_AFTER_S = "5"


def create_app(settings: SortingSettings | None = None) -> FastAPI:
    settings = settings or SortingSettings()
    infra = settings.infra
    connections = Connections.make(infra, settings.db)
    broker, db, exchange = connections.broker, connections.db, connections.exchange
    renderer = RenderPool(settings.font_path, pool_size(settings.render_processes))
    deps = SortingDeps(
        letters=MongoSortedLetters(db),
        decisions=MongoDecisions(db),
        scans=connections.store,
        outbox=connections.outbox(),
        font_path=settings.font_path,
        renderer=renderer,
        policy=ModerationPolicy(
            auto_approve=settings.auto_approve,
            undo_window_s=settings.undo_window_s,
            second_moderator_for_block=settings.second_moderator_for_block,
        ),
    )
    # Presigning is local computation: this client only signs links for the address browsers use.
    page_links = ObjectStore(settings.page_links_url, infra.s3_access_key_id,
                             infra.s3_secret_access_key.get_secret_value(), infra.s3_region, infra.s3_bucket)
    # The subscribers of sorting's queues in the catalogue (shared/topology.py), each fed its use case.
    broker.include_router(handlers.build_router(handlers.received_queue(infra.namespace), exchange,
                                                partial(sort_letter, deps=deps)))
    broker.include_router(handlers.build_withdrawal_router(handlers.withdrawals_queue(infra.namespace), exchange,
                                                           partial(withdrawal.withdraw, deps=deps)))
    staff_tokens = replicate_staff_tokens(
        "sorting", infra.namespace, broker, exchange, db, public_keys=infra.staff_events_public_key)
    document_publications(broker, exchange, [LetterReady, LetterReviewNeeded, LetterRejected, LetterTranslationNeeded,
                                             LetterWithdrawn, LetterWithdrawalRefused])
    overdue = sweeper.SweepDeps(deps, deps.outbox, sweeper.Deadlines.of(settings))
    to_monitor = overdue_publisher(broker, exchange, "sorting", infra.amqp_timeout_s)

    async def prepare() -> None:
        await deps.letters.ensure_indexes()
        await deps.decisions.ensure_indexes()
        await deps.outbox.ensure_indexes()

    runtime = ServiceRuntime(
        name="sorting",
        connections=connections,
        staff_tokens=staff_tokens,
        on_startup=[prepare],
        background=[deps.outbox.relay_forever,
                    lambda: every(RELEASE_SWEEP_S, partial(release_pass, deps), "release-approvals"),
                    lambda: every(settings.sweep_interval_s,
                                  overdue_reporting(partial(sweeper.sweep, overdue), to_monitor), "sweep-overdue")],
    )
    app = build_http_app(
        runtime,
        title="Sorting",
        description="Screens letters for the prison censor, queues the rest for moderators, renders scans.",
        routers=[api.router, translation_api.router, web.pages_router(settings.page_links_url)],
    )
    app.state.sorting = deps
    run_render_pool(app, renderer)
    app.state.page_links = page_links
    install_error_answers(app)
    return app


def run_render_pool(app: FastAPI, renderer: RenderPool) -> None:
    """The render workers start before the service consumes and stop after its last handler."""
    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        renderer.start()
        try:
            async with service_lifespan(app):
                yield
        finally:
            await renderer.stop()

    app.router.lifespan_context = lifespan


def install_error_answers(app: FastAPI) -> None:
    @app.exception_handler(LetterNotFound)
    async def not_found(_: Request, __: LetterNotFound) -> JSONResponse:
        return JSONResponse({"detail": "no such letter"}, status_code=404)

    @app.exception_handler(NotInReview)
    async def not_in_review(_: Request, error: NotInReview) -> JSONResponse:
        return JSONResponse({"detail": error.detail, "state": error.state}, status_code=409)

    @app.exception_handler(ConfirmationNeeded)
    async def confirmation_needed(_: Request, error: ConfirmationNeeded) -> JSONResponse:
        # The findings travel with the refusal, so the page can ask about exactly these.
        findings = [finding.model_dump(mode="json") for finding in error.findings]
        return JSONResponse({"detail": str(error), "state": "review_needed", "block_findings": findings},
                            status_code=409)

    @app.exception_handler(DecisionRefused)
    async def refused(_: Request, error: DecisionRefused) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(ConnectionFailure)
    async def database_down(_: Request, __: ConnectionFailure) -> JSONResponse:
        return JSONResponse({"detail": "the letter store is unavailable; please retry (a retry completes what was begun)"},
                            status_code=503, headers={"Retry-After": RETRY_AFTER_S})

    async def scan_store_down(_: Request, __: Exception) -> JSONResponse:
        # The approval itself is recorded; the retry, or the sweep a minute later, stores the scan.
        return JSONResponse({"detail": "the scan store is unavailable; the approval is kept and will be finished"},
                            status_code=503, headers={"Retry-After": RETRY_AFTER_S})

    app.add_exception_handler(BotoCoreError, scan_store_down)
    app.add_exception_handler(ClientError, scan_store_down)
