"""Results JSON per job type: exact shapes, key order, omission rules, strict decoding."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import (
    NO_RETRY_PLAN,
    Artifacts,
    AudioTrack,
    DownloadArtifact,
    EncryptionInfo,
    FullResult,
    FullStage,
    FullStages,
    ImageArtifact,
    Results,
    ResultsDecodeError,
    RetryPlan,
    RetryStrategy,
    SkipReason,
    Stage,
    StageErrorCode,
    StageStatus,
    StoryboardArtifact,
    StreamingInfo,
    ThumbnailOutputResult,
    TranscodeResult,
    UnreadableResults,
    VideoTrack,
    read_stored_results,
    results_json,
    structure_results,
    unstructure_results,
)

ROOT = "videos/ab/abcdef"
COVER = ImageArtifact(key=f"{ROOT}/cover.jpg", format="jpg", size=83211)
PREVIEW = ImageArtifact(key=f"{ROOT}/preview.webp", format="webp", size=402118)
THUMBNAILS = (
    ThumbnailOutputResult(
        variant="thumb", key="images/ab/abcdef/thumb.webp", format="webp", size=12345
    ),
)
AUDIO = AudioTrack(
    id="und_aac_2ch",
    role="main",
    language="und",
    codec="aac",
    channels=2,
    bitrate=128000,
    playlist=f"{ROOT}/audio/und_aac_2ch/playlist.m3u8",
    init=f"{ROOT}/audio/und_aac_2ch/init.mp4",
    segment_count=42,
)


def _video_track(audio_track_ids: tuple[str, ...] | None) -> VideoTrack:
    return VideoTrack(
        id="r1080_av1",
        codec="av1",
        width=1920,
        height=1080,
        bitrate=3000000,
        playlist=f"{ROOT}/video/r1080_av1/playlist.m3u8",
        init=f"{ROOT}/video/r1080_av1/init.mp4",
        segment_count=42,
        audio_track_ids=audio_track_ids,
    )


TRANSCODE_FULL = TranscodeResult(
    streaming=StreamingInfo(
        encrypted=True,
        master_playlist=f"{ROOT}/master.m3u8",
        default_audio_track_id="und_aac_2ch",
    ),
    audio_tracks=(AUDIO,),
    video_tracks=(_video_track(("und_aac_2ch",)),),
    encryption=EncryptionInfo(
        scheme="cbcs",
        kid="00112233445566778899aabbccddeeff",
        key_endpoint="https://media.example.com/api/key/abcdef",
    ),
    uploaded_keys=(f"{ROOT}/audio/und_aac_2ch/init.mp4", f"{ROOT}/master.m3u8"),
)
TRANSCODE_BARE = TranscodeResult(
    streaming=StreamingInfo(encrypted=False, master_playlist=f"{ROOT}/master.m3u8"),
    video_tracks=(_video_track(None),),
    uploaded_keys=(f"{ROOT}/master.m3u8",),
)
TRANSCODE_NOTHING_UPLOADED = TranscodeResult(
    streaming=StreamingInfo(encrypted=False, master_playlist=f"{ROOT}/master.m3u8"),
    video_tracks=(_video_track(()),),
)
VIDEO_TRACK_JSON = {
    "id": "r1080_av1", "codec": "av1", "width": 1920, "height": 1080, "bitrate": 3000000,
    "playlist": f"{ROOT}/video/r1080_av1/playlist.m3u8",
    "init": f"{ROOT}/video/r1080_av1/init.mp4",
    "segment_count": 42,
}  # fmt: skip
BARE_STREAMING_JSON = {
    "protocol": "hls", "container": "cmaf", "encrypted": False,
    "master_playlist": f"{ROOT}/master.m3u8",
}  # fmt: skip

# §5.5's example, verbatim apart from the elided hash and message.
FULL_EXAMPLE = FullResult(
    stages=FullStages(
        source=Stage(StageStatus.READY),
        cover=Stage(
            StageStatus.FAILED,
            error_code=StageErrorCode.EXTRACT_FAILED,
            error="extract cover: exit status 1",
            retryable=True,
        ),
        preview=Stage(StageStatus.READY),
        transcode=Stage(StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_FAILED_DEPENDENCIES),
    ),
    artifacts=Artifacts(preview=PREVIEW),
    retry_plan=RetryPlan(
        allowed=True,
        strategy=RetryStrategy.RETRY_TASKS,
        job_types=(JobType.COVER, JobType.TRANSCODE),
        stages=(FullStage.COVER, FullStage.TRANSCODE),
        reason="cover/preview stage failed",
    ),
)
FULL_EXAMPLE_TEXT = (
    '{"stages":{"source":{"status":"ready"},'
    '"cover":{"status":"failed","error_code":"extract_failed",'
    '"error":"extract cover: exit status 1","retryable":true},'
    '"preview":{"status":"ready"},'
    '"transcode":{"status":"skipped","reason":"blocked_by_failed_dependencies"}},'
    '"artifacts":{"preview":{"key":"videos/ab/abcdef/preview.webp","format":"webp","size":402118}},'
    '"retry_plan":{"allowed":true,"strategy":"retry_tasks",'
    '"job_types":["video:cover","video:transcode"],"stages":["cover","transcode"],'
    '"reason":"cover/preview stage failed"}}'
)
PENDING = Stage(StageStatus.PENDING)
READY = Stage(StageStatus.READY)
FULL_SUCCESS = FullResult(
    stages=FullStages(source=READY, cover=READY, preview=READY, transcode=READY),
    artifacts=Artifacts(cover=COVER, preview=PREVIEW, transcode=TRANSCODE_BARE),
    retry_plan=NO_RETRY_PLAN,
)
FULL_PENDING = FullResult(
    stages=FullStages(source=PENDING, cover=PENDING, preview=PENDING, transcode=PENDING),
    artifacts=Artifacts(),
    retry_plan=NO_RETRY_PLAN,
)
STORYBOARD = StoryboardArtifact(
    sprite=f"{ROOT}/storyboard.jpg", vtt=f"{ROOT}/storyboard.vtt", json=f"{ROOT}/storyboard.json",
    tiles=100, interval_ms=3600, tile_width=160, tile_height=90,
)  # fmt: skip
FULL_WITH_STORYBOARD = FullResult(
    stages=FullStages(source=READY, cover=READY, preview=READY, transcode=READY, storyboard=READY),
    artifacts=Artifacts(cover=COVER, transcode=TRANSCODE_BARE, storyboard=STORYBOARD),
    retry_plan=NO_RETRY_PLAN,
)
TRANSCODE_WITH_IFRAMES = TranscodeResult(
    streaming=StreamingInfo(encrypted=False, master_playlist=f"{ROOT}/master.m3u8"),
    video_tracks=(
        attrs.evolve(_video_track(None), iframe_playlist=f"{ROOT}/video/r1080_av1/iframes.m3u8"),
    ),
)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        pytest.param(
            THUMBNAILS,
            [{"variant": "thumb", "key": "images/ab/abcdef/thumb.webp", "format": "webp",
              "size": 12345}],
            id="thumbnail-5.1-top-level-array",
        ),
        pytest.param(
            COVER,
            {"key": f"{ROOT}/cover.jpg", "format": "jpg", "size": 83211},
            id="cover-5.2",
        ),
        pytest.param(
            PREVIEW,
            {"key": f"{ROOT}/preview.webp", "format": "webp", "size": 402118},
            id="preview-5.3",
        ),
        pytest.param(
            TRANSCODE_FULL,
            {
                "streaming": {
                    "protocol": "hls", "container": "cmaf", "encrypted": True,
                    "master_playlist": f"{ROOT}/master.m3u8",
                    "default_audio_track_id": "und_aac_2ch",
                },
                "audio_tracks": [{
                    "id": "und_aac_2ch", "role": "main", "language": "und", "codec": "aac",
                    "channels": 2, "bitrate": 128000,
                    "playlist": f"{ROOT}/audio/und_aac_2ch/playlist.m3u8",
                    "init": f"{ROOT}/audio/und_aac_2ch/init.mp4",
                    "segment_count": 42,
                }],
                "video_tracks": [{**VIDEO_TRACK_JSON, "audio_track_ids": ["und_aac_2ch"]}],
                "encryption": {
                    "scheme": "cbcs", "kid": "00112233445566778899aabbccddeeff",
                    "key_endpoint": "https://media.example.com/api/key/abcdef",
                },
                "uploaded_keys": [f"{ROOT}/audio/und_aac_2ch/init.mp4", f"{ROOT}/master.m3u8"],
            },
            id="transcode-5.4-audio-and-encryption",
        ),
        pytest.param(
            TRANSCODE_BARE,
            {
                "streaming": BARE_STREAMING_JSON,
                "video_tracks": [VIDEO_TRACK_JSON],
                "uploaded_keys": [f"{ROOT}/master.m3u8"],
            },
            id="transcode-no-audio-no-encryption-omits-keys",
        ),
        pytest.param(
            TRANSCODE_NOTHING_UPLOADED,
            {
                "streaming": BARE_STREAMING_JSON,
                "video_tracks": [VIDEO_TRACK_JSON],
                "uploaded_keys": None,
            },
            id="transcode-empty-uploaded-keys-is-null-and-empty-audio-ids-omitted",
        ),
        pytest.param(FULL_EXAMPLE, json.loads(FULL_EXAMPLE_TEXT), id="full-5.5"),
        pytest.param(
            FULL_PENDING,
            {
                "stages": {
                    "source": {"status": "pending"}, "cover": {"status": "pending"},
                    "preview": {"status": "pending"}, "transcode": {"status": "pending"},
                },
                "artifacts": {},
                "retry_plan": {"allowed": False, "strategy": "none"},
            },
            id="full-initial-empty-artifacts-and-no-plan",
        ),
        pytest.param(
            FULL_SUCCESS,
            {
                "stages": {
                    "source": {"status": "ready"}, "cover": {"status": "ready"},
                    "preview": {"status": "ready"}, "transcode": {"status": "ready"},
                },
                "artifacts": {
                    "cover": {"key": f"{ROOT}/cover.jpg", "format": "jpg", "size": 83211},
                    "preview": {"key": f"{ROOT}/preview.webp", "format": "webp", "size": 402118},
                    "transcode": {
                        "streaming": BARE_STREAMING_JSON,
                        "video_tracks": [VIDEO_TRACK_JSON],
                        "uploaded_keys": [f"{ROOT}/master.m3u8"],
                    },
                },
                "retry_plan": {"allowed": False, "strategy": "none"},
            },
            id="full-success-all-artifacts",
        ),
    ],
)  # fmt: skip
def test_unstructure_gives_the_spec_json_in_spec_key_order(results: Results, expected: Any) -> None:
    actual = unstructure_results(results)

    assert actual == expected
    assert _compact(actual) == _compact(expected)


def test_full_example_serialises_to_the_spec_text_byte_for_byte() -> None:
    assert _compact(unstructure_results(FULL_EXAMPLE)) == FULL_EXAMPLE_TEXT


@pytest.mark.parametrize(
    ("job_type", "results"),
    [
        pytest.param(JobType.THUMBNAIL, THUMBNAILS, id="thumbnail"),
        pytest.param(JobType.THUMBNAIL, (), id="thumbnail-empty"),
        pytest.param(JobType.COVER, COVER, id="cover"),
        pytest.param(JobType.PREVIEW, PREVIEW, id="preview"),
        pytest.param(JobType.TRANSCODE, TRANSCODE_FULL, id="transcode-full"),
        pytest.param(JobType.TRANSCODE, TRANSCODE_BARE, id="transcode-bare"),
        pytest.param(JobType.TRANSCODE, TRANSCODE_NOTHING_UPLOADED, id="transcode-null-keys"),
        pytest.param(JobType.FULL, FULL_EXAMPLE, id="full-example"),
        pytest.param(JobType.FULL, FULL_PENDING, id="full-pending"),
        pytest.param(JobType.FULL, FULL_WITH_STORYBOARD, id="full-storyboard-stage"),
        pytest.param(JobType.STORYBOARD, STORYBOARD, id="storyboard"),
        pytest.param(JobType.TRANSCODE, TRANSCODE_WITH_IFRAMES, id="transcode-iframes"),
        pytest.param("video:full", FULL_SUCCESS, id="full-success-by-string-type"),
    ],
)
def test_structure_inverts_unstructure(job_type: JobType | str, results: Results) -> None:
    wire = json.loads(json.dumps(unstructure_results(results)))

    assert structure_results(job_type, wire) == results


def test_downloads_serialise_before_uploaded_keys_and_only_when_present() -> None:
    streaming = StreamingInfo(encrypted=False, master_playlist=f"{ROOT}/master.m3u8")
    highest = DownloadArtifact(
        kind="highest", key=f"{ROOT}/downloads/highest.mp4", format="mp4", size=1234
    )
    with_downloads = TranscodeResult(
        streaming=streaming, video_tracks=(), downloads=(highest,), uploaded_keys=("k",)
    )
    without = TranscodeResult(streaming=streaming, video_tracks=(), downloads=())

    wire = unstructure_results(with_downloads)
    assert list(wire)[-2:] == ["downloads", "uploaded_keys"]
    assert wire["downloads"] == [
        {"kind": "highest", "key": f"{ROOT}/downloads/highest.mp4", "format": "mp4", "size": 1234}
    ]
    assert "downloads" not in unstructure_results(without)
    assert structure_results(JobType.TRANSCODE, wire) == with_downloads


@given(st.lists(st.builds(ThumbnailOutputResult)).map(tuple))
def test_any_thumbnail_result_round_trips(results: tuple[ThumbnailOutputResult, ...]) -> None:
    wire = json.loads(json.dumps(unstructure_results(results)))

    assert structure_results(JobType.THUMBNAIL, wire) == results


@given(st.from_type(TranscodeResult))
def test_any_transcode_result_round_trips(results: TranscodeResult) -> None:
    wire = json.loads(json.dumps(unstructure_results(results)))

    assert structure_results(JobType.TRANSCODE, wire) == results


@given(st.from_type(FullResult))
def test_any_full_result_round_trips(results: FullResult) -> None:
    wire = json.loads(json.dumps(unstructure_results(results)))

    assert structure_results(JobType.FULL, wire) == results


@pytest.mark.parametrize(
    ("job_type", "results"),
    [
        pytest.param(JobType.COVER, COVER, id="cover"),
        pytest.param(JobType.THUMBNAIL, THUMBNAILS, id="thumbnails"),
        pytest.param(JobType.FULL, FULL_EXAMPLE, id="full"),
    ],
)
def test_a_stored_value_reads_back_typed_and_writes_the_same_json(
    job_type: JobType, results: Results
) -> None:
    stored = json.loads(json.dumps(unstructure_results(results)))

    read = read_stored_results(job_type, stored)

    assert read == results
    assert json.dumps(results_json(read)) == json.dumps(unstructure_results(results))


@pytest.mark.parametrize(
    ("job_type", "stored"),
    [
        pytest.param(JobType.COVER, {"key": "k"}, id="missing-fields"),
        pytest.param(JobType.COVER, [], id="array-for-object"),
        pytest.param(JobType.THUMBNAIL, {"variant": "x"}, id="object-for-array"),
        pytest.param(JobType.FULL, {"stages": "garbage", "note": "ünïcødé"}, id="full-garbage"),
    ],
)
def test_a_stored_value_that_does_not_decode_is_kept_as_stored(
    job_type: JobType, stored: Any
) -> None:
    read = read_stored_results(job_type, stored)

    assert isinstance(read, UnreadableResults)
    assert isinstance(read.error, ResultsDecodeError)
    assert results_json(read) is stored


def test_no_stored_value_reads_as_none() -> None:
    assert read_stored_results(JobType.FULL, None) is None
    assert results_json(None) is None


def _with(base: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A deep copy of ``base`` with the value at ``path`` replaced (or added)."""
    copy = json.loads(json.dumps(base))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


COVER_JSON = unstructure_results(COVER)
TRANSCODE_JSON = unstructure_results(TRANSCODE_FULL)
FULL_JSON = unstructure_results(FULL_EXAMPLE)


@pytest.mark.parametrize(
    ("job_type", "data"),
    [
        pytest.param("video:cover", {**COVER_JSON, "url": "x"}, id="unknown-top-level-key"),
        pytest.param("image:thumbnail", [{**COVER_JSON, "variant": "t", "w": 1}],
                     id="unknown-key-in-thumbnail-item"),
        pytest.param("video:transcode", _with(TRANSCODE_JSON, ("streaming", "drm"), "x"),
                     id="unknown-key-in-streaming"),
        pytest.param("video:transcode", _with(TRANSCODE_JSON, ("video_tracks", 0, "fps"), 30),
                     id="unknown-key-in-video-track"),
        pytest.param("video:full", _with(FULL_JSON, ("stages", "audio"), {"status": "ready"}),
                     id="unknown-stage"),
        pytest.param("video:full", _with(FULL_JSON, ("artifacts", "audio"), COVER_JSON),
                     id="unknown-artifact"),
        pytest.param("video:full", _with(FULL_JSON, ("retry_plan", "delay"), 1),
                     id="unknown-key-in-retry-plan"),
        pytest.param("video:cover", {"key": "k", "format": "jpg"}, id="missing-key"),
        pytest.param("video:cover", {**COVER_JSON, "size": "83211"}, id="string-for-int"),
        pytest.param("video:cover", {**COVER_JSON, "size": True}, id="bool-for-int"),
        pytest.param("video:cover", {**COVER_JSON, "key": 1}, id="int-for-string"),
        pytest.param("video:cover", [COVER_JSON], id="array-for-object"),
        pytest.param("image:thumbnail", COVER_JSON, id="object-for-array"),
        pytest.param("image:thumbnail", None, id="null-thumbnails"),
        pytest.param("video:transcode", _with(TRANSCODE_JSON, ("uploaded_keys",), "k"),
                     id="string-for-array"),
        pytest.param("video:transcode", _with(TRANSCODE_JSON, ("streaming", "protocol"), "dash"),
                     id="protocol-not-hls"),
        pytest.param("video:transcode", _with(TRANSCODE_JSON, ("streaming", "encrypted"), "true"),
                     id="string-for-bool"),
        pytest.param("video:full", _with(FULL_JSON, ("stages", "cover", "status"), "done"),
                     id="unknown-stage-status"),
        pytest.param("video:full", _with(FULL_JSON, ("retry_plan", "job_types"), ["video:x"]),
                     id="unknown-job-type-in-plan"),
        pytest.param("video:full", _with(FULL_JSON, ("retry_plan", "strategy"), "later"),
                     id="unknown-strategy"),
        pytest.param("video:audio", {}, id="unknown-job-type"),
    ],
)  # fmt: skip
def test_structure_rejects_what_the_spec_does_not_define(job_type: str, data: Any) -> None:
    with pytest.raises(ResultsDecodeError):
        structure_results(job_type, data)


def test_storyboard_stage_and_iframe_playlist_serialise_after_the_spec_keys() -> None:
    wire = unstructure_results(FULL_WITH_STORYBOARD)
    track = unstructure_results(TRANSCODE_WITH_IFRAMES)["video_tracks"][0]

    assert list(wire["stages"]) == ["source", "cover", "preview", "transcode", "storyboard"]
    assert list(wire["artifacts"]) == ["cover", "transcode", "storyboard"]
    assert list(track)[5:8] == ["playlist", "iframe_playlist", "init"]
    # A run without the stage, and a track without I-frames, keep the spec's shape.
    assert "storyboard" not in unstructure_results(FULL_PENDING)["stages"]
    assert "iframe_playlist" not in unstructure_results(TRANSCODE_BARE)["video_tracks"][0]
