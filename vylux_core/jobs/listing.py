"""Listing jobs: filters, page size and the opaque keyset cursor of ``GET /api/jobs``.

Pages run newest first on ``(created_at, id)``: the id breaks ties between jobs
created in the same instant, so a page boundary never skips or repeats a job even
while new jobs arrive (they sort before the first page, not into later ones).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final, TypeVar

from attrs import frozen

from vylux_core.errors import InvalidHash, InvalidJobQuery
from vylux_core.jobs.job import Job, JobStatus, JobType
from vylux_core.media.media_hash import validate_media_hash

_E = TypeVar("_E", JobStatus, JobType)
# RFC 3339 date-time (what OpenAPI's "date-time" means): the zone is required.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200

# The query parameters, named once for the parser, the HTTP route, OpenAPI and the CLI.
QUERY_PARAMETERS: Final = (
    "status", "type", "hash", "created_after", "created_before", "limit", "cursor",
)  # fmt: skip


@frozen(kw_only=True)
class JobFilter:
    """Every field that is set must match; ``created_after``/``created_before`` are
    exclusive bounds on ``created_at``."""

    status: JobStatus | None = None
    type: JobType | None = None
    hash: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def matches(self, job: Job) -> bool:
        return (
            (self.status is None or job.status is self.status)
            and (self.type is None or job.type is self.type)
            and (self.hash is None or job.hash == self.hash)
            and (self.created_after is None or job.created_at > self.created_after)
            and (self.created_before is None or job.created_at < self.created_before)
        )


@frozen
class JobCursor:
    """The last job of a page: the next page holds the jobs that sort after it."""

    created_at: datetime
    id: str

    def precedes(self, job: Job) -> bool:
        """True when ``job`` comes after this position in newest-first order."""
        return (job.created_at, job.id) < (self.created_at, self.id)

    @classmethod
    def after(cls, job: Job) -> JobCursor:
        return cls(job.created_at, job.id)


@frozen(kw_only=True)
class JobQuery:
    filter: JobFilter
    limit: int = DEFAULT_PAGE_SIZE
    cursor: JobCursor | None = None


@frozen
class JobPage:
    jobs: tuple[Job, ...]
    next_cursor: JobCursor | None


def newest_first_key(job: Job) -> tuple[datetime, str]:
    """Sort key for the listing order (use with ``reverse=True``)."""
    return (job.created_at, job.id)


def encode_cursor(cursor: JobCursor) -> str:
    """base64url (unpadded) JSON: opaque to clients, readable when debugging."""
    raw = json.dumps(
        {"t": cursor.created_at.astimezone(UTC).isoformat(), "id": cursor.id},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> JobCursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["t"])
        job_id = data["id"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidJobQuery("invalid cursor: not one this API handed out") from None
    if not isinstance(job_id, str) or created_at.tzinfo is None:
        raise InvalidJobQuery("invalid cursor: not one this API handed out")
    return JobCursor(created_at.astimezone(UTC), job_id)


def parse_job_query(params: Mapping[str, str]) -> JobQuery:
    """Decode query parameters; unknown or malformed ones raise ``InvalidJobQuery``
    with a message that names the parameter."""
    unknown = sorted(set(params) - set(QUERY_PARAMETERS))
    if unknown:
        raise InvalidJobQuery(
            f"unknown query parameter {unknown[0]!r}; allowed: {', '.join(QUERY_PARAMETERS)}"
        )
    status = _choice(params, "status", JobStatus)
    job_type = _choice(params, "type", JobType)
    media_hash = params.get("hash")
    if media_hash is not None:
        try:
            validate_media_hash(media_hash)
        except InvalidHash as error:
            raise InvalidJobQuery(f"invalid hash: {error}") from None
    after = _moment(params, "created_after")
    before = _moment(params, "created_before")
    cursor = params.get("cursor")
    return JobQuery(
        filter=JobFilter(
            status=status, type=job_type, hash=media_hash,
            created_after=after, created_before=before,
        ),
        limit=_limit(params.get("limit")),
        cursor=None if cursor is None else decode_cursor(cursor),
    )  # fmt: skip


def _choice(params: Mapping[str, str], name: str, enum_type: type[_E]) -> _E | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return enum_type(text)
    except ValueError:
        allowed = ", ".join(str(member) for member in enum_type)
        raise InvalidJobQuery(f"invalid {name} {text!r}; one of: {allowed}") from None


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    moment = None
    if _RFC3339.fullmatch(text):
        with contextlib.suppress(ValueError):  # a 13th month, a 61st second
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    if moment is None:
        raise InvalidJobQuery(
            f"invalid {name} {text!r}: an RFC 3339 time with a zone, e.g. 2026-04-01T08:00:00Z"
        )
    return moment.astimezone(UTC)


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidJobQuery(f"invalid limit {text!r}: a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(text)
