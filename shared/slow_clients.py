"""Slow clients cannot hold the servers' connections.

A client that sends its request head a byte at a time (slowloris) keeps a connection, and a few
hundred such clients keep them all: uvicorn's keep-alive timer stops as soon as the first byte of
the next request arrives, and nothing else bounds the wait. Here a connection that has not
delivered a whole request head within `head_timeout_s` of starting to wait for one is closed.
(Slow bodies are bounded where bodies are read: intake's upload reader.)
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol


def head_deadline_protocol(head_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head does not arrive in time."""

    class HeadDeadlineH11(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._expect_head()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_head():
                self._expect_head()  # the deadline runs from when the wait began, not from the last byte
            else:
                self._drop_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self._awaiting_head():
                self._drop_deadline()
                self._expect_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._drop_deadline()
            super().connection_lost(exc)

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
