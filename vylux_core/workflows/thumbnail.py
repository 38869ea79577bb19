"""ThumbnailWorkflow: ``image:thumbnail`` — one rendition per requested variant."""

from __future__ import annotations

from vylux_core.errors import Step
from vylux_core.images.options import parse_format
from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.options import ThumbnailOptions, decode_options
from vylux_core.jobs.results import ThumbnailOutputResult, ThumbnailResult
from vylux_core.media.storage_keys import thumbnail_key
from vylux_core.ports.image_processor import ImageProcessor, ImageTransform
from vylux_core.ports.object_store import ObjectStore
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.video_steps import step_error


class ThumbnailWorkflow:
    def __init__(
        self,
        *,
        source: ObjectStore,
        media: ObjectStore,
        images: ImageProcessor,
        max_source_bytes: int,
    ) -> None:
        self._source = source
        self._media = media
        self._images = images
        self._max_source_bytes = max_source_bytes

    async def __call__(self, job: Job, progress: ProgressReporter) -> ThumbnailResult:
        options = decode_options(JobType.THUMBNAIL, job.options)
        assert isinstance(options, ThumbnailOptions)
        outputs = options.effective_outputs()
        try:
            original = await self._source.read_bytes(job.source, max_bytes=self._max_source_bytes)
        except Exception as error:
            raise step_error(Step.FETCH_SOURCE, error) from error
        results = []
        for index, output in enumerate(outputs):
            fmt = parse_format(output.format)
            try:
                rendition = await self._images.transform(
                    original,
                    ImageTransform(
                        format=fmt,
                        quality=fmt.default_quality,
                        width=output.width,
                        height=output.height,
                    ),
                )
            except Exception as error:
                raise step_error(Step.PROCESS_VARIANT, error, subject=output.variant) from error
            key = thumbnail_key(job.hash, output.variant, fmt.extension)
            try:
                await self._media.put_bytes(key, rendition.data, content_type=fmt.mime_type)
            except Exception as error:
                raise step_error(Step.UPLOAD_VARIANT, error, subject=output.variant) from error
            results.append(
                ThumbnailOutputResult(
                    variant=output.variant, key=key, format=fmt.extension,
                    size=len(rendition.data),
                )
            )  # fmt: skip
            await progress.report((index + 1) * 100 // len(outputs), force=True)
        return tuple(results)
