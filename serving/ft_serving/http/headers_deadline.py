"""uvicorn's HTTP/1.1 protocol with a deadline on request headers.

uvicorn closes a connection idle between two requests (its keep-alive timeout), but not one that never
sends a first request, nor one that trickles its headers a byte at a time: each holds a place under the
connection limit for as long as its client likes, so a few of them shut every other client out,
/healthz included. Here a connection whose headers are not all in within the deadline, counted from the
moment it opens or its last response ends, is closed.

It extends the protocol uvicorn would pick itself (httptools' parser when installed, as the `http` extra
does, else h11): both start a new request cycle (``self.cycle``) once a request's headers are in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class HeadersDeadlineProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    headers_timeout_s: float = 15.0  # set per server by with_headers_deadline

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers_deadline: asyncio.TimerHandle | None = None
        self._armed_at: object = None  # the request cycle when the deadline was set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers get the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._armed_at = self.cycle
        self._headers_deadline = self.loop.call_later(self.headers_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._headers_deadline is not None:
            self._headers_deadline.cancel()
            self._headers_deadline = None

    def _headers_late(self) -> None:
        self._headers_deadline = None
        # No new request since the deadline was set, and none still being answered (a pipelined one
        # started by the last response): the client owes its headers, and the time is up.
        waiting = self.cycle is self._armed_at and (self.cycle is None or self.cycle.response_complete)
        if waiting and not self.transport.is_closing():
            self.transport.close()


def with_headers_deadline(seconds: float) -> type[HeadersDeadlineProtocol]:
    """The protocol class for one server, its deadline fixed (uvicorn instantiates it per connection)."""
    return type("HeadersDeadlineProtocol", (HeadersDeadlineProtocol,), {"headers_timeout_s": seconds})
