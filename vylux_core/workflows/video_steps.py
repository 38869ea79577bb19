"""The steps of the video workflows, shared by the single-stage jobs and video:full."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from attrs import frozen

from vylux_core.errors import FailedStep, MediaToolFailed, Step, VyluxError
from vylux_core.jobs.options import EffectivePreview
from vylux_core.jobs.results import (
    AudioTrack,
    CaptionTrack,
    DownloadArtifact,
    EncryptionInfo,
    ImageArtifact,
    StoryboardArtifact,
    StreamingInfo,
    TranscodeResult,
    VideoTrack,
)
from vylux_core.media.captions import CaptionOption, CaptionSource, read_sidecars
from vylux_core.media.downloads import DownloadKind, download_format
from vylux_core.media.ladder import (
    AUDIO_DIR,
    DEFAULT_MAX_RESOLUTION,
    INIT_SEGMENT,
    MAIN_AUDIO_TRACK,
    MEDIA_PLAYLIST,
    resolve_ladder,
)
from vylux_core.media.mime_types import OCTET_STREAM, content_type_for
from vylux_core.media.storage_keys import cover_key, preview_key, video_key
from vylux_core.media.storyboard import (
    JSON_FILE,
    SPRITE_FILE,
    VTT_FILE,
    plan_storyboard,
    storyboard_json,
    storyboard_vtt,
)
from vylux_core.ports.media_toolchain import (
    HlsEncryption,
    HlsPackage,
    HlsPlan,
    MediaToolchain,
    ProgressCallback,
)
from vylux_core.ports.object_store import ObjectStore
from vylux_core.services.key_service import KeyService
from vylux_core.worker.progress import ProgressReporter
from vylux_core.workflows.hls_upload import upload_hls_tree

logger = logging.getLogger(__name__)

PREVIEW_CONTENT_TYPES = {"webp": "image/webp", "gif": "image/gif"}


def step_error(step: Step, error: BaseException, *, subject: str | None = None) -> VyluxError:
    """Record the step on the error (:class:`FailedStep`) and name it in the message
    (``extract cover: …``), keeping the error's class so that permanent and transient
    failures stay told apart."""
    failed = error if isinstance(error, VyluxError) else MediaToolFailed(str(error))
    failed.step = FailedStep(step, failed.message, subject)
    failed.message = failed.step.message
    return failed


async def source_size(source: ObjectStore, key: str) -> int:
    """The source's size (it sizes the scratch space); a missing source fails the job
    for good, as there is nothing a retry could change."""
    try:
        return (await source.stat(key)).size
    except Exception as error:
        raise step_error(Step.DOWNLOAD_SOURCE, error) from error


async def download_source(source: ObjectStore, key: str, directory: Path) -> Path:
    path = directory / "source"
    try:
        await source.download(key, path)
    except Exception as error:
        raise step_error(Step.DOWNLOAD_SOURCE, error) from error
    return path


async def make_cover(
    *,
    toolchain: MediaToolchain,
    media: ObjectStore,
    source_path: Path,
    timestamp: float,
    media_hash: str,
) -> ImageArtifact:
    output = source_path.parent / "cover.jpg"
    try:
        await toolchain.extract_cover(source_path, timestamp, output)
    except Exception as error:
        raise step_error(Step.EXTRACT_COVER, error) from error
    return await _upload_artifact(media, cover_key(media_hash), output, "jpg", Step.UPLOAD_COVER)


async def make_preview(
    *,
    toolchain: MediaToolchain,
    media: ObjectStore,
    source_path: Path,
    preview: EffectivePreview,
    media_hash: str,
) -> ImageArtifact:
    output = source_path.parent / f"preview.{preview.format}"
    try:
        await toolchain.render_preview(source_path, preview, output)
    except Exception as error:
        raise step_error(Step.GENERATE_PREVIEW, error) from error
    key = preview_key(media_hash, preview.format)
    return await _upload_artifact(media, key, output, preview.format, Step.UPLOAD_PREVIEW)


async def make_storyboard(
    *, toolchain: MediaToolchain, media: ObjectStore, source_path: Path, media_hash: str
) -> StoryboardArtifact:
    """Render the sprite, then upload it before the WebVTT and JSON that point at it.
    Fails at :attr:`Step.GENERATE_STORYBOARD` or :attr:`Step.UPLOAD_STORYBOARD`."""
    output = source_path.parent / SPRITE_FILE
    try:
        probe = await toolchain.probe(source_path)
        layout = plan_storyboard(
            probe.duration_seconds, probe.width, probe.height, probe.frame_rate
        )
        await toolchain.render_storyboard(source_path, layout, output)
    except Exception as error:
        raise step_error(Step.GENERATE_STORYBOARD, error) from error
    keys = {name: video_key(media_hash, name) for name in (SPRITE_FILE, VTT_FILE, JSON_FILE)}
    try:
        await media.upload_file(keys[SPRITE_FILE], output, content_type="image/jpeg")
        for name, text in (
            (VTT_FILE, storyboard_vtt(layout)),
            (JSON_FILE, storyboard_json(layout)),
        ):
            content_type = content_type_for(name) or OCTET_STREAM
            await media.put_bytes(keys[name], text.encode(), content_type=content_type)
    except Exception as error:
        raise step_error(Step.UPLOAD_STORYBOARD, error) from error
    return StoryboardArtifact(
        sprite=keys[SPRITE_FILE], vtt=keys[VTT_FILE], json=keys[JSON_FILE], tiles=layout.count,
        interval_ms=round(layout.interval * 1000), tile_width=layout.tile_width,
        tile_height=layout.tile_height,
    )  # fmt: skip


async def _upload_artifact(
    media: ObjectStore, key: str, path: Path, fmt: str, step: Step
) -> ImageArtifact:
    content_type = "image/jpeg" if fmt == "jpg" else PREVIEW_CONTENT_TYPES[fmt]
    try:
        await media.upload_file(key, path, content_type=content_type)
        size = (await media.stat(key)).size
    except Exception as error:
        raise step_error(step, error) from error
    return ImageArtifact(key=key, format=fmt, size=size)


async def encryption_for(keys: KeyService, media_hash: str) -> HlsEncryption:
    try:
        content_key, key_uri = await keys.content_key_for(media_hash)
    except Exception as error:
        raise step_error(Step.SETUP_ENCRYPTION, error) from error
    return HlsEncryption(key_hex=content_key.key_hex, kid_hex=content_key.kid_hex, key_uri=key_uri)


@frozen(kw_only=True)
class TranscodeInputs:
    source_path: Path
    media_hash: str
    encryption: HlsEncryption | None
    max_resolution: str = DEFAULT_MAX_RESOLUTION
    downloads: tuple[DownloadKind, ...] = ()
    # Sidecar captions, read from ``source`` of :func:`transcode` when it runs.
    captions: tuple[CaptionOption, ...] = ()


async def transcode(
    *,
    toolchain: MediaToolchain,
    media: ObjectStore,
    source: CaptionSource,
    inputs: TranscodeInputs,
    progress: ProgressReporter,
    progress_span: tuple[int, int],
    upload_concurrency: int,
) -> TranscodeResult:
    """Probe, encode the ladder, package, upload; progress moves across ``progress_span``
    while FFmpeg runs. Fails at :attr:`Step.TRANSCODE`, :attr:`Step.UPLOAD_HLS` or
    :attr:`Step.UPLOAD_DOWNLOADS`."""
    work = inputs.source_path.parent
    try:
        captions = await read_sidecars(source, inputs.captions, "captions")
        probe = await toolchain.probe(inputs.source_path)
        plan = HlsPlan(
            variants=resolve_ladder(
                probe.width, probe.height, max_resolution=inputs.max_resolution
            ),
            include_audio=probe.has_audio,
            frame_rate=probe.frame_rate,
            encryption=inputs.encryption,
            dynamic_range=probe.dynamic_range,
            downloads=inputs.downloads,
            captions=captions,
        )
        async with relayed(progress, progress_span) as report:
            package = await toolchain.package_hls(
                inputs.source_path, plan, work / "encoded", work / "hls", on_progress=report
            )
    except Exception as error:
        raise step_error(Step.TRANSCODE, error) from error
    await progress.report(progress_span[1], force=True)
    try:
        uploaded = await upload_hls_tree(
            media=media, media_hash=inputs.media_hash, root=work / "hls",
            files=package.files, concurrency=upload_concurrency,
        )  # fmt: skip
    except Exception as error:
        raise step_error(Step.UPLOAD_HLS, error) from error
    try:
        downloads = await _upload_downloads(media, inputs.media_hash, work / "hls", package)
    except Exception as error:
        raise step_error(Step.UPLOAD_DOWNLOADS, error) from error
    return _transcode_result(inputs, plan, package, uploaded, downloads)


async def _upload_downloads(
    media: ObjectStore, media_hash: str, root: Path, package: HlsPackage
) -> tuple[DownloadArtifact, ...]:
    artifacts = []
    for download in package.downloads:
        key = video_key(media_hash, download.file)
        content_type = content_type_for(download.file) or OCTET_STREAM
        await media.upload_file(key, root / download.file, content_type=content_type)
        size = (await media.stat(key)).size
        artifacts.append(
            DownloadArtifact(
                kind=download.kind.value, key=key, format=download_format(download.kind),
                size=size,
            )
        )  # fmt: skip
    return tuple(artifacts)


def _transcode_result(
    inputs: TranscodeInputs,
    plan: HlsPlan,
    package: HlsPackage,
    uploaded: list[str],
    downloads: tuple[DownloadArtifact, ...] = (),
) -> TranscodeResult:
    def key(relative: str) -> str:
        return video_key(inputs.media_hash, relative)

    audio_tracks: tuple[AudioTrack, ...] = ()
    if package.audio is not None:
        audio_tracks = (
            AudioTrack(
                id=MAIN_AUDIO_TRACK.id, role=MAIN_AUDIO_TRACK.role,
                language=MAIN_AUDIO_TRACK.language, codec=MAIN_AUDIO_TRACK.codec,
                channels=MAIN_AUDIO_TRACK.channels, bitrate=package.audio.bandwidth,
                playlist=key(f"{AUDIO_DIR}/{MEDIA_PLAYLIST}"),
                init=key(f"{AUDIO_DIR}/{INIT_SEGMENT}"),
                segment_count=package.audio.segment_count,
            ),
        )  # fmt: skip
    audio_ids = tuple(track.id for track in audio_tracks) or None
    packaged = {track.track_id: track for track in package.video}
    video_tracks = tuple(
        VideoTrack(
            id=variant.label, codec=variant.codec.value, width=variant.width,
            height=variant.height, bitrate=packaged[variant.label].bandwidth,
            playlist=key(f"{packaged[variant.label].directory}/{MEDIA_PLAYLIST}"),
            iframe_playlist=_optional_key(
                inputs.media_hash, packaged[variant.label].iframe_playlist
            ),
            init=key(f"{packaged[variant.label].directory}/{INIT_SEGMENT}"),
            segment_count=packaged[variant.label].segment_count,
            audio_track_ids=audio_ids,
        )
        for variant in plan.variants
    )  # fmt: skip
    captions = tuple(
        CaptionTrack(
            id=caption.id, language=caption.language, name=caption.name,
            default=caption.default, origin=caption.origin.value,
            playlist=key(f"{caption.directory}/{MEDIA_PLAYLIST}"),
            segment_count=caption.segment_count,
        )
        for caption in package.captions
    )  # fmt: skip
    encryption = None
    if inputs.encryption is not None:
        encryption = EncryptionInfo(
            scheme="cbcs", kid=inputs.encryption.kid_hex, key_endpoint=inputs.encryption.key_uri
        )
    return TranscodeResult(
        streaming=StreamingInfo(
            encrypted=encryption is not None,
            master_playlist=key(package.master_playlist),
            dash_manifest=key(package.dash_manifest),
            default_audio_track_id=audio_tracks[0].id if audio_tracks else None,
        ),
        audio_tracks=audio_tracks,
        video_tracks=video_tracks,
        encryption=encryption,
        downloads=downloads,
        captions=captions,
        uploaded_keys=tuple(uploaded),
    )


def _optional_key(media_hash: str, relative: str | None) -> str | None:
    return None if relative is None else video_key(media_hash, relative)


@contextlib.asynccontextmanager
async def relayed(
    progress: ProgressReporter, span: tuple[int, int]
) -> AsyncIterator[ProgressCallback]:
    """A synchronous progress callback for the toolchain, relayed to the job row by a
    small task as fractions arrive; the reporter throttles the writes (FFmpeg reports
    far more often than the row is updated)."""
    latest = [0.0]
    arrived = asyncio.Event()

    def report(fraction: float) -> None:
        latest[0] = min(max(fraction, 0.0), 1.0)
        arrived.set()

    async def flush() -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            try:
                await progress.report(span[0] + (span[1] - span[0]) * latest[0])
            except Exception as error:
                # Progress is advisory: a failed write must not fail the encode.
                logger.warning("progress update failed: %s", error)

    flusher = asyncio.create_task(flush())
    try:
        yield report
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
