"""What every service process has in common: connect, declare, serve health, stop cleanly.

Each service builds a `ServiceRuntime` in its composition root and hands it to `build_http_app`;
the service's own HTTP routes and message handlers stay in the service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker, RabbitExchange
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from shared.api_docs import docs_router
from shared.auth import FailedSignIns, StaffTokens
from shared.broker import ConsumerQueue, declare_topology, letters_exchange, make_broker, require_ack_policy
from shared.mongo import client_for, learn_server
from shared.mongo import ping as ping_mongo
from shared.outbox import Outbox
from shared.s3 import ObjectStore
from shared.settings import InfraSettings
from shared.slow_clients import head_deadline_protocol
from shared.topology import require_subscribers, service_queues, system_queues

log = logging.getLogger("service")


async def every(interval_s: float, job: Callable[[], Awaitable[object]], name: str, *, first_after_s: float = 0.0) -> None:
    """Run `job` forever, `interval_s` apart (a service's background work: sweeps, bundling, gauges);
    a failing run is logged and the next one comes anyway, so an outage never ends the loop."""
    await asyncio.sleep(first_after_s)
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever failed, the next run may succeed
            log.warning("background job failed; it runs again at the next interval",
                        extra={"job": name, "error": repr(error)})
        await asyncio.sleep(interval_s)

READINESS_TIMEOUT_S = 2.0
MAX_REQUEST_HEAD_BYTES = 128 * 1024
# At start the infrastructure may still be coming up (compose, Kubernetes): wait for it this long.
STARTUP_DEADLINE_S = 120.0

Hook = Callable[[], Awaitable[object]]


@dataclass
class Connections:
    """A service process's clients for the broker, its own database and the object store.

    Made once in the composition root; nothing connects before `ServiceRuntime.start`.
    """

    infra: InfraSettings
    broker: RabbitBroker
    mongo: AsyncMongoClient
    db: AsyncDatabase
    exchange: RabbitExchange
    store: ObjectStore

    @classmethod
    def make(cls, infra: InfraSettings, db_name: str) -> Connections:
        broker = make_broker(infra.amqp_url, timeout_s=infra.amqp_timeout_s)
        mongo = client_for(infra)
        return cls(infra=infra, broker=broker, mongo=mongo, db=mongo[infra.db_name(db_name)],
                   exchange=letters_exchange(infra.namespace), store=ObjectStore.from_settings(infra))

    def outbox(self) -> Outbox:
        """Events written with the service's own changes, relayed to the letters exchange."""
        return Outbox(self.db["outbox"], self.broker, self.exchange, publish_timeout_s=self.infra.amqp_timeout_s)


@dataclass
class ServiceRuntime:
    name: str
    connections: Connections
    staff_tokens: StaffTokens | None = None
    on_startup: list[Hook] = field(default_factory=list)
    background: list[Hook] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def infra(self) -> InfraSettings:
        return self.connections.infra

    @property
    def broker(self) -> RabbitBroker:
        return self.connections.broker

    @property
    def mongo(self) -> AsyncMongoClient:
        return self.connections.mongo

    @property
    def store(self) -> ObjectStore:
        return self.connections.store

    @property
    def queues(self) -> list[ConsumerQueue]:
        """The queues this service consumes: its entries in the catalogue (shared/topology.py)."""
        return service_queues(self.name, self.infra.namespace)

    async def start(self) -> None:
        # A wiring mistake, not an outage: refused before anything connects.
        require_subscribers(self.broker, self.name, self.infra.namespace)
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(STARTUP_DEADLINE_S),
            wait=wait_exponential(multiplier=0.2, max=5),
            retry=retry_if_exception_type(Exception),
            reraise=True,
        ):
            with attempt:
                await self.store.ensure_bucket()
                await ping_mongo(self.mongo)
                await learn_server(self.mongo)
                await self.broker.connect()
                # Exchanges and queues first, the whole system's: start-up hooks may already publish
                # (the demo campaign does), and no consumer may miss an event for want of its queue.
                async with asyncio.timeout(4 * self.infra.amqp_timeout_s):
                    await declare_topology(self.broker, system_queues(self.infra.namespace),
                                           management_url=self.infra.rabbitmq_management_url)
        for hook in self.on_startup:
            await hook()
        require_ack_policy(self.broker)
        await self.broker.start()
        self._tasks = [asyncio.create_task(loop()) for loop in self.background]
        log.info("service started", extra={"queues": [q.full_name for q in self.queues]})

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Stops consuming, then waits up to the broker's graceful timeout for handlers in progress.
        await self.broker.stop()
        await self.mongo.close()
        log.info("service stopped")

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, Callable[[], Awaitable[object]]] = {
            "broker": self._ping_broker,
            "mongodb": lambda: ping_mongo(self.mongo),
            "s3": self.store.ping,
        }
        results = await asyncio.gather(*(_check(fn) for fn in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def _ping_broker(self) -> None:
        if not await self.broker.ping(timeout=READINESS_TIMEOUT_S):
            raise ConnectionError("broker connection is down")

    def asyncapi(self) -> AsyncAPI:
        return AsyncAPI(self.broker, title=f"{self.name} service", version="1.0.0", schema_version="3.0.0")


async def _check(fn: Callable[[], Awaitable[object]]) -> str:
    try:
        await asyncio.wait_for(fn(), READINESS_TIMEOUT_S)
    except Exception as error:
        return f"down: {type(error).__name__}"
    return "ok"


def operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Alive (the process answers)")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": runtime.name}

    @router.get("/readyz", summary="Ready: broker, MongoDB and S3 answer", responses={503: {}})
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", summary="AsyncAPI document of this service's messages")
    async def asyncapi_json() -> Response:
        return Response(runtime.asyncapi().to_specification().to_json(), media_type="application/json")

    return router


# Bodies larger than this are refused while they stream in, before anything reads them whole.
MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 as soon as a request body passes its limit, declared or streamed.

    A multipart upload may be as large as the service says (`upload_bytes`, from its own limits:
    intake's photographed pages, delivery's reply scans); any other body is MAX_BODY_BYTES at most."""

    def __init__(self, app, upload_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.upload_bytes = upload_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.upload_bytes if multipart else MAX_BODY_BYTES
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, limit)


class RefuseAmbiguousInput:
    """ASGI middleware: 422 for a query parameter given twice, and for a JSON body holding an
    unpaired surrogate escape such as "\\ud800".

    A repeated parameter would be read as its last value. json.loads accepts the escape, but the string it makes cannot be written as UTF-8 or BSON, so the
    request would fail later, as a 500, in the 422 handler or in MongoDB. Only bodies that contain
    such an escape at all are parsed a second time. Runs inside BodySizeLimit, which caps the buffer.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and repeated_query_parameter(scope.get("query_string", b"")):
            # No operation takes a list in the query: a second value would silently replace the first.
            return await _answer(send, 422, "a query parameter is given more than once")
        if scope["type"] != "http" or dict(scope.get("headers") or []).get(b"content-type", b"").startswith(
                b"multipart/"):
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay(message, receive), send)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if has_unpaired_surrogate(bytes(body)):
            return await _answer(send, 422, "the request contains text that is not valid Unicode")
        await self.app(scope, _replay({"type": "http.request", "body": bytes(body), "more_body": False}, receive),
                       send)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def repeated_query_parameter(query_string: bytes) -> bool:
    names = [name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)]
    return len(names) != len(set(names))


def has_unpaired_surrogate(body: bytes) -> bool:
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON at all: the route refuses it with its own words
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except RecursionError:
        return False
    return False


def _replay(first, receive):
    given = False

    async def replay():
        nonlocal given
        if given:
            return await receive()
        given = True
        return first

    return replay


class _BodyTooLarge(HTTPException):
    # An HTTPException, so FastAPI answers it as such instead of wrapping it into a 400.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is larger than {limit // 1024} KB")


async def _too_large(send, limit: int) -> None:
    await _answer(send, 413, f"the request is larger than {limit // 1024} KB")


async def _answer(send, status: int, detail: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


def _install_input_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        # Never echo the input back: it may hold a writer's address, or not even be valid text.
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in error.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(UnicodeError)
    async def invalid_text(_: Request, __: UnicodeError) -> JSONResponse:
        return JSONResponse({"detail": "the request contains text that is not valid Unicode"}, status_code=422)


def build_http_app(runtime: ServiceRuntime, *, title: str, description: str, routers: list[APIRouter],
                   upload_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # /docs, /redoc and /asyncapi come from the project's own files (shared/api_docs), not from CDNs.
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    # Added last is outermost: the size limit caps what the surrogate check buffers.
    app.add_middleware(RefuseAmbiguousInput)
    app.add_middleware(BodySizeLimit, upload_bytes=upload_bytes)
    _install_input_errors(app)
    app.state.runtime = runtime
    app.state.staff_tokens = runtime.staff_tokens
    failed_sign_ins = FailedSignIns(runtime.connections.db["failed_sign_ins"], runtime.infra.staff_sign_in_limit)
    runtime.on_startup.insert(0, failed_sign_ins.ensure_indexes)
    app.state.failed_sign_ins = failed_sign_ins
    app.include_router(operations_router(runtime))
    app.include_router(docs_router())
    for router in routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, host: str, port: int, log_level: str) -> None:
    # uvicorn turns SIGTERM into a graceful shutdown: stop accepting, finish requests, run lifespan exit.
    # Afterwards it re-raises the signal to the handler that was installed before it; a no-op one
    # lets a cleanly finished shutdown exit with status 0 instead of dying by the signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=25,
        access_log=False,
        # h11 refuses a request head only when it arrives in pieces and the pieces pass its limit
        # (16 KB by default): a 20 KB header got a 404 or a 400 and a reset, depending on how TCP
        # split it. One fixed, generous ceiling for the head makes the answer the same every time.
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        # A head that never finishes (slowloris) would hold its connection for ever.
        http=head_deadline_protocol(app.state.runtime.infra.http_head_timeout_s),
    )
