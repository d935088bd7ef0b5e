"""Fixtures for the hostile-input suite, and the tally it prints at the end of the run.

Every hostile request goes through `probe` (schemathesis calls through `tally.observe`), so
the summary line counts real attempts, and every failure is counted, whether or not its test is a
known defect marked xfail. Nothing here changes the services: it only talks to them from outside.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aio_pika
import httpx
import pytest
from pymongo import MongoClient

from shared.s3 import ObjectStore

# ---------------------------------------------------------------------------------------------
# The tally


@dataclass
class Tally:
    """Hostile inputs tried, and what went wrong, each noted with the test that saw it."""

    tried: int = 0
    accepted_wrongly: list[tuple[str, str]] = field(default_factory=list)
    server_errors: list[tuple[str, str]] = field(default_factory=list)
    leaks: list[tuple[str, str]] = field(default_factory=list)
    current_test: str = ""
    known_defect_tests: set[str] = field(default_factory=set)

    def observe(self, what: str, status: int | None, expected: Iterable[int], body: str = "", sent: str = "",
                known_defect: str | None = None) -> None:
        """Count one hostile request and classify its answer. `status` None: the connection broke.

        `known_defect` names the strict-xfail test of a defect this request is known to hit, when a
        test that looks for something else has to send it.
        """
        self.tried += 1
        expected = set(expected)
        test = KNOWN_DEFECT if known_defect else self.current_test
        if status is None or status >= 500:
            self.server_errors.append((test, f"{what}: {status if status else 'connection dropped'}"))
        elif 200 <= status < 300 and expected and all(code >= 400 for code in expected):
            self.accepted_wrongly.append((test, f"{what}: {status}"))
        for marker in internals_in(body, sent):
            self.leaks.append((test, f"{what}: response shows {marker!r}"))

    def leak(self, what: str) -> None:
        self.leaks.append((self.current_test, what))

    def wrongly_accepted(self, what: str) -> None:
        self.accepted_wrongly.append((self.current_test, what))

    def split(self, entries: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
        """(seen by tests of known defects, seen anywhere else)."""
        known = [text for test, text in entries if test in self.known_defect_tests]
        return known, [text for test, text in entries if test not in self.known_defect_tests]


TALLY = pytest.StashKey[Tally]()
KNOWN_DEFECT = "(a request known to hit a defect tested elsewhere)"


def _tally(config: pytest.Config) -> Tally:
    return config.stash.setdefault(TALLY, Tally())


@pytest.fixture(scope="session")
def tally(pytestconfig: pytest.Config) -> Tally:
    return _tally(pytestconfig)


@pytest.fixture(autouse=True)
def _tally_knows_the_test(request, tally) -> None:
    tally.current_test = request.node.nodeid


# Tests that ended as an expected failure: what they saw is a known defect, reported as such.
_KNOWN_XFAILS: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if hasattr(report, "wasxfail") and report.nodeid.startswith("tests/security/"):
        _KNOWN_XFAILS.add(report.nodeid)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config):
    """Printed after pytest's own short summary, so the line closes the report."""
    try:
        return (yield)
    finally:
        _print_tally(terminalreporter, config)


def _print_tally(terminalreporter, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if tally is None or not tally.tried:
        return
    tally.known_defect_tests |= _KNOWN_XFAILS | {KNOWN_DEFECT}
    terminalreporter.write_sep("-", "hostile input")
    counts = {}
    for title, entries in (("accepted wrongly", tally.accepted_wrongly), ("server errors", tally.server_errors),
                           ("leaks", tally.leaks)):
        known, unexpected = tally.split(entries)
        counts[title] = (len(entries), len(known), len(unexpected))
        for prefix, items in (("", unexpected), ("known defect, ", known)):
            for item in items[:12]:
                terminalreporter.write_line(f"  {prefix}{title}: {item[:300]}")
            if len(items) > 12:
                terminalreporter.write_line(f"  {prefix}{title}: … and {len(items) - 12} more")
    terminalreporter.write_line(
        "  of these, seen by the tests of known defects (strict xfail): "
        + ", ".join(f"{title} {known}" for title, (_, known, _) in counts.items())
    )
    terminalreporter.write_line(
        f"security: {tally.tried} hostile inputs tried, accepted wrongly: {counts['accepted wrongly'][0]}, "
        f"server errors: {counts['server errors'][0]}, leaks: {counts['leaks'][0]}"
    )


# What an answer must never show: a stack trace, source paths, library or exception class names.
_INTERNALS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]*\"|/work/|/usr/lib/python|site-packages|\.py\"|\.py\b:\d+"
    r"|\b[A-Z][A-Za-z0-9]*(?:Error|Exception)\b|\b(?:pymongo|starlette|uvicorn|faststream|aiormq|botocore|pydantic_core)\b"
)


def internals_in(body: str, sent: str = "") -> list[str]:
    """Markers of internals in a response body, ignoring whatever the request itself contained."""
    return sorted({m.group(0) for m in _INTERNALS.finditer(body or "") if m.group(0) not in (sent or "")})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run this folder's schema fuzzing after its other tests.

    With the admin token the fuzzer may rename prisoners, create events, revoke tokens or decide
    moderation; the hand-written probes should meet the demo campaign as it was loaded. Only the
    order of this folder's own tests changes.
    """
    fuzz = [item for item in items if item.nodeid.startswith("tests/security/test_api_fuzz.py")]
    if not fuzz:
        return
    others = [item for item in items if item not in fuzz]
    last_security = max((i for i, item in enumerate(others) if item.nodeid.startswith("tests/security/")),
                        default=len(others) - 1)
    items[:] = others[: last_security + 1] + fuzz + others[last_security + 1 :]


# ---------------------------------------------------------------------------------------------
# Infrastructure seen from outside


class BusTap:
    """Every message published on the session's letters exchange, from before the first probe.

    Runs in its own thread with its own event loop, so synchronous tests (schemathesis) that
    block the session loop for minutes never starve its heartbeats.
    """

    def __init__(self, amqp_url: str, exchange: str) -> None:
        self._amqp_url, self._exchange = amqp_url, exchange
        self._messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="bus-tap", daemon=True)

    def start(self, timeout: float = 20.0) -> BusTap:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the bus tap did not bind its queue in time")
        if self._error:
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self._error is None

    def messages(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self._messages)

    async def until(self, predicate: Callable[[list[tuple[str, bytes]]], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.messages()):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} on the bus")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            connection = await aio_pika.connect(self._amqp_url, timeout=10)
            async with connection:
                channel = await connection.channel()
                exchange = await channel.get_exchange(self._exchange, ensure=True)
                queue = await channel.declare_queue("", exclusive=True, auto_delete=True)
                await queue.bind(exchange, routing_key="#")

                async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                    with self._lock:
                        self._messages.append((message.routing_key or "", message.body))

                await queue.consume(keep, no_ack=True)
                self._ready.set()
                await self._stop.wait()
        except BaseException as error:  # noqa: BLE001 - reported to the starting thread or by `alive`
            self._error = error
            self._ready.set()


@pytest.fixture(scope="session", autouse=True)
def bus_tap(stack):
    tap = BusTap(stack.infra.amqp_url, f"{stack.infra.namespace}.letters").start()
    yield tap
    tap.stop()


@pytest.fixture(scope="session")
def mongo(stack):
    client = MongoClient(stack.infra.mongodb_url, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture(scope="session")
def dbs(stack, mongo) -> dict:
    """Each service's own database, by service name."""
    return {name: mongo[f"{stack.infra.namespace}-{name}"] for name in ("intake", "sorting", "delivery")}


@pytest.fixture(scope="session")
def store(stack) -> ObjectStore:
    infra = stack.infra
    return ObjectStore(infra.s3_endpoint_url, infra.s3_access_key_id, infra.s3_secret_access_key, "us-east-1",
                       infra.s3_bucket)


@pytest.fixture(scope="session")
def tokens(stack) -> dict[str, str]:
    return {
        "admin": stack.demo_token("staff token (admin)"),
        "moderator": stack.demo_token("staff token (moderator)"),
        "operator": stack.demo_token("staff token (operator)"),
        "kiosk": stack.demo_token("kiosk token"),
    }


@pytest.fixture(scope="session")
def openapi(stack) -> dict[str, dict | None]:
    """Each service's live OpenAPI document; None for a service that does not serve one (yet)."""
    documents: dict[str, dict | None] = {}
    for name in ("intake", "sorting", "delivery"):
        try:
            answer = httpx.get(f"{stack.url(name)}/openapi.json", timeout=10)
            documents[name] = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            documents[name] = None
    assert documents["intake"], "intake serves no OpenAPI document"
    return documents


# ---------------------------------------------------------------------------------------------
# Sending hostile requests


# Every URL here is plain http on loopback; one TLS context for all clients spares loading the CA
# bundle for each of them (50 ms a client, most of a probe's time).
NO_TLS_NEEDED = ssl.create_default_context()


class Probe:
    """Sends one hostile request, counts it, classifies the answer and checks the expected status.

    A fresh connection per request: after a 500 the server closes the connection, and a reused
    one would blame the next request for it.
    """

    def __init__(self, stack, tally: Tally) -> None:
        self._stack, self._tally = stack, tally

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        expect: int | Iterable[int] | None,
        what: str = "",
        timeout: float = 30.0,
        inspect_body: bool = True,
        hostile: bool = True,
        known_defect: str | None = None,
        **kwargs,
    ) -> httpx.Response | None:
        """Send and check. `expect=None` only classifies; the caller asserts.

        `hostile=False` for the requests around a probe (setting up a letter, polling a receipt, a
        control with the right token): checked the same, but not counted as hostile input.
        `inspect_body=False` for pages and scripts, whose code may name its own error classes.
        """
        expected = {expect} if isinstance(expect, int) else set(expect or ())
        label = f"{service} {method} {path} {what}".strip()
        sent = _describe_request(kwargs)
        try:
            async with httpx.AsyncClient(base_url=self._stack.url(service), timeout=timeout, verify=NO_TLS_NEEDED,
                                         limits=httpx.Limits(max_keepalive_connections=0)) as client:
                answer = await client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            if hostile:
                self._tally.observe(label, None, expected, known_defect=known_defect)
            if expected:
                raise AssertionError(f"{label}: the server dropped the connection ({type(error).__name__})") from error
            return None
        body = answer.text if inspect_body else ""
        if hostile:
            self._tally.observe(label, answer.status_code, expected, body, sent, known_defect=known_defect)
        if expected:
            assert answer.status_code in expected, \
                f"{label}: expected {sorted(expected)}, got {answer.status_code}: {answer.text[:300]}"
            assert not internals_in(body, sent), f"{label}: the answer shows internals: {answer.text[:500]}"
        return answer


def _describe_request(kwargs: dict) -> str:
    parts = []
    for key in ("content", "json", "data", "params", "headers"):
        value = kwargs.get(key)
        if value is None:
            continue
        if isinstance(value, bytes):
            parts.append(value.decode("utf-8", "replace"))
        else:
            parts.append(json.dumps(value, ensure_ascii=False, default=str))
    files = kwargs.get("files")
    if files:
        parts.append(repr(files)[:100_000])
    return "\n".join(parts)


@pytest.fixture
def probe(stack, tally) -> Probe:
    return Probe(stack, tally)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
