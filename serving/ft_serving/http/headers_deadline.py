"""uvicorn's HTTP/1.1 protocol with a deadline on request headers.

uvicorn closes a connection idle between two requests (its keep-alive timeout), but not one that never
sends a first request, nor one that trickles its headers a byte at a time: each holds a place under the
connection limit for as long as its client likes, so a few of them shut every other client out,
/healthz included. Here a connection whose headers are not all in within the deadline, counted from the
moment it opens or its last response ends, is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadersDeadlineProtocol(H11Protocol):
    headers_timeout_s: float = 15.0  # set per server by with_headers_deadline

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request line and headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()  # the next request's headers get the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._headers_deadline = self.loop.call_later(self.headers_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._headers_deadline is not None:
            self._headers_deadline.cancel()
            self._headers_deadline = None

    def _headers_late(self) -> None:
        self._headers_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def with_headers_deadline(seconds: float) -> type[HeadersDeadlineProtocol]:
    """The protocol class for one server, its deadline fixed (uvicorn instantiates it per connection)."""
    return type("HeadersDeadlineProtocol", (HeadersDeadlineProtocol,), {"headers_timeout_s": seconds})
