"""The one table from errors to HTTP answers, per route family (spec §2.2, §5–§8).

A route raises core errors and lets :func:`error_response` answer; middleware uses the
small constructors below for the answers that are not errors of a service (router
404/405, rate limiting). No other module builds an error body.

Order matters inside a family: the first rule whose class (and, for
``SourceFetchFailed``, whose wrapped cause) matches wins, so leaves come before their
families. Anything no rule matches is a bug: 500, logged with the request id, and the
client sees no internal text.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping

from attrs import frozen
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Scope

from vylux_adapters.http.handoff import request_id_of
from vylux_core.errors import (
    DatabaseUnavailable,
    InvalidHash,
    InvalidImageOptions,
    InvalidInput,
    InvalidJobRequest,
    InvalidKeyToken,
    InvalidOptions,
    InvalidSignature,
    InvalidStorageKey,
    JobAlreadyFinished,
    JobNotFound,
    KeyNotFound,
    KeyUnwrapFailed,
    NotRequeueable,
    NotRetryable,
    ObjectNotFound,
    Overloaded,
    ProcessingFailed,
    QueueUnavailable,
    SourceMissing,
    SourceTooLarge,
    StorageUnavailable,
    Unauthorized,
    Unavailable,
    UnprocessableImage,
    UnresolvableDestination,
    UnsafeDestination,
    UnsupportedFormat,
    UrlExpired,
)
from vylux_core.services import SourceFetchFailed

logger = logging.getLogger(__name__)

PLAIN_TEXT = "text/plain; charset=UTF-8"
INTERNAL_ERROR = "Internal Server Error"
BODY_TOO_LARGE = "request body too large"
BODY_TIMEOUT = "request body not received in time"
CLIENT_CLOSED = "client closed the connection before the request body was complete"
CALLBACK_REFUSED = "callback_url must not point to a private or loopback address"
CALLBACK_UNRESOLVABLE = "callback_url host could not be resolved"
MISSING_API_KEY = "missing API key"
INVALID_API_KEY = "invalid API key"


class BodyTooLarge(Exception):
    """The request body went past the configured cap (raised while receiving it)."""


class BodyReadTimeout(Exception):
    """The request body did not arrive whole within ``BODY_READ_TIMEOUT`` (408)."""


class ClientClosedRequest(Exception):
    """The client closed the connection before its request body was complete.

    Nobody reads the answer; the status 499 (nginx's "client closed request") is what
    metrics and traces count for it, and it is no error of the server.
    """


class Family(enum.Enum):
    """Routes that answer errors alike."""

    IMAGE = "img"
    OBJECT = "original/thumb"
    STREAM = "stream"
    KEY = "key"
    JOBS = "jobs"
    SYSTEM = "system"


@frozen
class ErrorRule:
    error: type[BaseException]
    status: int
    message: str | None = None
    """The client-facing text; None means the error's own text (already a spec message)."""
    cause: type[BaseException] | None = None
    """Only for wrappers (``SourceFetchFailed``): the class of the wrapped error."""

    def matches(self, error: BaseException) -> bool:
        if not isinstance(error, self.error):
            return False
        return self.cause is None or isinstance(getattr(error, "cause", None), self.cause)


_CLIENT_CLOSED = ErrorRule(ClientClosedRequest, 499, CLIENT_CLOSED)
# Every route that reads a request body can fail reading it.
_BODY_READ = (
    ErrorRule(BodyTooLarge, 413, BODY_TOO_LARGE),
    ErrorRule(BodyReadTimeout, 408, BODY_TIMEOUT),
    _CLIENT_CLOSED,
)
# The last rules of the JSON families: any other bad input, then the body's failures.
_JSON_TAIL = (ErrorRule(InvalidInput, 400), *_BODY_READ)

TABLE: Mapping[Family, tuple[ErrorRule, ...]] = {
    Family.IMAGE: (
        ErrorRule(InvalidImageOptions, 400),  # "bad options: ..."
        ErrorRule(UnsupportedFormat, 400),  # "unsupported output format"
        ErrorRule(InvalidStorageKey, 400),  # "missing source path" / "invalid source encoding" …
        ErrorRule(InvalidSignature, 403, "invalid signature"),
        ErrorRule(UrlExpired, 404, "expired URL"),
        ErrorRule(SourceFetchFailed, 404, "source image not found", cause=ObjectNotFound),
        ErrorRule(SourceFetchFailed, 502, "source storage unavailable", cause=StorageUnavailable),
        ErrorRule(UnprocessableImage, 422),
        ErrorRule(ProcessingFailed, 500, "image processing failed"),
        ErrorRule(Overloaded, 503),  # with Retry-After: see error_response
        *_JSON_TAIL,
    ),
    Family.OBJECT: (
        ErrorRule(InvalidStorageKey, 400),  # "missing signature or object key" …
        ErrorRule(InvalidSignature, 403, "invalid signature"),
        ErrorRule(ObjectNotFound, 404, "not found"),
        # An outage is not a missing object: a 404 would hide it and be cached (D31).
        ErrorRule(StorageUnavailable, 502, "storage unavailable"),
        *_JSON_TAIL,
    ),
    Family.STREAM: (
        ErrorRule(InvalidStorageKey, 400),  # "missing hash or file path" / "invalid path"
        ErrorRule(UnsupportedFormat, 400),  # "unsupported file type"
        ErrorRule(InvalidHash, 400),
        ErrorRule(ObjectNotFound, 404, "not found"),
        ErrorRule(StorageUnavailable, 502, "storage unavailable"),
        *_JSON_TAIL,
    ),
    # Plain text, bare status phrases: players show nothing else.
    Family.KEY: (
        ErrorRule(InvalidKeyToken, 403, "Forbidden"),
        ErrorRule(Unauthorized, 401, "Unauthorized"),
        ErrorRule(KeyNotFound, 404, "Not Found"),
        # The ClearKey licence body: "invalid license request: …" / "invalid JSON body: …".
        ErrorRule(InvalidInput, 400),
        ErrorRule(KeyUnwrapFailed, 500, INTERNAL_ERROR),
        # A player retries a 503; a 404 would look like a missing key (D33).
        ErrorRule(Unavailable, 503, "Service Unavailable"),
        ErrorRule(BodyTooLarge, 413, "Request Entity Too Large"),
        ErrorRule(BodyReadTimeout, 408, "Request Timeout"),
        _CLIENT_CLOSED,
    ),
    Family.JOBS: (
        ErrorRule(Unauthorized, 401),  # "missing API key" / "invalid API key"
        ErrorRule(InvalidJobRequest, 400),
        ErrorRule(InvalidOptions, 400),
        ErrorRule(InvalidHash, 400),
        ErrorRule(SourceMissing, 400, "source object not found"),
        ErrorRule(SourceTooLarge, 413),
        ErrorRule(UnresolvableDestination, 400, CALLBACK_UNRESOLVABLE),
        ErrorRule(UnsafeDestination, 400, CALLBACK_REFUSED),
        ErrorRule(JobNotFound, 404, "job not found"),
        ErrorRule(NotRetryable, 409),
        ErrorRule(NotRequeueable, 409),
        ErrorRule(JobAlreadyFinished, 409),  # "job already finished"
        # Outages are the client's cue to retry later, never a 500 with internal text.
        ErrorRule(DatabaseUnavailable, 503, "database unavailable"),
        ErrorRule(QueueUnavailable, 503, "queue unavailable"),
        ErrorRule(StorageUnavailable, 503, "storage unavailable"),
        ErrorRule(Unavailable, 503, "service unavailable"),
        *_JSON_TAIL,
    ),
    Family.SYSTEM: _BODY_READ,
}

PLAIN_FAMILIES = frozenset({Family.KEY})


def rule_for(family: Family, error: BaseException) -> ErrorRule | None:
    return next((rule for rule in TABLE[family] if rule.matches(error)), None)


def error_response(family: Family, error: Exception, scope: Scope) -> Response:
    """The answer to ``error`` raised while serving a route of ``family``."""
    rule = rule_for(family, error)
    if rule is None:
        logger.error(
            "unhandled error serving %s %s (request id %s)",
            scope.get("method"),
            scope.get("path"),
            request_id_of(scope),
            exc_info=error,
        )
        status, message = 500, INTERNAL_ERROR
    else:
        status, message = rule.status, rule.message or str(error)
    headers = None
    if isinstance(error, Overloaded) and status == 503:
        headers = {"Retry-After": str(error.retry_after_seconds)}
    if family in PLAIN_FAMILIES:
        return plain_error(status, message, scope, headers)
    return json_error(status, message, scope, headers)


def status_of(family: Family, error: BaseException) -> int:
    """The status :func:`error_response` would answer (for metrics labels)."""
    rule = rule_for(family, error)
    return 500 if rule is None else rule.status


def json_error(
    status: int, message: str, scope: Scope, headers: Mapping[str, str] | None = None
) -> Response:
    """``{"message": ...}``; for HEAD the status and headers only."""
    if _is_head(scope):
        return Response(status_code=status, headers=headers)
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def plain_error(
    status: int, message: str, scope: Scope, headers: Mapping[str, str] | None = None
) -> Response:
    if _is_head(scope):
        return Response(status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers, media_type=PLAIN_TEXT)


def not_found(scope: Scope) -> Response:
    return json_error(404, "Not Found", scope)


def method_not_allowed(scope: Scope, allow: str) -> Response:
    return json_error(405, "Method Not Allowed", scope, headers={"Allow": allow})


def too_many_requests(scope: Scope, retry_after_seconds: int) -> Response:
    return plain_error(
        429, "Too Many Requests", scope, headers={"Retry-After": str(retry_after_seconds)}
    )


def range_not_satisfiable(scope: Scope, size: int) -> Response:
    return json_error(
        416, "requested range not satisfiable", scope, headers={"Content-Range": f"bytes */{size}"}
    )


def internal_error(scope: Scope) -> Response:
    return json_error(500, INTERNAL_ERROR, scope)


def _is_head(scope: Scope) -> bool:
    return scope.get("method") == "HEAD"
