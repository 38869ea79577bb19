"""One media job run through the real tools on in-memory stores, its objects copied out.

The integration suites of the media workflows (``video:full`` on many inputs,
``audio:transcode`` of a tone) drive a job the way the worker does, without a queue or
a database, and inspect what it uploaded as files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vylux_adapters.media import FfmpegAudioToolchain, FfmpegMediaToolchain, MediaBinaries
from vylux_adapters.memory import (
    FakeImageProcessor,
    ManualClock,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryWebhookOutbox,
)
from vylux_adapters.scratch import LocalScratchSpace
from vylux_adapters.system import OsEntropy
from vylux_core.jobs.job import JobType, NewJob
from vylux_core.jobs.results import Results
from vylux_core.security.key_ring import KeyEncryptionKey, KeyRing
from vylux_core.services import KeyService
from vylux_core.worker import ProgressReporter
from vylux_core.workflows import build_workflows


async def run_media_job(
    binaries: MediaBinaries,
    source: Path,
    scratch: Path,
    *,
    job_type: JobType,
    media_hash: str,
    options: Mapping[str, Any],
    with_audio: bool = False,
) -> Results:
    """One ``job_type`` job on ``source``; returns its results and copies its objects
    under ``scratch/tree`` (the media store's keys as paths). ``with_audio`` wires the
    audio toolchain, without which the workflows have no ``audio:transcode``."""
    clock = ManualClock()
    source_store, media = MemoryObjectStore(), MemoryObjectStore()
    jobs = MemoryJobStore(clock=clock, outbox=MemoryWebhookOutbox())
    ring = KeyRing(
        keks=[KeyEncryptionKey(version="v1", key=b"k" * 32)], current_version="v1",
        entropy=OsEntropy(),
    )  # fmt: skip
    keys = KeyService(
        keys=MemoryKeyStore(clock=clock), ring=ring, token_secret="t" * 32,
        base_url="https://media.example.com", clock=clock,
    )  # fmt: skip
    handlers = build_workflows(
        source=source_store, media=media, images=FakeImageProcessor(),
        toolchain=FfmpegMediaToolchain(binaries=binaries),
        audio=FfmpegAudioToolchain(binaries=binaries) if with_audio else None,
        scratch=LocalScratchSpace(root=scratch / "work", margin_bytes=0),
        keys=keys, max_image_source_bytes=1 << 20,
    )  # fmt: skip
    data = await asyncio.to_thread(source.read_bytes)
    await source_store.put_bytes("uploads/in", data, content_type="application/octet-stream")
    created = await jobs.create(
        NewJob(id="job", type=job_type, hash=media_hash, source="uploads/in",
               options=dict(options), request_fingerprint="fp")
    )  # fmt: skip
    job = await jobs.mark_processing(created.job.id)
    results = await handlers[job_type](job, ProgressReporter(jobs=jobs, job_id=job.id, clock=clock))
    async for key in media.list(""):
        target = scratch / "tree" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(await media.read_bytes(key, max_bytes=64 << 20))
    return results
