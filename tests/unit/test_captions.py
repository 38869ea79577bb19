"""Captions (#19 item 3): the option's grammar, WebVTT/SRT reading, track planning, the
packager's text descriptors and the check at submission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_job_service import SOURCE, H, build, request
from tests.unit.test_workflows import H as WORKFLOW_HASH
from tests.unit.test_workflows import World as WorkflowWorld
from vylux_adapters.media.packager_args import TextTrack, packager_args
from vylux_core.errors import InvalidOptions, ObjectNotFound
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import TranscodeOptions, canonical_options, decode_options
from vylux_core.media.captions import (
    MAX_CAPTION_BYTES,
    CaptionFormatError,
    CaptionOption,
    CaptionOrigin,
    CaptionText,
    is_language_tag,
    plan_captions,
    to_webvtt,
)
from vylux_core.media.ladder import resolve_ladder
from vylux_core.media.mime_types import stream_content_type
from vylux_core.media.storage_keys import video_key
from vylux_core.worker.job_runner import is_permanent
from vylux_core.workflows.hls_upload import upload_order

EN = {"source": "subs/en.vtt", "language": "en", "name": "English", "default": True}
VTT = b"WEBVTT\n\n00:00.500 --> 00:02.000\nHello\n"
SRT = b"1\r\n00:00:00,500 --> 00:00:02,000 X1:10\r\nHello\r\n<i>there</i>\r\n\r\n"


def _transcode(captions: Any) -> TranscodeOptions:
    options = decode_options(JobType.TRANSCODE, {"captions": captions})
    assert isinstance(options, TranscodeOptions)
    return options


def test_captions_decode_and_keep_their_canonical_form() -> None:
    options = _transcode([EN, {"source": "subs/de.srt", "language": "de-CH", "name": "Deutsch"}])

    assert options.captions == (
        CaptionOption(source="subs/en.vtt", language="en", name="English", default=True),
        CaptionOption(source="subs/de.srt", language="de-CH", name="Deutsch"),
    )
    assert canonical_options(options) == {
        "captions": [EN, {"source": "subs/de.srt", "language": "de-CH", "name": "Deutsch"}]
    }
    full = decode_options(JobType.FULL, {"transcode": {"captions": [EN]}})
    assert canonical_options(full) == {"transcode": {"captions": [EN]}}


def test_a_caption_without_a_name_is_named_by_its_language() -> None:
    [caption] = _transcode([{"source": "a.vtt", "language": "fr"}]).captions
    assert caption.name == "fr"


@pytest.mark.parametrize(
    ("captions", "message"),
    [
        pytest.param({}, "options.captions must be an array", id="not-an-array"),
        pytest.param(["a.vtt"], "options.captions[0] must be an object", id="not-an-object"),
        pytest.param(
            [{"language": "en"}], "options.captions[0].source is required", id="no-source"
        ),
        pytest.param(
            [{"source": "a.vtt"}], "options.captions[0].language is required", id="no-language"
        ),
        pytest.param(
            [EN, {"source": "b.vtt", "language": "e1"}],
            "options.captions[1].language 'e1' is not a BCP 47 language tag",
            id="bad-language",
        ),
        pytest.param(
            [{"source": "a.vtt", "language": "en_US"}],
            "options.captions[0].language 'en_US' is not a BCP 47 language tag",
            id="underscore-language",
        ),
        pytest.param(
            [{**EN, "kind": "subtitles"}],
            'unknown field "kind" in options.captions[0]',
            id="unknown-field",
        ),
        pytest.param(
            [{**EN, "default": "yes"}],
            "options.captions[0].default must be a boolean",
            id="default-not-bool",
        ),
        pytest.param(
            [{**EN, "source": 7}], "options.captions[0].source must be a string", id="source-type"
        ),
        pytest.param(
            [{**EN, "name": "A, B"}],
            "options.captions[0].name must be 1 to 64 characters, without quotes, commas or "
            "line breaks",
            id="comma-in-name",
        ),
        pytest.param(
            [EN, {**EN, "source": "b.vtt", "default": False}],
            "options.captions[1].name 'English' is also the name of options.captions[0]",
            id="duplicate-name",
        ),
        pytest.param(
            [EN, {**EN, "source": "b.vtt", "name": "Other"}],
            "options.captions[1].default: at most one caption may be the default",
            id="two-defaults",
        ),
        pytest.param(
            [{"source": f"{n}.vtt", "language": "en", "name": str(n)} for n in range(17)],
            "options.captions may hold at most 16 items",
            id="too-many",
        ),
    ],
)
def test_bad_caption_options_name_the_entry(captions: Any, message: str) -> None:
    with pytest.raises(InvalidOptions) as caught:
        _transcode(captions)

    assert caught.value.message == f"invalid options: {message}"


def test_full_names_the_transcode_stage_entry() -> None:
    with pytest.raises(InvalidOptions) as caught:
        decode_options(JobType.FULL, {"transcode": {"captions": [{"source": "a.vtt"}]}})

    assert caught.value.message == (
        "invalid options: options.transcode.captions[0].language is required"
    )


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("en", True), ("und", True), ("pt-BR", True), ("zh-Hant-TW", True), ("es-419", True),
        ("sl-rozaj-biske", True), ("x-private", True), ("fra", True),
        ("", False), ("e", False), ("en_US", False), ("english-", False), ("en-", False),
        ("123", False), ("en-US-", False),
    ],
)  # fmt: skip
def test_language_tags(tag: str, valid: bool) -> None:
    assert is_language_tag(tag) is valid


def test_webvtt_passes_through_with_normalised_line_ends() -> None:
    assert to_webvtt(b"\xef\xbb\xbf" + VTT.replace(b"\n", b"\r\n")) == VTT.decode()


def test_srt_becomes_webvtt() -> None:
    assert to_webvtt(SRT) == ("WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nHello\n<i>there</i>\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"WEBVTT\n\nNOTE nothing\n", "is neither WebVTT nor SRT", id="no-cues"),
        pytest.param(b"hello world\n", "is neither WebVTT nor SRT", id="plain-text"),
        pytest.param(b"\xff\xfe\x00W", "is not UTF-8 text", id="utf16"),
        pytest.param(
            b"WEBVTT\n\n00:00,500 --> 00:02,000\nHi\n", "bad cue timing on line 3", id="vtt-comma"
        ),
        pytest.param(
            b"1\n00:00:03,000 --> 00:00:01,000\nHi\n", "ends before it starts", id="backwards"
        ),
        pytest.param(b"WEBVTT\n\n00:00.5 --> 00:02.000\nHi\n", "bad cue timing", id="short-ms"),
    ],
)
def test_bad_caption_files(data: bytes, message: str) -> None:
    with pytest.raises(CaptionFormatError, match=message):
        to_webvtt(data)


def _text(language: str, name: str, origin: CaptionOrigin, default: bool = False) -> CaptionText:
    return CaptionText(language=language, name=name, default=default, origin=origin, webvtt="")


def test_plan_gives_ids_unique_names_and_one_default() -> None:
    sidecar, embedded = CaptionOrigin.SIDECAR, CaptionOrigin.EMBEDDED
    texts = [
        _text("en", "English", sidecar),
        _text("pt-BR", "English", sidecar, default=True),
        _text("und", "English", embedded, default=True),
    ]

    planned = plan_captions(texts)

    assert [(p.id, p.text.name, p.text.default) for p in planned] == [
        ("en_0", "English", False),
        ("pt-br_1", "English 2", True),
        ("und_2", "English 3", False),  # a sidecar default wins over the source's
    ]
    [only] = plan_captions([_text("fr", "fr", embedded, default=True)])
    assert only.text.default


def test_packager_describes_text_for_hls_and_dash_apart() -> None:
    args = packager_args(
        "/w", "/o", resolve_ladder(320, 180)[:1], has_audio=False,
        text_tracks=[TextTrack("en_0", "en", "English"), TextTrack("und_1", "und", "Track 2")],
        default_text_language="en",
    )  # fmt: skip

    assert (
        "in=/w/en_0.vtt,stream=text,language=en,segment_template=/o/text/en_0/seg_$Number$.vtt,"
        "playlist_name=text/en_0/playlist.m3u8,hls_group_id=subtitles,hls_name=English,hls_only=1"
    ) in args
    assert (
        "in=/w/en_0.vtt,stream=text,language=en,init_segment=/o/text/en_0/init.mp4,"
        "segment_template=/o/text/en_0/seg_$Number$.m4s,dash_label=English,dash_only=1"
    ) in args
    # The packager refuses "und": the track goes without a language.
    assert next(a for a in args if a.startswith("in=/w/und_1.vtt")).startswith(
        "in=/w/und_1.vtt,stream=text,segment_template="
    )
    assert args[args.index("--default_text_language") + 1] == "en"


# --- submission --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        pytest.param(None, "object 'subs/en.vtt' not found in the source store", id="missing"),
        pytest.param(
            b"not captions",
            "'subs/en.vtt' is neither WebVTT nor SRT with at least one cue",
            id="not-captions",
        ),
        pytest.param(
            b"x" * (MAX_CAPTION_BYTES + 1),
            f"'subs/en.vtt' is {MAX_CAPTION_BYTES + 1} bytes, more than the "
            f"{MAX_CAPTION_BYTES} allowed",
            id="too-large",
        ),
    ],
)
@pytest.mark.parametrize(
    ("job_type", "options", "where"),
    [
        pytest.param("video:transcode", {"captions": [EN]}, "options.captions", id="transcode"),
        pytest.param(
            "video:full",
            {"transcode": {"captions": [EN]}},
            "options.transcode.captions",
            id="full",
        ),
    ],
)
async def test_submission_refuses_a_bad_caption_file_naming_its_entry(
    stored: bytes | None, message: str, job_type: str, options: dict[str, Any], where: str
) -> None:
    world = build(max_file_size=10)
    await world.put_source(5)
    if stored is not None:
        await world.source.put_bytes("subs/en.vtt", stored, content_type="text/vtt")

    with pytest.raises(InvalidOptions) as caught:
        await world.service.create(request(type=job_type, options=options))

    assert caught.value.message == f"invalid options: {where}[0].source: {message}"
    assert await world.drain() == []


async def test_submission_accepts_an_srt_sidecar() -> None:
    world = build(max_file_size=10)
    await world.put_source(5, SOURCE)
    await world.source.put_bytes("subs/en.vtt", SRT, content_type="application/x-subrip")

    submission = await world.service.create(
        request(type="video:transcode", options={"captions": [EN]})
    )

    assert submission.created
    assert submission.job.options == {"captions": [EN]}


def test_a_null_default_reads_as_absent() -> None:
    [caption] = _transcode([{**EN, "default": None}]).captions
    assert caption.default is False


def test_webvtt_segments_are_published_with_the_media_before_playlists() -> None:
    files = ["text/en_0/playlist.m3u8", "text/en_0/seg_1.vtt", "text/en_0/seg_1.m4s",
             "text/en_0/init.mp4", "manifest.mpd", "master.m3u8"]  # fmt: skip

    assert upload_order(files) == [
        ["text/en_0/init.mp4", "text/en_0/seg_1.m4s", "text/en_0/seg_1.vtt"],
        ["manifest.mpd", "text/en_0/playlist.m3u8"],
        ["master.m3u8"],
    ]


async def test_purge_removes_the_caption_files() -> None:
    world = build()
    keys = [video_key(H, f"text/en_0/{name}") for name in ("playlist.m3u8", "seg_1.vtt")]
    for key in keys:
        await world.media.put_bytes(key, b"WEBVTT\n", content_type="text/vtt")

    await world.service.purge(H)

    for key in keys:
        with pytest.raises(ObjectNotFound):
            await world.media.stat(key)


# --- the workflows (in-memory toolchain) -------------------------------------------------


@pytest.mark.parametrize("job_type", [JobType.TRANSCODE, JobType.FULL])
async def test_transcode_results_list_the_sidecar_captions(
    tmp_path: Path, job_type: JobType
) -> None:
    world = WorkflowWorld(tmp_path / "scratch")
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")
    await world.source.put_bytes("subs/en.vtt", SRT, content_type="application/x-subrip")
    options: dict[str, Any] = {"captions": [EN]}

    results = await world.run(
        job_type, {"transcode": options} if job_type is JobType.FULL else options
    )

    transcoded = results["artifacts"]["transcode"] if job_type is JobType.FULL else results
    prefix = f"videos/ab/{WORKFLOW_HASH}/"
    assert transcoded["captions"] == [
        {
            "id": "en_0", "language": "en", "name": "English", "default": True,
            "origin": "sidecar", "playlist": prefix + "text/en_0/playlist.m3u8",
            "segment_count": 1,
        }
    ]  # fmt: skip
    segment = prefix + "text/en_0/seg_1.vtt"
    assert segment in transcoded["uploaded_keys"]
    assert (await world.media.stat(segment)).content_type == "text/vtt; charset=utf-8"


async def test_a_sidecar_gone_by_the_time_the_job_runs_fails_it_for_good(tmp_path: Path) -> None:
    world = WorkflowWorld(tmp_path / "scratch")
    await world.source.put_bytes("uploads/in", b"video", content_type="video/mp4")

    with pytest.raises(InvalidOptions) as caught:
        await world.run(JobType.TRANSCODE, {"captions": [EN]})

    assert caught.value.message == (
        "transcode: invalid options: captions[0].source: object 'subs/en.vtt' not found in "
        "the source store"
    )
    assert is_permanent(caught.value)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("text/en_0/seg_1.vtt", "text/vtt; charset=utf-8"),
        ("text/en_0/playlist.m3u8", "application/vnd.apple.mpegurl"),
        ("text/en_0/init.mp4", "application/mp4"),
        ("text/en_0/seg_1.m4s", "application/mp4"),
        ("video/r240_h264/seg_1.m4s", "video/iso.segment"),
        ("video/r240_h264/init.mp4", "video/mp4"),
    ],
)
def test_stream_content_types_of_a_subtitles_track(path: str, content_type: str) -> None:
    assert stream_content_type(path) == content_type
