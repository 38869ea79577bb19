"""Translating botocore failures into core errors at the S3 adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from vylux_core.errors import (
    InvalidInput,
    InvalidStorageKey,
    ObjectNotFound,
    StorageUnavailable,
    VyluxError,
)

_NOT_FOUND = frozenset({"NoSuchKey", "NotFound", "404"})
_BAD_RANGE = frozenset({"InvalidRange", "416"})
# Codes with which servers refuse a key they cannot hold (AWS: too long; SeaweedFS:
# "." / ".." segments). A permanent error, so a job fails instead of retrying.
_KEY_REFUSED = frozenset({"KeyTooLongError", "InvalidObjectName", "InvalidURI", "InvalidRequest"})


@contextmanager
def s3_errors(operation: str, bucket: str, key: str | None = None) -> Iterator[None]:
    """Re-raise boto3/botocore failures as core errors, keeping the cause.

    ``key`` is given for object operations only: a 404 there is a missing object,
    while on a bucket operation (list, delete_many, ping) it is a missing bucket,
    i.e. an outage. Messages name the operation and bucket, never credentials.
    """
    try:
        yield
    except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
        cause = _unwrapped(exc)
        raise core_error(cause, operation=operation, bucket=bucket, key=key) from cause


def _unwrapped(exc: Exception) -> Exception:
    # boto3's transfer layer re-raises a client error as S3UploadFailedError, with
    # the original only as the implicit context: classify and keep the original.
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        return exc.__context__
    return exc


def core_error(exc: Exception, *, operation: str, bucket: str, key: str | None) -> VyluxError:
    where = f"S3 {operation} on bucket {bucket!r}"
    if not isinstance(exc, ClientError):
        # Connection refused, DNS, timeouts, truncated bodies, checksum mismatches.
        return StorageUnavailable(f"{where} failed: {type(exc).__name__}")
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if key is not None and code != "NoSuchBucket" and (code in _NOT_FOUND or status == 404):
        return ObjectNotFound(f"object not found: {key}")
    if code in _BAD_RANGE or status == 416:
        return InvalidInput("range starts past the end of the object")
    if key is not None and code in _KEY_REFUSED:
        return InvalidStorageKey(f"{where}: the server refused the key ({code})")
    # 5xx, throttling, AccessDenied and bad signatures (misconfigured credentials),
    # a missing bucket, a wrong region: none is the caller's fault.
    return StorageUnavailable(f"{where} failed: {code or 'HTTP'} ({status})")
