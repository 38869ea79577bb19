"""Run an ``image:thumbnail`` job end to end inside your own process, on in-memory adapters.

    .venv/bin/python examples/embed_memory.py

What a Vylux server and worker do, wired by hand: ``JobService`` validates and stores the
job and enqueues its task; a ``JobRunner`` leases the task and runs the thumbnail
workflow, which reads the source, renders each output with the image processor and
writes the results to the media store. ``FakeImageProcessor`` stands in for libvips
(swap in ``vylux_adapters.vips.PyvipsImageProcessor`` for real images); everything else
is the production core.
"""

from __future__ import annotations

import asyncio
import json
import random

from vylux_adapters.memory import (
    FakeImageProcessor,
    ManualClock,
    MemoryImageCacheIndex,
    MemoryJobStore,
    MemoryKeyStore,
    MemoryObjectStore,
    MemoryTaskQueue,
    SequentialIdGenerator,
    fake_image,
)
from vylux_core import (
    ByteLRU,
    JobLimits,
    JobService,
    JobStatus,
    JobType,
    decode_job_request,
    results_json,
)
from vylux_core.worker import AttemptOutcome, JobRunner
from vylux_core.workflows import ThumbnailWorkflow

REQUEST = {
    "type": "image:thumbnail",
    "hash": "photo-001",
    "source": "uploads/photo.png",
    "options": {
        "outputs": [
            {"variant": "thumb", "width": 300},
            {"variant": "card", "width": 640, "height": 360, "format": "jpeg"},
        ]
    },
}


async def main() -> None:
    clock = ManualClock()
    source, media = MemoryObjectStore(), MemoryObjectStore()
    jobs = MemoryJobStore(clock=clock)
    queue = MemoryTaskQueue(clock=clock, rng=random.Random(1))
    service = JobService(
        jobs=jobs,
        queue=queue,
        source=source,
        media=media,
        cache_index=MemoryImageCacheIndex(),
        keys=MemoryKeyStore(clock=clock),
        renditions=ByteLRU(max_bytes=16 << 20),
        ids=SequentialIdGenerator(),
        limits=JobLimits(),
    )
    runner = JobRunner(
        jobs=jobs,
        consumer=queue,
        clock=clock,
        handlers={
            JobType.THUMBNAIL: ThumbnailWorkflow(
                source=source, media=media, images=FakeImageProcessor(), max_source_bytes=1 << 20
            )
        },
    )

    # An upload your application put into the source store: a 1600x1200 "image".
    await source.put_bytes("uploads/photo.png", fake_image(1600, 1200), content_type="image/png")

    # What POST /api/jobs does.
    submission = await service.create(decode_job_request(REQUEST))
    print(f"submitted {submission.job.id} to {submission.job.queue!r}: {submission.job.status}")

    # What a worker does: lease the task from its queue and run one attempt.
    weights = {"critical": 6, "default": 3}
    [lease] = await queue.dequeue_many(weights, worker_id="example", lease_seconds=30, limit=1)
    outcome = await runner.run(lease)
    assert outcome is AttemptOutcome.COMPLETED

    # What GET /api/jobs/{id} shows.
    job = await service.get(submission.job.id)
    assert job.status is JobStatus.COMPLETED
    print(f"{job.type} {job.status}, progress {job.progress}")
    print(json.dumps(results_json(job.results), indent=2))
    # The typed value: one ThumbnailOutputResult per output.
    assert isinstance(job.results, tuple)
    for output in job.results:
        header = (await media.read_bytes(output.key, max_bytes=1 << 20)).split(b"\n")[0]
        print(f"  {output.key}: {header.decode()}")

    # Submitting the same work again returns the completed job instead of a new one.
    again = await service.create(decode_job_request(REQUEST))
    assert not again.created
    assert again.job.id == job.id
    print(f"resubmitted: {again.job.status} job {again.job.id}, nothing new queued")


if __name__ == "__main__":
    asyncio.run(main())
