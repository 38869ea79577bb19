"""Rich views of a job as the jobs API shows it (``GET /api/jobs/{id}``, spec §7.3, §10).

Both ``jobs`` back ends (direct and ``--api``) produce that same JSON shape, so the
views read plain dicts and tolerate missing or unexpected fields: a server of another
version must not crash the CLI, only show less.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console, RenderableType
from rich.json import JSON
from rich.markup import escape
from rich.table import Table

from vylux_core.jobs.results import ResultsDecodeError, RetryPlan, structure_retry_plan

_STATUS_STYLE = {
    "queued": "yellow",
    "processing": "cyan",
    "completed": "green",
    "failed": "red",
    "canceled": "magenta",
}


def styled_status(status: str) -> str:
    style = _STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else _text(status)


def job_table(view: Mapping[str, Any]) -> Table:
    """One row per field of the job; the results come separately (:func:`results_views`)."""
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, str]] = [
        ("job", _text(view.get("job_id", "?"))),
        ("type", _text(view.get("type", "?"))),
        ("hash", _text(view.get("hash", "?"))),
        ("status", styled_status(str(view.get("status", "?")))),
        ("progress", f"{view.get('progress', 0)}%"),
        ("callback", _text(view.get("callback_status", "?"))),
    ]
    if view.get("retry_of_job_id"):
        rows.append(("retry of", _text(view["retry_of_job_id"])))
    if view.get("error"):
        rows.append(("error", f"[red]{_text(view['error'])}[/]"))
    rows += [
        ("created", _text(view.get("created_at", "?"))),
        ("updated", _text(view.get("updated_at", "?"))),
    ]
    rows.append(("results", results_headline(view.get("type"), view.get("results"))))
    for field, value in rows:
        table.add_row(field, value)
    return table


def results_headline(job_type: object, results: Any) -> str:
    """A one-line summary for the job table."""
    if results is None:
        return "-"
    if job_type == "image:thumbnail" and isinstance(results, list):
        return f"{len(results)} image(s), {_size(sum(_int(r, 'size') for r in _dicts(results)))}"
    if isinstance(results, dict):
        if job_type == "video:full":
            stages = results.get("stages")
            if isinstance(stages, dict):
                return _text(", ".join(f"{k} {_stage_status(v)}" for k, v in stages.items()))
        if job_type in ("video:transcode", "audio:transcode"):
            return _text(_get(results, "streaming", "master_playlist") or "-")
        if job_type == "video:storyboard":
            return f"{_text(results.get('vtt', '-'))} ({_int(results, 'tiles')} tiles)"
        if "key" in results:
            return f"{_text(results['key'])} ({_size(_int(results, 'size'))})"
    return "see below"


def results_views(job_type: object, results: Any) -> list[RenderableType]:
    """Tables describing ``results`` by job type (§10); none when there are none."""
    if results is None:
        return []
    if job_type == "image:thumbnail" and isinstance(results, list):
        return [_thumbnails(results)]
    if isinstance(results, dict):
        if job_type == "video:transcode":
            return _transcode(results)
        if job_type == "audio:transcode":
            return _audio_transcode(results)
        if job_type == "video:full":
            return _full(results)
        if job_type == "video:storyboard":
            return [_storyboard(results)]
        if "key" in results:
            return [_artifacts({str(job_type): results})]
    # A shape this CLI does not know (a newer server): the JSON itself.
    return [JSON.from_data(results)]


def print_job(console: Console, view: Mapping[str, Any]) -> None:
    console.print(job_table(view))
    for renderable in results_views(view.get("type"), view.get("results")):
        console.print(renderable)


def _thumbnails(results: list[Any]) -> Table:
    table = Table(title="images", title_justify="left")
    for column in ("variant", "key", "format"):
        table.add_column(column, overflow="fold")
    table.add_column("size", justify="right")
    for item in _dicts(results):
        table.add_row(
            _text(item.get("variant", "?")), _text(item.get("key", "?")),
            _text(item.get("format", "?")), _size(_int(item, "size")),
        )  # fmt: skip
    return table


def _transcode(results: Mapping[str, Any]) -> list[RenderableType]:
    master = _text(_get(results, "streaming", "master_playlist") or "?")
    encrypted = "encrypted" if _get(results, "streaming", "encrypted") else "clear"
    lines = [f"master playlist: [bold]{master}[/] ({encrypted})"]
    kid, endpoint = _get(results, "encryption", "kid"), _get(results, "encryption", "key_endpoint")
    if kid:
        lines.append(f"key id {_text(kid)}, key from {_text(endpoint)}")
    tracks = Table(title="tracks", title_justify="left")
    for column in ("kind", "id", "codec", "detail", "bitrate", "segments", "playlist"):
        tracks.add_column(column, overflow="fold")
    for track in _dicts(results.get("video_tracks")):
        detail = _text(f"{track.get('width', '?')}x{track.get('height', '?')}")
        tracks.add_row("video", *_track_cells(track, detail))
    for track in _dicts(results.get("audio_tracks")):
        detail = _text(f"{track.get('language', '?')} {track.get('channels', '?')}ch")
        tracks.add_row("audio", *_track_cells(track, detail))
    views: list[RenderableType] = ["\n".join(lines), tracks]
    if isinstance(results.get("storyboard"), dict):
        views.append(_storyboard(results["storyboard"]))
    return views


def _storyboard(artifact: Mapping[str, Any]) -> str:
    every = _int(artifact, "interval_ms") / 1000
    size = f"{_int(artifact, 'tile_width')}x{_int(artifact, 'tile_height')}"
    return (
        f"storyboard: [bold]{_text(artifact.get('vtt', '?'))}[/] "
        f"({_int(artifact, 'tiles')} tiles of {size}, one every {every:g} s; "
        f"sprite {_text(artifact.get('sprite', '?'))})"
    )


def _audio_transcode(results: Mapping[str, Any]) -> list[RenderableType]:
    views = _transcode(results)
    files = {f"download {d.get('kind', '?')}": d for d in _dicts(results.get("downloads"))}
    waveform = results.get("waveform")
    if isinstance(waveform, dict):
        files[f"waveform ({_int(waveform, 'bins')} bins)"] = {**waveform, "format": "json"}
    if files:
        views.append(_artifacts(files))
    return views


def _track_cells(track: Mapping[str, Any], detail: str) -> tuple[str, ...]:
    return (
        _text(track.get("id", "?")), _text(track.get("codec", "?")), detail,
        f"{_int(track, 'bitrate') // 1000} kb/s", _text(track.get("segment_count", "?")),
        _text(track.get("playlist", "?")),
    )  # fmt: skip


def _full(results: Mapping[str, Any]) -> list[RenderableType]:
    stages = Table(title="stages", title_justify="left")
    for column in ("stage", "status", "detail"):
        stages.add_column(column, overflow="fold")
    raw_stages = results.get("stages")
    for name, stage in raw_stages.items() if isinstance(raw_stages, dict) else []:
        detail = ""
        if isinstance(stage, dict):
            detail = " ".join(
                str(stage[k]) for k in ("error_code", "error", "reason") if stage.get(k)
            )
        stages.add_row(_text(name), _styled_stage(_stage_status(stage)), _text(detail))
    views: list[RenderableType] = [stages]
    artifacts = results.get("artifacts")
    if isinstance(artifacts, dict):
        images = {
            k: v
            for k, v in artifacts.items()
            if k not in ("transcode", "storyboard") and isinstance(v, dict)
        }
        if images:
            views.append(_artifacts(images))
        if isinstance(artifacts.get("transcode"), dict):
            views += _transcode(artifacts["transcode"])
        if isinstance(artifacts.get("storyboard"), dict):
            views.append(_storyboard(artifacts["storyboard"]))
    plan = _retry_plan(results.get("retry_plan"))
    if plan is not None and plan.allowed:
        kinds = ", ".join(plan.job_types)
        views.append(_text(f"retry plan: {plan.strategy} ({kinds})"))
    return views


def _retry_plan(data: Any) -> RetryPlan | None:
    """The plan, or nothing to show for one this CLI cannot read."""
    if data is None:
        return None
    try:
        return structure_retry_plan(data)
    except ResultsDecodeError:
        return None


def _styled_stage(status: str) -> str:
    style = {"ready": "green", "failed": "red", "skipped": "dim", "pending": "yellow"}.get(status)
    return f"[{style}]{status}[/]" if style else _text(status)


def _artifacts(artifacts: Mapping[str, Any]) -> Table:
    table = Table(title="artifacts", title_justify="left")
    for column in ("artifact", "key", "format"):
        table.add_column(column, overflow="fold")
    table.add_column("size", justify="right")
    for name, artifact in artifacts.items():
        table.add_row(
            _text(name), _text(artifact.get("key", "?")), _text(artifact.get("format", "?")),
            _size(_int(artifact, "size")),
        )  # fmt: skip
    return table


def _stage_status(stage: Any) -> str:
    return str(stage.get("status", "?")) if isinstance(stage, dict) else "?"


def _dicts(items: Any) -> Iterable[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _get(data: Mapping[str, Any], *path: str) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _text(value: object) -> str:
    # Values come from job data: "[...]" in a path or error must not be read as markup.
    return escape(str(value))
