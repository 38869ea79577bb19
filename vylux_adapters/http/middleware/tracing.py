"""Tracing middleware (http-api §2.1 step 3): one SERVER span per request and an
``X-Trace-ID`` response header on every response.

The parent context comes from the W3C ``traceparent``/``tracestate``/``baggage`` request
headers; an incoming ``X-Trace-ID`` header is ignored (it never controls the trace).
The span starts under the request method and is renamed to the route template once
the router has stored it in ``scope["vylux.route"]`` (see ``middleware.metrics``);
unmatched requests keep the method as name, so raw paths never become span names.

An exception escaping the app before a response started is answered here with the
§2.2 ``500 {"message":"Internal Server Error"}`` — otherwise the recovery layer above
would write that 500 without the header — and then re-raised, so the recovery layer
and the server still see (and log) it.
"""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vylux_adapters.http.middleware.metrics import UNMATCHED_ROUTE, route_of
from vylux_adapters.telemetry.tracing import extract_context

TRACER_NAME = "vylux/http"
TRACE_ID_HEADER = b"x-trace-id"
TRACE_ID_SCOPE_KEY = "vylux.trace_id"
INTERNAL_ERROR_BODY = b'{"message":"Internal Server Error"}'


class TracingMiddleware:
    """Stores the trace id in ``scope["vylux.trace_id"]`` too, for inner layers."""

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider) -> None:
        self._app = app
        self._tracer = tracer_provider.get_tracer(TRACER_NAME)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        # Extracted onto an empty context: only the request's headers may parent the
        # span. Attached (not only passed as the parent) so that the request's baggage
        # stays in the context the handlers run in.
        token = otel_context.attach(extract_context(_headers(scope), otel_context.Context()))
        try:
            await self._traced(scope, receive, send, method)
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
            scope[TRACE_ID_SCOPE_KEY] = trace_id
            header = (TRACE_ID_HEADER, trace_id.encode("ascii"))
            status: int | None = None

            async def send_traced(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    headers = [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() != TRACE_ID_HEADER
                    ]
                    message = {**message, "headers": [*headers, header]}
                await send(message)

            try:
                await self._app(scope, receive, send_traced)
            except Exception as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                if status is None:
                    await _internal_error(send_traced, with_body=method != "HEAD")
                raise
            finally:
                _annotate(span, scope, status)


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
    route = route_of(scope)
    if route != UNMATCHED_ROUTE:
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
