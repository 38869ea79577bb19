"""Every error the core raises, with a stable machine ``code``.

The tree (catch a family or a leaf)::

    VyluxError                      code
    ├── InvalidInput                invalid_input           (HTTP 400)
    │   ├── InvalidOptions          invalid_options
    │   ├── InvalidJobRequest       invalid_job_request
    │   ├── InvalidHash             invalid_hash
    │   ├── InvalidStorageKey       invalid_storage_key
    │   ├── InvalidImageOptions     invalid_image_options
    │   ├── UnsupportedFormat       unsupported_format
    │   ├── SourceMissing           source_missing           (preflight: 400)
    │   ├── SourceNotVideo          source_not_video         (preflight: 400)
    │   ├── SourceTooLarge          source_too_large         (HTTP 413)
    │   └── UnsafeDestination       unsafe_destination       (callback host not public)
    │       └── UnresolvableDestination unresolvable_destination
    ├── Unauthorized                unauthorized
    │   ├── InvalidSignature        invalid_signature        (HTTP 403)
    │   └── InvalidKeyToken         invalid_key_token        (HTTP 403)
    ├── NotFound                    not_found                (HTTP 404)
    │   ├── JobNotFound             job_not_found
    │   ├── ObjectNotFound          object_not_found
    │   └── KeyNotFound             key_not_found
    ├── Conflict                    conflict                 (HTTP 409)
    │   ├── IllegalTransition       illegal_transition
    │   └── NotRetryable            not_retryable
    ├── Unavailable                 unavailable              (HTTP 502/503)
    │   ├── StorageUnavailable      storage_unavailable
    │   ├── DatabaseUnavailable     database_unavailable
    │   ├── QueueUnavailable        queue_unavailable
    │   └── Overloaded              overloaded               (HTTP 503, Retry-After)
    ├── ProcessingFailed            processing_failed        (HTTP 422/500)
    │   ├── UnprocessableImage      unprocessable_image
    │   ├── MediaToolFailed         media_tool_failed
    │   ├── UnsupportedMedia        unsupported_media        (permanent: never retried)
    │   └── WorkflowFailed          workflow_failed          (carries partial results)
    └── KeyUnwrapFailed             key_unwrap_failed        (HTTP 500)

Adapters translate library exceptions into these at their boundary and keep the
cause with ``raise ... from exc``. The HTTP adapter maps classes to status codes
in one table; nothing in the core knows about HTTP.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from attrs import frozen

if TYPE_CHECKING:
    # `results` imports this module (through `job`) at runtime.
    from vylux_core.jobs.results import Results


class Step(enum.Enum):
    """Each step a media workflow can fail at; the value is how a job's error names it."""

    FETCH_SOURCE = "fetch source"
    DOWNLOAD_SOURCE = "download source"
    EXTRACT_COVER = "extract cover"
    UPLOAD_COVER = "upload cover"
    GENERATE_PREVIEW = "generate preview"
    UPLOAD_PREVIEW = "upload preview"
    GENERATE_STORYBOARD = "generate storyboard"
    UPLOAD_STORYBOARD = "upload storyboard"
    SETUP_ENCRYPTION = "setup encryption"
    TRANSCODE = "transcode"
    TRANSCODE_AUDIO = "transcode audio"
    UPLOAD_HLS = "upload HLS"
    UPLOAD_DOWNLOADS = "upload downloads"
    GENERATE_WAVEFORM = "generate waveform"
    UPLOAD_WAVEFORM = "upload waveform"
    # The thumbnail steps name their variant (``process variant small``, ``upload small``).
    PROCESS_VARIANT = "process variant"
    UPLOAD_VARIANT = "upload"

    @property
    def upload(self) -> bool:
        """Whether the step stores an output (its work was done; storing it failed)."""
        return self in _UPLOAD_STEPS


_UPLOAD_STEPS = frozenset(
    {
        Step.UPLOAD_COVER,
        Step.UPLOAD_PREVIEW,
        Step.UPLOAD_STORYBOARD,
        Step.UPLOAD_HLS,
        Step.UPLOAD_DOWNLOADS,
        Step.UPLOAD_WAVEFORM,
        Step.UPLOAD_VARIANT,
    }
)


@frozen
class FailedStep:
    """The workflow step an error ended, recorded on the error by the workflows: what
    decides a stage's failure, so no caller reads message text."""

    step: Step
    cause: str
    """The error's own message, before the step is named in it."""
    subject: str | None = None
    """What the step worked on, when the step names it (a thumbnail variant)."""

    @property
    def name(self) -> str:
        """The step as the message names it: ``extract cover``, ``upload small`` …"""
        return self.step.value if self.subject is None else f"{self.step.value} {self.subject}"

    @property
    def upload(self) -> bool:
        return self.step.upload

    @property
    def message(self) -> str:
        """The user-visible message of a failed step: ``extract cover: exit status 1``."""
        return f"{self.name}: {self.cause}"


class VyluxError(Exception):
    """Base of every error the core raises; ``code`` is stable for machines."""

    code = "vylux_error"
    step: FailedStep | None = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code

    def __str__(self) -> str:
        return self.message


# --- invalid input -----------------------------------------------------------


class InvalidInput(VyluxError):
    code = "invalid_input"


class InvalidOptions(InvalidInput):
    """Job options that do not match their type's schema (message starts ``invalid options:``)."""

    code = "invalid_options"


class InvalidJobRequest(InvalidInput):
    code = "invalid_job_request"


class InvalidJobQuery(InvalidInput):
    """A job listing filter, page size or cursor that cannot be used (the message
    names the parameter)."""

    code = "invalid_job_query"


class InvalidHash(InvalidInput):
    code = "invalid_hash"


class InvalidLicenseRequest(InvalidInput):
    """A W3C ClearKey licence request that is not ``{"kids": [...], "type"?: ...}``."""

    code = "invalid_license_request"


class InvalidStorageKey(InvalidInput):
    code = "invalid_storage_key"


class InvalidImageOptions(InvalidInput):
    code = "invalid_image_options"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class SourceMissing(InvalidInput):
    """The preflight found no source object (the client named a key that is not there)."""

    code = "source_missing"


class SourceNotVideo(InvalidInput):
    """The preflight recognised the source as something other than a video (an image's
    signature in its first bytes), so a video job could never succeed on it."""

    code = "source_not_video"


class SourceTooLarge(InvalidInput):
    code = "source_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"source file exceeds MAX_FILE_SIZE ({max_bytes} bytes)")
        self.max_bytes = max_bytes


class UnsafeDestination(InvalidInput):
    """A callback URL's host is, or resolves to, an address that is not publicly routable."""

    code = "unsafe_destination"

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"callback host {host!r}: {reason}")
        self.host = host


class UnresolvableDestination(UnsafeDestination):
    """The callback host name did not resolve in time (or at all): nothing can be delivered."""

    code = "unresolvable_destination"


# --- authentication -------------------------------------------------------------


class Unauthorized(VyluxError):
    code = "unauthorized"


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class InvalidKeyToken(Unauthorized):
    code = "invalid_key_token"


# --- not found ---------------------------------------------------------------------


class NotFound(VyluxError):
    code = "not_found"


class JobNotFound(NotFound):
    code = "job_not_found"


class ObjectNotFound(NotFound):
    code = "object_not_found"


class KeyNotFound(NotFound):
    code = "key_not_found"


class UrlExpired(NotFound):
    """An imgproxy URL past its ``expires`` time (404, as imgproxy answers)."""

    code = "url_expired"


# --- conflicts ----------------------------------------------------------------------


class Conflict(VyluxError):
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class JobAlreadyFinished(Conflict):
    """A cancel of a job that already completed or failed."""

    code = "job_already_finished"


class NotRetryable(Conflict):
    code = "not_retryable"


class NotRequeueable(Conflict):
    """An archived task that cannot run again (or be dropped); the message says why."""

    code = "not_requeueable"


# --- dependencies down ------------------------------------------------------------------


class Unavailable(VyluxError):
    code = "unavailable"


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


class QueueUnavailable(Unavailable):
    code = "queue_unavailable"


class Overloaded(Unavailable):
    """This process has no room for the work now (a budget stayed exhausted); the
    client may retry after ``retry_after_seconds``."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


# --- processing ---------------------------------------------------------------------------


class ProcessingFailed(VyluxError):
    code = "processing_failed"


class UnprocessableImage(ProcessingFailed):
    code = "unprocessable_image"


class MediaToolFailed(ProcessingFailed):
    code = "media_tool_failed"


class UnsupportedMedia(ProcessingFailed):
    """A source the media toolchain can never process: not a media file, no video
    stream, a still image, or a codec the configured FFmpeg cannot decode. Permanent:
    the same bytes fail the same way on every attempt."""

    code = "unsupported_media"


class WorkflowFailed(ProcessingFailed):
    """A workflow that failed but still has results to keep (``video:full`` stages)."""

    code = "workflow_failed"

    def __init__(self, message: str, *, results: Results, permanent: bool = False) -> None:
        super().__init__(message)
        self.results = results
        self.permanent = permanent


class KeyUnwrapFailed(VyluxError):
    code = "key_unwrap_failed"
