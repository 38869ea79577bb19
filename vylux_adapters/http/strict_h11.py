"""Strict HTTP/1.1 framing for hypercorn: what h11 tolerates and RFC 9112 forbids.

h11 parses a request that carries both ``Content-Length`` and ``Transfer-Encoding``
(chunked wins) and header lines ended by a bare LF. A proxy in front of us that frames
such a message differently sees another request boundary, so bytes it passed on as
one request's body reach us as a second request: request smuggling. RFC 9112 §6.1
says to refuse the first and close the connection; §2.2 allows a bare LF but does not
require it. Both are refused here with 400 and ``Connection: close``.

The checks run inside h11's parser, where the raw header bytes are still visible and
an error still closes the connection: an ASGI app sees neither the raw bytes nor
gets a keep-alive connection closed reliably. :class:`StrictH11Connection` overrides
h11's private ``_extract_next_receive_event``, so what it raises takes h11's own error
path (the peer's state becomes ``ERROR``) and hypercorn answers it like any parse
error: 400, ``Connection: close``, then the socket is closed. Hypercorn has no hook
for its parser, so :func:`install` swaps the ``H11Protocol`` class its protocol
wrapper instantiates for :class:`StrictH11Protocol`, which builds that connection.
:func:`install` refuses to run if either private hook is gone (a new h11 or hypercorn),
rather than serve without the checks.

Cost per request: a copy and a few scans of the header block, a few hundred bytes;
bodies are never scanned.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

import h11
import hypercorn.protocol
from hypercorn.protocol.h11 import H11Protocol

# h11 ends a header block at the first blank line, with or without CR.
_END_OF_HEADERS = re.compile(b"\n\r?\n")
BARE_LF = "bare LF line ending in the request header block (use CRLF)"
AMBIGUOUS_LENGTH = "request has both Content-Length and Transfer-Encoding"


class AmbiguousFraming(h11.RemoteProtocolError):
    """The request's framing could be read two ways; answered 400, connection closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, error_status_hint=400)


class StrictH11Connection(h11.Connection):
    """An h11 server connection that also refuses bare-LF header lines and requests
    with both ``Content-Length`` and ``Transfer-Encoding``; :attr:`refusal` is the
    reason of the last refusal."""

    refusal: str | None = None

    def _extract_next_receive_event(
        self,
    ) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        if self.their_state is h11.IDLE:
            # Before a request line is parsed the buffer starts with the next request's
            # header block (a pipelined one too), which h11 is about to parse.
            refusal = refusal_of(self.trailing_data[0])
            if refusal is not None:
                self.refusal = refusal
                raise AmbiguousFraming(refusal)
        return super()._extract_next_receive_event()


def refusal_of(buffered: bytes) -> str | None:
    """Why the header block at the start of ``buffered`` is refused, if it is.

    Works on the raw block: h11 accepts no space between a field name and its colon,
    and every field line starts right after a line end (a folded line starts with a
    space), so a line end followed by ``content-length:`` finds exactly the fields h11
    parses. None while the block is incomplete (h11 waits for more, or answers 431).
    """
    end = _END_OF_HEADERS.search(buffered)
    if end is None:
        return None
    block = buffered[: end.end()]
    if block.count(b"\n") != block.count(b"\r\n"):
        return BARE_LF
    lowered = block.lower()
    if b"\ntransfer-encoding:" in lowered and b"\ncontent-length:" in lowered:
        return AMBIGUOUS_LENGTH
    return None


class StrictH11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol on a :class:`StrictH11Connection`; its refusals
    carry their reason as a plain-text body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = StrictH11Connection(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
        )

    async def _send_error_response(self, status_code: int) -> None:
        reason = getattr(self.connection, "refusal", None)
        if reason is None:
            await super()._send_error_response(status_code)
            return
        body = reason.encode() + b"\n"
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await self._send_h11_event(
            h11.Response(
                status_code=status_code,
                headers=list(chain(headers, self.config.response_headers("h11"))),
            )
        )
        await self._send_h11_event(h11.Data(data=body))
        await self._send_h11_event(h11.EndOfMessage())


def install() -> None:
    """Make every hypercorn server of this process parse HTTP/1.1 strictly (idempotent)."""
    if not hasattr(h11.Connection, "_extract_next_receive_event"):
        raise RuntimeError("h11: no parser hook for the strict HTTP/1.1 checks")
    current = getattr(hypercorn.protocol, "H11Protocol", None)
    if current not in (H11Protocol, StrictH11Protocol) or not hasattr(
        H11Protocol, "_send_error_response"
    ):
        raise RuntimeError("hypercorn: no protocol hook for the strict HTTP/1.1 checks")
    setattr(hypercorn.protocol, "H11Protocol", StrictH11Protocol)  # noqa: B010
