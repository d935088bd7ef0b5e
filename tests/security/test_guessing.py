"""Guessing and load controls that fit: wrong tokens are throttled per address, valid tokens never
are, the submission limit stops an upload before it is read, a request head that never finishes
closes its connection, and the public summary computes only so many fresh reports per address.

A system of its own with low limits (the session's stack allows 100,000 a minute, as its suites
send bursts from one address). Each test speaks from its own loopback address (127.0.0.N), so
the counts of one test never reach another.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Stack, start_stack
from tests.infra import remove_namespace
from tests.security.conftest import bearer
from tests.support import letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WRONG_TOKENS = 5  # per address and minute, then 429
SUBMISSIONS = 3  # anonymous letters per address and minute
SUMMARIES = 3  # public summaries computed afresh per address and minute
HEAD_TIMEOUT_S = 3  # a request head must arrive within this

STAFF_READS = {"intake": "/api/v1/audit", "sorting": "/api/v1/moderation/facets", "delivery": "/api/v1/audit"}


@pytest.fixture(scope="module")
def throttled(infra) -> Iterator[Stack]:
    log_dir = infra.log_dir / "throttled"
    log_dir.mkdir(exist_ok=True)
    own = dataclasses.replace(infra, namespace=f"{infra.namespace}g", log_dir=log_dir)
    running = start_stack(own, {"STAFF_SIGN_IN_LIMIT": f"{WRONG_TOKENS}/minute",
                                "INTAKE_SUBMIT_RATE_LIMIT": f"{SUBMISSIONS}/minute",
                                "INTAKE_SUMMARY_RATE_LIMIT": f"{SUMMARIES}/minute",
                                "HTTP_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S)})
    yield running
    for service in running.services.values():
        service.process.terminate()
    asyncio.run(remove_namespace(own.amqp_url, own.namespace))


class From:
    """Requests to the throttled system from one loopback address, counted in the hostile-input tally."""

    def __init__(self, stack: Stack, tally, address: str) -> None:
        self.stack, self.tally, self.address = stack, tally, address

    async def request(self, service: str, method: str, path: str, *, expect: int, hostile: bool = True,
                      **kwargs) -> httpx.Response:
        transport = httpx.AsyncHTTPTransport(local_address=self.address)
        async with httpx.AsyncClient(base_url=self.stack.url(service), transport=transport, timeout=30) as client:
            answer = await client.request(method, path, **kwargs)
        if hostile:
            self.tally.observe(f"{service} {method} {path} from {self.address}", answer.status_code, {expect},
                               answer.text)
        assert answer.status_code == expect, f"{service} {method} {path}: {answer.status_code} {answer.text[:200]}"
        if expect == 429:
            assert int(answer.headers["Retry-After"]) > 0
        return answer

    async def guess_until_throttled(self, service: str, method: str, path: str, refused: int, **kwargs) -> None:
        """WRONG_TOKENS wrong tokens are refused as usual; the next one is a 429."""
        for _ in range(WRONG_TOKENS):
            await self.request(service, method, path, expect=refused, headers=bearer(secrets.token_urlsafe(32)),
                               **kwargs)
        await self.request(service, method, path, expect=429, headers=bearer(secrets.token_urlsafe(32)), **kwargs)


@pytest.fixture
def tokens(throttled) -> dict[str, str]:
    return {"admin": throttled.demo_token("staff token (admin)"), "kiosk": throttled.demo_token("kiosk token")}


async def test_a_valid_staff_token_works_on_every_service_while_its_address_is_throttled(throttled, tally, tokens):
    office = From(throttled, tally, "127.0.0.11")
    for service, path in STAFF_READS.items():
        await office.guess_until_throttled(service, "GET", path, 401)
        # The admin behind the same address as the guesser is not locked out…
        await office.request(service, "GET", path, expect=200, hostile=False, headers=bearer(tokens["admin"]))
        # …while the guesser stays throttled, and another address is not.
        await office.request(service, "GET", path, expect=429, headers=bearer(secrets.token_urlsafe(32)))
        await From(throttled, tally, "127.0.0.12").request(service, "GET", path, expect=401,
                                                             headers=bearer(secrets.token_urlsafe(32)))


async def test_wrong_receipt_tokens_are_throttled_and_the_right_receipt_still_opens_the_letter(throttled, tally):
    writer = From(throttled, tally, "127.0.0.13")
    accepted = (await writer.request("intake", "POST", "/api/v1/letters", expect=201, hostile=False,
                                     json=letter())).json()
    guesser = From(throttled, tally, "127.0.0.14")
    path = f"/api/v1/letters/{accepted['id']}"
    for _ in range(WRONG_TOKENS):
        await guesser.request("intake", "GET", path, expect=404, params={"receipt_token": secrets.token_urlsafe(32)})
    await guesser.request("intake", "GET", path, expect=429, params={"receipt_token": secrets.token_urlsafe(32)})
    await guesser.request("intake", "DELETE", f"{path}/contact", expect=429,
                          params={"receipt_token": secrets.token_urlsafe(32)})
    # The writer's own receipt works, even from the guesser's address.
    await guesser.request("intake", "GET", path, expect=200, hostile=False,
                          params={"receipt_token": accepted["receipt_token"]})
    await guesser.request("intake", "DELETE", f"{path}/contact", expect=204, hostile=False,
                          params={"receipt_token": accepted["receipt_token"]})


async def test_wrong_kiosk_tokens_are_throttled_and_the_kiosk_still_works(throttled, tally, tokens):
    kiosk_address = From(throttled, tally, "127.0.0.15")
    await kiosk_address.guess_until_throttled("intake", "GET", "/api/v1/kiosk", 401)
    await kiosk_address.request("intake", "POST", "/api/v1/letters", expect=429,
                                json=letter(source={"channel": "kiosk"}), headers=bearer(secrets.token_urlsafe(32)))
    await kiosk_address.request("intake", "GET", "/api/v1/kiosk", expect=200, hostile=False,
                                headers=bearer(tokens["kiosk"]))
    await kiosk_address.request("intake", "POST", "/api/v1/letters", expect=201, hostile=False,
                                json=letter(source={"channel": "kiosk"}), headers=bearer(tokens["kiosk"]))


async def test_guessed_hand_over_links_are_throttled(throttled, tally):
    guesser = From(throttled, tally, "127.0.0.16")
    for _ in range(WRONG_TOKENS):
        await guesser.request("delivery", "GET", f"/confirm/{secrets.token_urlsafe(32)}", expect=404)
    await guesser.request("delivery", "POST", f"/confirm/{secrets.token_urlsafe(32)}", expect=429,
                          data={"outcome": "handed_over"})


async def _half_sent_upload(stack: Stack, address: str, wait_s: float) -> bytes | None:
    """Start a 40 MB multipart letter, send only its first 64 KB, and wait for an answer.

    Returns the status line, or None if the server is (rightly, under the limit) still waiting for
    the rest of the upload.
    """
    url = urlsplit(stack.url("intake"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port, local_addr=(address, 0))
    boundary = f"sec{secrets.token_hex(8)}"
    start = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"letter\"\r\n\r\n{json.dumps(letter())}\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"pages\"; filename=\"page.jpg\"\r\n"
             "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff\xe0" + secrets.token_bytes(65_536)
    head = (f"POST /api/v1/letters HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {40 * 1024 * 1024}\r\n\r\n")
    try:
        writer.write(head.encode() + start)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.readline(), wait_s)
        except TimeoutError:
            return None
    finally:
        writer.close()


async def test_the_submission_limit_answers_429_before_reading_a_large_upload(throttled, tally):
    address = "127.0.0.17"
    writer = From(throttled, tally, address)
    # Control: under the limit, intake waits for the upload it was promised (and counts the letter).
    assert await _half_sent_upload(throttled, address, wait_s=3) is None
    for _ in range(SUBMISSIONS - 1):
        await writer.request("intake", "POST", "/api/v1/letters", expect=201, hostile=False, json=letter())
    # Past the limit the same upload is answered at once, with 39.9 MB of it never sent.
    status_line = await _half_sent_upload(throttled, address, wait_s=15)
    tally.observe(f"intake POST /api/v1/letters half-sent upload from {address}",
                  int(status_line.split()[1]) if status_line else None, {429})
    assert status_line and status_line.split()[1] == b"429", status_line


async def _seconds_until_closed(stack: Stack, service: str, address: str, send) -> float | None:
    """Open a connection, let `send(writer)` dribble a request head, and time how long until the
    server closes the connection (None: still open after three times the head timeout)."""
    url = urlsplit(stack.url(service))
    reader, writer = await asyncio.open_connection(url.hostname, url.port, local_addr=(address, 0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    sender = asyncio.create_task(send(writer, url.netloc))
    try:
        closed = await asyncio.wait_for(reader.read(), 3 * HEAD_TIMEOUT_S)
        return loop.time() - started if closed == b"" else None
    except TimeoutError:
        return None
    finally:
        sender.cancel()
        writer.close()


@pytest.mark.parametrize("service", ["intake", "sorting", "delivery"])
async def test_a_request_head_that_never_finishes_is_closed(throttled, tally, service):
    async def half_a_head(writer, host):
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n".encode())
        await writer.drain()

    async def a_byte_a_second(writer, host):
        for byte in f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode():
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1)

    for dribble in (half_a_head, a_byte_a_second):
        seconds = await _seconds_until_closed(throttled, service, "127.0.0.18", dribble)
        # Closed in time counts as refused (it amounts to a 408 Request Timeout; the server sends nothing).
        tally.observe(f"{service} slow request head ({dribble.__name__})", None if seconds is None else 408, {408})
        assert seconds is not None and HEAD_TIMEOUT_S - 0.5 <= seconds <= HEAD_TIMEOUT_S + 2, seconds
    # A whole request on the same kind of connection is answered as usual.
    await From(throttled, tally, "127.0.0.18").request(service, "GET", "/healthz", expect=200, hostile=False)


BODY_TIMEOUT_S = 2 * HEAD_TIMEOUT_S  # a body's own time, before its pace counts (shared/slow_clients.py)


async def _dribbled_body(stack: Stack, address: str, body: bytes, chunk: int) -> tuple[bytes | None, float]:
    """POST a letter whose head arrives at once and whose body comes `chunk` bytes a second: the
    status line of the answer (None if none came) and the seconds it took."""
    url = urlsplit(stack.url("intake"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port, local_addr=(address, 0))
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def send() -> None:
        writer.write(f"POST /api/v1/letters HTTP/1.1\r\nHost: {url.netloc}\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(body)}\r\n\r\n".encode())
        for start in range(0, len(body), chunk):
            writer.write(body[start:start + chunk])
            await writer.drain()
            await asyncio.sleep(1)

    sender = asyncio.create_task(send())
    try:
        status = await asyncio.wait_for(reader.readline(), BODY_TIMEOUT_S + len(body) / chunk + 10)
        return status or None, loop.time() - started
    except (TimeoutError, ConnectionError):
        return None, loop.time() - started
    finally:
        sender.cancel()
        writer.close()


async def test_a_request_body_sent_a_byte_at_a_time_is_cut_off_with_408(throttled, tally):
    status, seconds = await _dribbled_body(throttled, "127.0.0.21", json.dumps(letter()).encode(), chunk=1)
    tally.observe("intake slow request body (a byte a second)", int(status.split()[1]) if status else None, {408})
    assert status is not None and status.split()[1] == b"408", status
    assert BODY_TIMEOUT_S - 0.5 <= seconds <= BODY_TIMEOUT_S + 3, seconds


async def test_a_request_body_that_keeps_a_modest_pace_is_taken_however_long_it_takes(throttled):
    # 2 kB a second (twice the least pace) for longer than a body's own time: a slow link, not an attack.
    padded = json.dumps(letter()).encode().ljust(8 * 2048)
    status, seconds = await _dribbled_body(throttled, "127.0.0.22", padded, chunk=2048)
    assert status is not None and status.split()[1] == b"201", status
    assert seconds > BODY_TIMEOUT_S


async def test_the_public_summary_refuses_unknown_events_and_limits_fresh_computations(throttled, tally):
    reader = From(throttled, tally, "127.0.0.19")
    await reader.request("intake", "GET", "/api/v1/results/public", expect=404, params={"event": "e_made_up_42"})
    for year in range(2001, 2001 + SUMMARIES):
        await reader.request("intake", "GET", "/api/v1/results/public", expect=200, hostile=False,
                             params={"year": year})
    await reader.request("intake", "GET", "/api/v1/results/public", expect=429, params={"year": 2001 + SUMMARIES})
    # What is already computed is served from the cache to everyone, throttled or not.
    await reader.request("intake", "GET", "/api/v1/results/public", expect=200, hostile=False, params={"year": 2001})


async def test_the_shareable_image_is_throttled_like_the_summary_and_free_once_drawn(throttled, tally):
    reader = From(throttled, tally, "127.0.0.20")
    image = "/api/v1/results/public/share.png"
    await reader.request("intake", "GET", image, expect=404, params={"event": "e_made_up_43"})
    # Each image not drawn yet counts once, even when the summary behind it is cached.
    for lang in ("uk", "en", "ru")[:SUMMARIES]:
        await reader.request("intake", "GET", image, expect=200, hostile=False, params={"year": 2050, "lang": lang})
    await reader.request("intake", "GET", image, expect=429, params={"year": 2051, "lang": "uk"})
    await reader.request("intake", "GET", image, expect=200, hostile=False, params={"year": 2050, "lang": "en"})
