"""Intake's composition root: builds adapters, wires handlers and routes, returns the ASGI app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from services.intake import api, directory_api, handlers, results, staff_api, sweeper, web, writing_help
from services.intake.adapters import MongoCampaignEvents, MongoLetters, MongoPrisoners, MongoTokens
from services.intake.config import IntakeSettings, staff_events_signer
from services.intake.contact import ContactSealer
from services.intake.demo import load_demo_campaign
from services.intake.directory_updates import MongoProposals
from services.intake.facilities import MongoFacilities
from services.intake.kiosks import KioskRefused
from services.intake.privacy import RETENTION_PASS_S, SmtpMailer, WriterNotices, retention_pass
from services.intake.ratelimit import AddressLimiter, RateLimited
from services.intake.results.queries import ResultsQueries
from services.intake.service import (
    ClientRefReused,
    EmptyLetter,
    LetterDesk,
    PrisonerNotWritable,
    UnknownPrisoner,
    follow_letter,
)
from services.intake.staff import StaffDesk
from shared.audit import AuditLog
from shared.auth import StaffTokens
from shared.broker import document_publications, overdue_publisher, overdue_reporting
from shared.events import LetterReceived, LetterWithdrawalRequested, PrisonerUpdated, StaffTokenChanged
from shared.outbox import Outbox
from shared.s3 import ObjectStore
from shared.service import Connections, ServiceRuntime, build_http_app, every
from shared.signing import EventSigner

RETRY_AFTER_S = "5"


@dataclass
class IntakeContext:
    letters: MongoLetters
    prisoners: MongoPrisoners
    tokens: MongoTokens
    campaign_events: MongoCampaignEvents
    outbox: Outbox
    sealer: ContactSealer
    receipt_secret: bytes
    pages: ObjectStore
    limiter: AddressLimiter
    staff_tokens: StaffTokens
    audit: AuditLog
    signer: EventSigner

    @property
    def staff_desk(self) -> StaffDesk:
        """The ports the staff's use cases touch (services/intake/staff.py); each records its audit entry."""
        return StaffDesk(prisoners=self.prisoners, events=self.campaign_events, tokens=self.tokens,
                         outbox=self.outbox, audit=self.audit, signer=self.signer)

    @property
    def desk(self) -> LetterDesk:
        """The ports taking a letter in touches (services/intake/service.py `accept_letter`)."""
        return LetterDesk(letters=self.letters, prisoners=self.prisoners, outbox=self.outbox, sealer=self.sealer,
                          receipt_secret=self.receipt_secret, page_store=self.pages)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    infra = settings.infra
    connections = Connections.make(infra, settings.db)
    broker, db, exchange = connections.broker, connections.db, connections.exchange
    context = IntakeContext(
        letters=MongoLetters(db),
        prisoners=MongoPrisoners(db),
        tokens=MongoTokens(db),
        campaign_events=MongoCampaignEvents(db),
        outbox=connections.outbox(),
        sealer=ContactSealer(settings.contact_key.get_secret_value()),
        receipt_secret=settings.receipt_secret.get_secret_value().encode(),
        pages=connections.store,
        # In the database, so that every replica counts the same requests.
        limiter=AddressLimiter(db["rate_limits"], {"submit": settings.submit_rate_limit,
                                                    "check": settings.check_rate_limit,
                                                    "summary": settings.summary_rate_limit}),
        # Intake issues staff tokens, so it writes its own copy directly; the others learn by event.
        staff_tokens=StaffTokens(db["staff_tokens"]),
        audit=AuditLog(db["audit"]),
        # Signs staff-token changes: the other services apply no other.
        signer=staff_events_signer(settings),
    )
    mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from) if settings.smtp_host else None
    notices = WriterNotices(context.letters, context.sealer, mailer, db["notices"], context.audit)
    follow = partial(_follow, context.letters, notices)
    # Intake's one queue in the catalogue (shared/topology.py): the letters' progress, for their writers.
    broker.include_router(handlers.build_router(handlers.progress_queue(infra.namespace), exchange, follow))
    document_publications(broker, exchange, [LetterReceived, PrisonerUpdated, StaffTokenChanged,
                                             LetterWithdrawalRequested])

    results_queries = ResultsQueries(db)
    directory = directory_api.DirectoryContext(MongoFacilities(db), MongoProposals(db),
                                               settings.facility_rules_max_age_days)
    overdue = sweeper.SweepDeps(letters=context.letters, prisoners=context.prisoners,
                                facilities=directory.facilities, outbox=context.outbox,
                                deadlines=sweeper.Deadlines.of(settings))
    to_monitor = overdue_publisher(broker, exchange, "intake", infra.amqp_timeout_s)

    async def prepare() -> None:
        await context.letters.ensure_indexes()
        await context.prisoners.ensure_indexes()
        await directory.facilities.ensure_indexes()
        await context.outbox.ensure_indexes()
        await context.audit.ensure_indexes()
        await context.limiter.ensure_indexes()
        await notices.ensure_indexes()
        await directory.proposals.ensure_indexes()
        # The results' aggregations group by indexed fields: build them before the first report.
        await results_queries.ensure_indexes()
        if infra.demo_campaign:
            await load_demo_campaign(context)

    runtime = ServiceRuntime(
        name="intake",
        connections=connections,
        staff_tokens=context.staff_tokens,
        on_startup=[prepare],
        background=[
            context.outbox.relay_forever,
            lambda: every(RETENTION_PASS_S, partial(retention_pass, context.letters, context.audit,
                                                    settings.contact_retention_days), "erase-contacts"),
            lambda: every(settings.sweep_interval_s,
                          overdue_reporting(partial(sweeper.sweep, overdue), to_monitor), "sweep-overdue"),
        ],
    )
    app = build_http_app(
        runtime,
        title="Intake",
        description="Takes letters to political prisoners from the writer's page and event kiosks.",
        routers=[api.router, staff_api.router, directory_api.router, results.router, web.router,
                 directory_api.pages, writing_help.router],
        # A letter with its photographed pages (services/intake/pages.py limits).
        upload_bytes=api.MAX_UPLOAD_BYTES,
    )
    app.state.intake = context
    app.state.directory = directory
    app.state.results_queries = results_queries
    _install_error_answers(app)
    return app


async def _follow(letters, notices, letter_id: str, status: str, at, facts: dict) -> bool:
    return await follow_letter(letters, letter_id, status, at, facts, notify=notices)


def _install_error_answers(app: FastAPI) -> None:
    # ConnectionFailure covers an unreachable or paused database (selection and socket timeouts);
    # ExecutionTimeout is an operation the server ended at MONGODB_TIMEOUT_MS.
    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(ExecutionTimeout)
    async def database_down(_: Request, __: ConnectionFailure | ExecutionTimeout) -> JSONResponse:
        return JSONResponse(
            {"detail": "the letter store is unavailable; nothing was saved, please retry"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_S},
        )

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, error: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": "too many letters from this address; please wait a little"},
            status_code=429,
            headers={"Retry-After": str(error.retry_after_s)},
        )

    @app.exception_handler(EmptyLetter)
    async def empty_letter(_: Request, __: EmptyLetter) -> JSONResponse:
        return JSONResponse({"detail": "the letter is empty: write something or add photographed pages"}, status_code=422)

    @app.exception_handler(UnknownPrisoner)
    async def unknown_prisoner(_: Request, error: UnknownPrisoner) -> JSONResponse:
        return JSONResponse({"detail": f"no prisoner with id {error.args[0]!r} in the directory"}, status_code=404)

    @app.exception_handler(PrisonerNotWritable)
    async def prisoner_not_writable(_: Request, error: PrisonerNotWritable) -> JSONResponse:
        return JSONResponse({"detail": f"prisoner {error.prisoner_id!r} is not receiving letters "
                                       f"(status: {error.status}); please choose someone else",
                             "prisoner_status": error.status}, status_code=409)

    @app.exception_handler(ClientRefReused)
    async def client_ref_reused(_: Request, __: ClientRefReused) -> JSONResponse:
        return JSONResponse(
            {"detail": "this client_ref was already used for a different letter; generate a new one"},
            status_code=409,
        )

    @app.exception_handler(KioskRefused)
    async def kiosk_refused(_: Request, error: KioskRefused) -> JSONResponse:
        # The kiosk reads `kiosk_refused` to say why, and keeps its unsent letters (kiosk-queue.js).
        days = {"valid_from": error.valid_from.isoformat(), "valid_until": error.valid_until.isoformat()} \
            if error.valid_from and error.valid_until else {}
        return JSONResponse({"detail": error.sentence(), "kiosk_refused": error.reason, **days}, status_code=403)
