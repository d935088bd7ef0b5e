"""Slow clients cannot hold the servers' connections.

A client that sends its request head a byte at a time (slowloris) keeps a connection, and a few
hundred such clients keep them all: uvicorn's keep-alive timer stops as soon as the first byte of
the next request arrives, and nothing else bounds the wait. Here a connection that has not
delivered a whole request head within `head_timeout_s` of starting to wait for one is closed.

A body sent a byte at a time holds a connection (and a handler waiting for it) the same way. A
body has `body_timeout_s` (twice the head's, unless given) plus one second for every
`body_min_rate` bytes it brings (Apache's mod_reqtimeout works so): a page of 40 MB over a slow
mobile link keeps going, a dribble of bytes is answered 408 and closed. Only the client's own
slowness counts: while the server has paused reading (its handler is behind) the clock waits.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol

# A body must keep coming at this pace (bytes per second) once its first `body_timeout_s` are used:
# 8 kbit/s, slower than any phone that can send a photograph at all.
BODY_MIN_RATE = 1000

_BODY_TOO_SLOW = json.dumps({"detail": "the request body arrived too slowly; send it again"}).encode()
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: " + str(len(_BODY_TOO_SLOW)).encode() + b"\r\n\r\n" + _BODY_TOO_SLOW
)


def head_deadline_protocol(head_timeout_s: float, *, body_timeout_s: float | None = None,
                           body_min_rate: int = BODY_MIN_RATE) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head or body does not arrive in time."""
    body_base_s = 2 * head_timeout_s if body_timeout_s is None else body_timeout_s

    class HeadDeadlineH11(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None
        _body_deadline: asyncio.TimerHandle | None = None
        _body_started = 0.0
        _body_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._expect_head()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_head():
                self._expect_head()  # the deadline runs from when the wait began, not from the last byte
            else:
                self._drop_deadline()
                self._count_body(len(data))

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self._awaiting_head():
                self._drop_deadline()
                self._expect_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._drop_deadline()
            self._drop_body_deadline()
            super().connection_lost(exc)

        def _receiving_body(self) -> bool:
            return self.cycle is not None and self.cycle.more_body and not self.cycle.disconnected

        def _count_body(self, received: int) -> None:
            if not self._receiving_body():
                self._drop_body_deadline()
                return
            if self._body_deadline is None:
                # A new body: its clock starts with the head that announced it.
                self._body_started, self._body_bytes = self.loop.time(), 0
                self._body_deadline = self.loop.call_later(body_base_s, self._body_check)
            self._body_bytes += received

        def _body_check(self) -> None:
            self._body_deadline = None
            if not self._receiving_body() or self.transport.is_closing():
                return
            if self.flow.read_paused:
                # The server is not reading (its handler is behind): this second is not the client's.
                self._body_started += 1.0
                self._body_deadline = self.loop.call_later(1.0, self._body_check)
                return
            allowed = self._body_started + body_base_s + self._body_bytes / body_min_rate
            if self.loop.time() < allowed:
                self._body_deadline = self.loop.call_at(allowed, self._body_check)
                return
            if not self.cycle.response_started:
                self.transport.write(REQUEST_TIMEOUT_RESPONSE)
            self.transport.close()

        def _drop_body_deadline(self) -> None:
            if self._body_deadline is not None:
                self._body_deadline.cancel()
                self._body_deadline = None

        def _awaiting_head(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _expect_head(self) -> None:
            if self._head_deadline is None:
                self._head_deadline = self.loop.call_later(head_timeout_s, self._head_too_slow)

        def _drop_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self._awaiting_head() and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadlineH11
