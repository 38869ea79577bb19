"""S3ObjectStore: the ObjectStore port on one S3 bucket, through boto3 in threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from boto3.s3.transfer import TransferConfig

from vylux_adapters.object_reads import download_to, read_capped
from vylux_adapters.s3.client import S3BucketSettings, S3Clients, S3Tuning, build_clients
from vylux_adapters.s3.errors import s3_errors
from vylux_adapters.s3.reader import S3ObjectReader
from vylux_adapters.s3.threads import BoundedThreads
from vylux_core.errors import (
    InvalidInput,
    InvalidStorageKey,
    StorageUnavailable,
)
from vylux_core.ports.object_store import ByteRange, ObjectInfo

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import (
        GetObjectOutputTypeDef,
        GetObjectRequestTypeDef,
        ListObjectsV2RequestTypeDef,
        PutObjectRequestTypeDef,
    )

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TUNING = S3Tuning()
MAX_KEY_BYTES = 1024  # S3's own limit
DELETE_BATCH = 1000  # DeleteObjects takes at most 1 000 keys


class S3ObjectStore:
    """One bucket of an S3-compatible server (AWS, R2, MinIO, SeaweedFS, …).

    Every boto3 call, body reads included, runs in a thread behind one semaphore of
    ``max_concurrency`` slots, so the event loop never blocks. Build it with
    ``create``; the constructor takes ready clients (tests share them across buckets).
    """

    def __init__(
        self,
        *,
        clients: S3Clients,
        bucket: str,
        max_concurrency: int = 16,
        tuning: S3Tuning = DEFAULT_TUNING,
    ) -> None:
        self._clients = clients
        self._client = clients.main
        self._bucket = bucket
        self._tuning = tuning
        self._threads = BoundedThreads(limit=max_concurrency)
        self._transfer = TransferConfig(
            multipart_threshold=tuning.multipart_threshold,
            multipart_chunksize=tuning.multipart_part_size,
            max_concurrency=tuning.multipart_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )

    @classmethod
    async def create(
        cls,
        *,
        settings: S3BucketSettings,
        max_concurrency: int = 16,
        tuning: S3Tuning = DEFAULT_TUNING,
    ) -> S3ObjectStore:
        """A store on ``settings.bucket`` with clients of its own (closed by ``aclose``).

        Builds the clients in a thread: botocore parses its models then. No request
        is sent; ``ping`` is the reachability check.
        """
        clients = await asyncio.to_thread(
            build_clients,
            settings,
            tuning=tuning,
            # Open readers hold a connection between chunks, uploads one per part.
            pool_size=max_concurrency + tuning.multipart_concurrency,
        )
        return cls(
            clients=clients, bucket=settings.bucket, max_concurrency=max_concurrency, tuning=tuning
        )

    @property
    def bucket(self) -> str:
        return self._bucket

    async def _call(
        self,
        operation: str,
        key: str | None,
        fn: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        with s3_errors(operation, self._bucket, key):
            return await self._threads.run(fn, *args, **kwargs)

    async def stat(self, key: str) -> ObjectInfo:
        head = await self._call(
            "stat", key, self._client.head_object, Bucket=self._bucket, Key=_checked(key)
        )
        return ObjectInfo(key=key, size=head["ContentLength"], content_type=head.get("ContentType"))

    async def open(self, key: str, byte_range: ByteRange | None = None) -> S3ObjectReader:
        request: GetObjectRequestTypeDef = {"Bucket": self._bucket, "Key": _checked(key)}
        if byte_range is not None:
            request["Range"] = _range_header(byte_range)
        response = await self._call("open", key, self._client.get_object, **request)
        return S3ObjectReader(
            info=_info_of(key, response),
            body=response["Body"],
            threads=self._threads,
            bucket=self._bucket,
            chunk_size=self._tuning.read_chunk_size,
        )

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        # One GET instead of HEAD + GET: its headers carry the size, and closing the
        # body unread when it is too big drops the connection before the bytes come.
        reader = await self.open(key)
        data = await read_capped(reader, max_bytes)
        if len(data) != reader.info.size:
            raise StorageUnavailable(f"S3 read_bytes on bucket {self._bucket!r}: short body")
        return data

    async def download(self, key: str, destination: Path) -> int:
        reader = await self.open(key)  # ObjectNotFound before the file is touched
        return await download_to(reader, destination)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        request: PutObjectRequestTypeDef = {
            "Bucket": self._bucket,
            "Key": _checked(key),
            "Body": data,
            "ContentType": content_type,
        }
        if cache_control is not None:
            request["CacheControl"] = cache_control
        await self._call("put_bytes", key, self._client.put_object, **request)

    async def upload_file(self, key: str, source: Path, *, content_type: str) -> None:
        await self._call(
            "upload_file",
            key,
            self._client.upload_file,
            str(source),
            self._bucket,
            _checked(key),
            ExtraArgs={"ContentType": content_type},
            Config=self._transfer,
        )

    async def list(self, prefix: str) -> AsyncIterator[str]:
        request: ListObjectsV2RequestTypeDef = {"Bucket": self._bucket, "Prefix": prefix}
        while True:
            page = await self._call("list", None, self._client.list_objects_v2, **request)
            for item in page.get("Contents", []):
                yield item["Key"]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    async def delete_many(self, keys: Iterable[str]) -> None:
        checked = [_checked(key) for key in keys]
        for start in range(0, len(checked), DELETE_BATCH):
            await self._delete_batch(checked[start : start + DELETE_BATCH])

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise InvalidStorageKey("refusing to delete with an empty prefix")
        deleted = 0
        batch: list[str] = []
        # Deleting a page before fetching the next is safe: continuation tokens
        # resume after the last key listed, not at an offset.
        async for key in self.list(prefix):
            batch.append(key)
            if len(batch) == DELETE_BATCH:
                await self._delete_batch(batch)
                deleted, batch = deleted + len(batch), []
        if batch:
            await self._delete_batch(batch)
        return deleted + len(batch)

    async def ping(self) -> None:
        await self._call("ping", None, self._clients.ping.head_bucket, Bucket=self._bucket)

    async def aclose(self) -> None:
        """Close the clients' connection pools; the store is unusable afterwards."""
        await self._threads.run(self._clients.close)

    async def _delete_batch(self, keys: Sequence[str]) -> None:
        response = await self._call(
            "delete_many",
            None,
            self._client.delete_objects,
            Bucket=self._bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        errors = response.get("Errors", [])
        if errors:
            raise StorageUnavailable(
                f"S3 delete_many on bucket {self._bucket!r}: {len(errors)} of {len(keys)} "
                f"keys not deleted ({errors[0].get('Code', 'unknown')})"
            )


def _checked(key: str) -> str:
    if not key or "\x00" in key:
        raise InvalidStorageKey("object keys must be non-empty and contain no NUL")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidStorageKey("object keys must be valid Unicode text") from None
    if size > MAX_KEY_BYTES:
        raise InvalidStorageKey(f"object keys are at most {MAX_KEY_BYTES} bytes of UTF-8")
    return key


def _range_header(byte_range: ByteRange) -> str:
    start, end = byte_range.start, byte_range.end
    # S3 ignores a malformed Range and sends the whole object: refuse it here.
    if start < 0 or (end is not None and end < start):
        raise InvalidInput(f"invalid byte range {start}-{'' if end is None else end}")
    return f"bytes={start}-{'' if end is None else end}"


def _info_of(key: str, response: GetObjectOutputTypeDef) -> ObjectInfo:
    """Size of the whole object: from ``Content-Range`` (``bytes a-b/size``) on a range."""
    content_range = response.get("ContentRange")
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return ObjectInfo(key=key, size=int(total), content_type=response.get("ContentType"))
    return ObjectInfo(
        key=key, size=response["ContentLength"], content_type=response.get("ContentType")
    )
