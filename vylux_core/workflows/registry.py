"""Which workflow runs which job type."""

from __future__ import annotations

from collections.abc import Mapping

from vylux_core.jobs.job import JobType
from vylux_core.ports.audio_toolchain import AudioToolchain
from vylux_core.ports.image_processor import ImageProcessor
from vylux_core.ports.media_toolchain import MediaToolchain
from vylux_core.ports.object_store import ObjectStore
from vylux_core.ports.scratch_space import ScratchSpace
from vylux_core.services.key_service import KeyService
from vylux_core.worker.job_runner import JobHandler
from vylux_core.workflows.audio import AudioTranscodeWorkflow
from vylux_core.workflows.cover import CoverWorkflow
from vylux_core.workflows.full import FullWorkflow
from vylux_core.workflows.preview import PreviewWorkflow
from vylux_core.workflows.storyboard import StoryboardWorkflow
from vylux_core.workflows.thumbnail import ThumbnailWorkflow
from vylux_core.workflows.transcode import TranscodeWorkflow


def build_workflows(
    *,
    source: ObjectStore,
    media: ObjectStore,
    images: ImageProcessor,
    toolchain: MediaToolchain,
    scratch: ScratchSpace,
    keys: KeyService,
    max_image_source_bytes: int,
    upload_concurrency: int = 8,
    audio: AudioToolchain | None = None,
) -> Mapping[JobType, JobHandler]:
    """Without ``audio`` the worker runs no ``audio:transcode`` (its jobs fail as having
    no handler)."""
    handlers: dict[JobType, JobHandler] = {
        JobType.THUMBNAIL: ThumbnailWorkflow(
            source=source, media=media, images=images, max_source_bytes=max_image_source_bytes
        ),
        JobType.COVER: CoverWorkflow(
            source=source, media=media, toolchain=toolchain, scratch=scratch
        ),
        JobType.PREVIEW: PreviewWorkflow(
            source=source, media=media, toolchain=toolchain, scratch=scratch
        ),
        JobType.TRANSCODE: TranscodeWorkflow(
            source=source, media=media, toolchain=toolchain, scratch=scratch, keys=keys,
            upload_concurrency=upload_concurrency,
        ),
        JobType.FULL: FullWorkflow(
            source=source, media=media, toolchain=toolchain, scratch=scratch, keys=keys,
            upload_concurrency=upload_concurrency,
        ),
        JobType.STORYBOARD: StoryboardWorkflow(
            source=source, media=media, toolchain=toolchain, scratch=scratch
        ),
    }  # fmt: skip
    if audio is not None:
        handlers[JobType.AUDIO_TRANSCODE] = AudioTranscodeWorkflow(
            source=source, media=media, toolchain=audio, scratch=scratch, keys=keys,
            upload_concurrency=upload_concurrency,
        )  # fmt: skip
    return handlers
