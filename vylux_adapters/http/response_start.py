"""One ``send`` wrapper per request, shared by every layer that shapes the response start.

Request id, trace id, cache headers, the metrics' status and the recovery layer's "has
a response started?" all need to see ``http.response.start``. Each used to wrap
``send`` in its own closure: five wrappers, each two more coroutine calls per
response and its own copy of the header list, which together cost more than the
route that serves a cached rendition. Now the outermost layer that asks wraps ``send``
once (:func:`shape_response`) and leaves a :class:`ResponseStart` in the scope; the
layers inside it register their headers and edits there and pass ``send`` on as they
got it. This is litestar's ``before_send`` hook list, kept in the ASGI scope so that
each layer still works on its own around any ASGI app.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Scope, Send

RESPONSE_START = "vylux.response_start"

Headers = list[tuple[bytes, bytes]]
HeaderEdit = Callable[[int, Headers], None]


class ResponseStart:
    """Headers set and edits made to the response start of one request, and its status.

    A header in :attr:`set_headers` (lower-case name → value) replaces any of that
    name the response brings; edits run after that, in registration order, with the
    status and the header list to change in place. The object is also the wrapped
    ``send`` itself.
    """

    __slots__ = ("_edits", "_send", "set_headers", "status")

    def __init__(self, send: Send) -> None:
        self.status: int | None = None
        # A plain dict, not a setter method: a call less per header on every request.
        self.set_headers: dict[bytes, bytes] = {}
        self._send = send
        self._edits: list[HeaderEdit] = []

    @property
    def started(self) -> bool:
        """Whether ``http.response.start`` has gone out: nothing else can be answered."""
        return self.status is not None

    def on_start(self, edit: HeaderEdit) -> None:
        self._edits.append(edit)

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._apply(message)
        await self._send(message)

    def _apply(self, message: Message) -> None:
        status = int(message["status"])
        self.status = status
        replaced = self.set_headers
        headers: Headers = [pair for pair in message.get("headers", ()) if pair[0] not in replaced]
        headers.extend(replaced.items())
        for edit in self._edits:
            edit(status, headers)
        message["headers"] = headers


def shape_response(scope: Scope, send: Send) -> tuple[ResponseStart, Send]:
    """The request's :class:`ResponseStart` and the ``send`` to pass on.

    The first caller for a request gets a new one, which wraps ``send``; every later
    caller (a layer further in) gets the same object and its own ``send`` unchanged.
    """
    shared: ResponseStart | None = scope.get(RESPONSE_START)
    if shared is not None:
        return shared, send
    start = scope[RESPONSE_START] = ResponseStart(send)
    return start, start
