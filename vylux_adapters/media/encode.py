"""The FFmpeg runs behind one HLS package: audio plus one run per codec, and their threads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from attrs import frozen

from vylux_adapters.media.colour import sdr_output_args, tone_map_filter
from vylux_adapters.media.ffmpeg_args import encode_audio_args, encode_group_args
from vylux_core.media.ladder import MAIN_AUDIO_TRACK, Variant, VideoCodec, encoded_name
from vylux_core.ports.media_toolchain import HlsPlan

# Relative encoding cost per output pixel. SVT-AV1 at preset 6 takes roughly 2x (360p) to
# 4x (1080p) the CPU of x264 "fast"; the factor steers thread shares and progress weights.
CODEC_COST: Final = {VideoCodec.AV1: 3.0, VideoCodec.H264: 1.0}
# AAC on one thread is cheap next to any video encode, but it still decodes the whole file.
AUDIO_COST_SHARE: Final = 0.05


@frozen(kw_only=True)
class EncodeRun:
    """One FFmpeg invocation: ``args`` exclude the binary and the progress options."""

    step: str  # names the run in progress weights and error messages
    args: tuple[str, ...]
    cost: float
    threads: int | None  # None: FFmpeg's own default (audio)


def plan_encodes(
    source: Path, plan: HlsPlan, work_dir: Path, *, budget: int, concurrent: bool
) -> list[EncodeRun]:
    """Audio (if planned) and one run per codec group, in the plan's codec order.

    Concurrent runs share ``budget`` threads as :func:`split_threads` explains; sequential
    runs each get all of it.
    """
    groups: dict[VideoCodec, list[Variant]] = {}
    for variant in plan.variants:
        groups.setdefault(variant.codec, []).append(variant)
    costs = [_group_cost(variants) for variants in groups.values()]
    threads = split_threads(costs, budget) if concurrent else [budget] * len(costs)
    runs: list[EncodeRun] = []
    if plan.include_audio:
        audio_out = work_dir / encoded_name(MAIN_AUDIO_TRACK.id)
        runs.append(
            EncodeRun(
                step=f"encode audio track {MAIN_AUDIO_TRACK.id}",
                args=tuple(encode_audio_args(str(source), str(audio_out))),
                cost=AUDIO_COST_SHARE * sum(costs),
                threads=None,
            )
        )
    for (codec, variants), cost, count in zip(groups.items(), costs, threads, strict=True):
        args = encode_group_args(
            str(source), variants, str(work_dir), plan.frame_rate,
            source_filter=tone_map_filter(plan.dynamic_range),
            output_args=sdr_output_args(plan.dynamic_range),
        )  # fmt: skip
        outputs = {str(work_dir / encoded_name(variant.label)) for variant in variants}
        runs.append(
            EncodeRun(
                step=f"encode video tracks ({codec.value})",
                args=with_threads(args, outputs, count),
                cost=cost,
                threads=count,
            )
        )
    return runs


def split_threads(costs: Sequence[float], budget: int) -> list[int]:
    """Threads for runs that go side by side: the costliest gets the whole ``budget``, each
    other run its cost share of it (rounded up, at least 1).

    A strict partition (2 cores: AV1 1 + H.264 1) leaves cores idle once the cheap run ends
    and measured no faster than running one after the other; giving every run the whole
    budget oversubscribes the cores by the number of runs. This way the threads exceed the
    budget only by the small runs' shares while they last, and the long run can use every
    core after them (2 cores → 2 + 1; 8 cores at 3:1 cost → 8 + 2).
    """
    if not costs:
        return []
    total = sum(costs)
    longest = max(range(len(costs)), key=lambda index: costs[index])
    return [
        budget
        if index == longest
        else min(budget, max(1, math.ceil(budget * cost / total if total > 0 else 1)))
        for index, cost in enumerate(costs)
    ]


def with_threads(args: Sequence[str], outputs: set[str], threads: int) -> tuple[str, ...]:
    """``args`` with decoder, filter and per-output encoder thread counts set to ``threads``.

    FFmpeg output options apply to the next output file only, so the encoder's
    ``-threads`` is repeated in front of every output path of a split group.
    """
    count = str(threads)
    result = ["-threads", count, "-filter_threads", count, "-filter_complex_threads", count]
    for arg in args:
        if arg in outputs:
            result += ["-threads", count]
        result.append(arg)
    return tuple(result)


def _group_cost(variants: Sequence[Variant]) -> float:
    pixels = sum(variant.width * variant.height for variant in variants)
    return CODEC_COST[variants[0].codec] * pixels
