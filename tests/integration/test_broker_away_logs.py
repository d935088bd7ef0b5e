"""The broker away for a while: the service reconnects by itself and says so in a few warnings, no errors.

The broker is reached through a TCP proxy on loopback that the test cuts (every connection reset,
new ones refused) and restores, so the machine's RabbitMQ, shared with other suites, keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from deploy.local import free_port, service_env, service_process
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AWAY_S = 8


class Proxy:
    """Forwards 127.0.0.1:port to the broker; `cut()` is the broker going away, `start()` its return.

    It runs its own event loop in a thread, so the test's blocking calls (stopping the service)
    never stall the traffic the service needs to stop cleanly.
    """

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def start(self) -> None:
        self._run(self._listen())

    def cut(self) -> None:
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is None:
            return
        self.server.close()
        for writer in list(self.pipes):
            writer.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.pipes |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self.pipes.discard(writer)


async def _ready(url: str) -> int | None:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            return (await client.get(f"{url}/readyz")).status_code
        except httpx.HTTPError:
            return None


async def test_a_broker_away_for_seconds_gives_warnings_once_per_interval_and_no_error(infra, tmp_path):
    broker = urlsplit(infra.amqp_url.split(",")[0])
    proxy = Proxy(free_port(), (broker.hostname, broker.port or 5672))
    proxy.start()
    through_proxy = urlunsplit(broker._replace(netloc=f"{broker.username}:{broker.password}@127.0.0.1:{proxy.port}"))
    namespace = f"{infra.namespace}away"
    env = {**infra.env(), "AMQP_URL": through_proxy, "NAMESPACE": namespace, "S3_BUCKET": f"letters-{namespace}"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    delivery = service_process("delivery", service_env("delivery", env, port), tmp_path).start()
    try:
        await eventually(lambda: _is(url, 200), 90, "delivery ready")
        proxy.cut()
        await eventually(lambda: _is(url, 503), 30, "readyz 503 with the broker away")
        await asyncio.sleep(AWAY_S)  # the outage itself: reconnect attempts every second meanwhile
        proxy.start()
        await eventually(lambda: _is(url, 200), 60, "readyz 200 with the broker back")
    finally:
        exit_code = delivery.terminate()
        proxy.close()
    assert exit_code == 0, "delivery did not stop cleanly after the outage"

    records = [json.loads(line) for line in (tmp_path / "delivery.log").read_text().splitlines()]
    libraries = [r for r in records if str(r.get("logger", "")).startswith(("aio_pika", "aiormq", "faststream"))]
    assert [r for r in libraries if r["level"] not in ("debug", "info", "warning")] == [], "a reconnect is no error"
    warnings = [r for r in libraries if r["level"] == "warning"]
    assert warnings, "the outage went unmentioned"
    # About one attempt a second for AWAY_S seconds, but each kind of line at most once per interval.
    kinds = [r["event"].split(":")[0][:40] for r in warnings]
    assert len(kinds) <= 2 * len(set(kinds)), kinds
    assert [r["event"] for r in records if r.get("logger") == "broker"] == ["broker connection restored"]


async def _is(url: str, status: int) -> bool:
    return await _ready(url) == status
