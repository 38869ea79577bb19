"""Tracing middleware: one SERVER span per request and an ``X-Trace-ID`` response
header on every response.

The parent context comes from the W3C ``traceparent``/``tracestate``/``baggage`` request
headers; an incoming ``X-Trace-ID`` header is ignored (it never controls the trace).
The span starts under the request method and is renamed to the template of the route
Starlette's router matched (:func:`~vylux_adapters.http.handoff.route_template`);
unmatched requests keep the method as name, so raw paths never become span names.

An exception escaping the app before a response started is answered here with
``500 {"message":"Internal Server Error"}`` — otherwise the recovery layer above
would write that 500 without the header — and then re-raised, so the recovery layer
and the server still see (and log) it.

A provider that samples nothing (``ALWAYS_OFF``: no exporter configured) gets a
shortcut: the non-recording span the SDK would make — the parent's trace id or a
fresh one, a new span id, no flags — is made here directly and made current, which
is all handlers, logs and carriers read from it. Going through the SDK for it, and
through the propagators for requests without trace headers, is a large share of
serving a cached rendition.
"""

from __future__ import annotations

import random

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TracerProvider,
    TraceState,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.handoff import UNMATCHED, route_template
from vylux_adapters.telemetry.tracing import extract_context

TRACER_NAME = "vylux/http"
TRACE_ID_HEADER = b"x-trace-id"
INTERNAL_ERROR_BODY = b'{"message":"Internal Server Error"}'
_CONTEXT_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_NO_TRACE_STATE = trace.INVALID_SPAN_CONTEXT.trace_state
# A Context cannot be changed (setting a key raises; set_value makes a new one), so
# every request without trace headers can start from the same empty one.
_EMPTY_CONTEXT = otel_context.Context()


class TracingMiddleware:
    def __init__(
        self, app: ASGIApp, tracer_provider: TracerProvider, rng: random.Random | None = None
    ) -> None:
        self._app = app
        self._tracer = tracer_provider.get_tracer(TRACER_NAME)
        self._records = getattr(tracer_provider, "sampler", None) is not ALWAYS_OFF
        self._rng = rng or random.Random()  # seeded from os.urandom, as the SDK's ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        # Extracted onto an empty context: only the request's headers may parent the
        # span. Attached (not only passed as the parent) so that the request's baggage
        # stays in the context the handlers run in.
        parent = _request_context(scope)
        if self._records:
            token = otel_context.attach(parent)
            try:
                await self._traced(scope, receive, send, method)
            finally:
                otel_context.detach(token)
            return
        # The shortcut of the module docstring, inline: a coroutine call less per request.
        incoming = trace.get_current_span(parent).get_span_context() if parent else None
        if incoming is not None and incoming.is_valid:
            trace_id, trace_state = incoming.trace_id, incoming.trace_state
        else:  # most requests: no trace headers at all
            trace_id, trace_state = _random_id(self._rng, 128), _NO_TRACE_STATE
        span = _UnsampledSpan(trace_id, trace_state, self._rng)
        # The fastest way to 32 hex digits (format() and % are slower).
        response = _ResponseStart(send, trace_id.to_bytes(16, "big").hex().encode("ascii"))
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self._app(scope, receive, response.send)
        except Exception:
            if response.status is None:
                await _internal_error(response.send, with_body=method != "HEAD")
            raise
        finally:
            otel_context.detach(token)

    async def _traced(self, scope: Scope, receive: Receive, send: Send, method: str) -> None:
        with self._tracer.start_as_current_span(
            method,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
            # Recorded below, where it is known whether a response was already sent.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            response = _ResponseStart(send, trace_id.encode("ascii"))
            try:
                await self._app(scope, receive, response.send)
            except Exception as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                if response.status is None:
                    await _internal_error(response.send, with_body=method != "HEAD")
                raise
            finally:
                _annotate(span, scope, response.status)


class _ResponseStart:
    """The ``send`` that puts ``X-Trace-ID`` on the response start and notes its status."""

    __slots__ = ("_header", "_send", "status")

    def __init__(self, send: Send, trace_id: bytes) -> None:
        self._send = send
        self._header = (TRACE_ID_HEADER, trace_id)
        self.status: int | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            # Appended, not replaced: no layer inside sets X-Trace-ID.
            message["headers"] = [*message.get("headers", ()), self._header]
        await self._send(message)


class _UnsampledSpan(NonRecordingSpan):
    """The non-recording span the SDK makes for an unsampled request, its span context
    (and span id) made when first asked for: a cached image never asks, and building
    a SpanContext is a large part of this middleware's cost per request."""

    def __init__(self, trace_id: int, trace_state: TraceState, rng: random.Random) -> None:
        # NonRecordingSpan's own __init__ only stores a context, which
        # get_span_context below replaces: not calling it saves a call per request.
        self._trace_id = trace_id
        self._trace_state = trace_state
        self._rng = rng
        self._made: SpanContext | None = None

    def get_span_context(self) -> SpanContext:
        if self._made is None:
            self._made = SpanContext(
                trace_id=self._trace_id,
                span_id=_random_id(self._rng, 64),
                is_remote=False,
                trace_state=self._trace_state,
            )
        return self._made

    def __repr__(self) -> str:
        return f"_UnsampledSpan({self.get_span_context()!r})"


def _random_id(rng: random.Random, bits: int) -> int:
    # Zero is the invalid id in W3C trace context.
    while True:
        value = rng.getrandbits(bits)
        if value:
            return value


def _request_context(scope: Scope) -> otel_context.Context:
    # Request header names arrive lower-cased (ASGI). A plain loop: cheaper than any()
    # over a generator, on every request.
    for name, _ in scope["headers"]:
        if name in _CONTEXT_HEADERS:
            return extract_context(_headers(scope), _EMPTY_CONTEXT)
    return _EMPTY_CONTEXT


def _headers(scope: Scope) -> dict[str, str]:
    # Repeated headers are joined with "," (the HTTP list rule, right for tracestate
    # and baggage); a repeated traceparent thus becomes invalid, as W3C requires.
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _annotate(span: Span, scope: Scope, status: int | None) -> None:
    route = route_template(scope)
    if route != UNMATCHED:
        span.update_name(route)
        span.set_attribute("http.route", route)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:  # 4xx are the client's errors, not the server span's (semconv)
            span.set_status(Status(StatusCode.ERROR))


async def _internal_error(send: Send, *, with_body: bool) -> None:
    body = INTERNAL_ERROR_BODY if with_body else b""
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
