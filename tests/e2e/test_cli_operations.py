"""Operator commands of ``vylux-cli``: jobs, queue, keys and media, on the embedded profile.

Every test gets its own data directory (SQLite, local stores, the SQL queue), so no
service is needed. The commands run through click's CliRunner, each in its own event
loop (``asyncio.run``), which is why these tests are synchronous. A worker, when a
test needs one, runs in a thread with a loop and a runtime of its own, as a separate
``vylux-cli work`` process would. ``--api`` goes to the real Starlette app of
``bootstrap.build_server`` through httpx's ASGITransport, opened inside the command's
loop by the ``ApiHooks`` passed as the click context object.
"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import pyvips  # type: ignore[import-untyped]
from click.testing import CliRunner, Result
from rich.console import Console

from tests.support.deadlines import scaled
from tests.support.queue import dequeue_one
from vylux_adapters.memory import ManualClock, MemoryKeyStore
from vylux_adapters.system import OsEntropy
from vylux_cli import bootstrap
from vylux_cli.api_client import ApiHooks
from vylux_cli.config import Config, environment_with_defaults
from vylux_cli.job_commands import parse_options
from vylux_cli.job_display import print_job
from vylux_cli.main import cli
from vylux_core.jobs.job import JobStatus
from vylux_core.jobs.queue_routing import MAIN_POOL_WEIGHTS
from vylux_core.ports.key_store import StoredKey
from vylux_core.security.key_ring import KeyEncryptionKey, KeyRing, WrappedKey, parse_kek_config
from vylux_core.services.key_rotation import rewrap_all

WORKER_DEADLINE = scaled(60.0)
_JOB_ID = re.compile(r"(?:created|existing) job ([0-9a-f-]{36})")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env files from the repository
    for name in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY", "VYLUX_API_URL", "VYLUX_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("VYLUX_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "250")  # rich tables on one line per row
    monkeypatch.setenv("LOG_LEVEL", "WARN")
    (data / "source").mkdir(parents=True)
    # The tool commands leave migrating to `migrate`, `serve` and `work`.
    assert invoke(["migrate"]).exit_code == 0
    return data


def invoke(args: Sequence[str], *, obj: object = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=obj, input=stdin, catch_exceptions=False)


def put_png(data: Path, name: str, width: int = 64, height: int = 48) -> None:
    """A small PNG dropped into the source directory, which makes it the object."""
    image = pyvips.Image.black(width, height, bands=3).draw_rect(
        [200, 30, 30], 0, 0, width // 2, height // 2, fill=True
    )
    image.write_to_file(str(data / "source" / name))


def current_config() -> Config:
    return bootstrap.load_runtime_config(environment_with_defaults())


def submit_thumbnail(media_hash: str, source: str, *extra: str) -> str:
    result = invoke(
        ["jobs", "submit", "--type", "image:thumbnail", "--hash", media_hash,
         "--source", source, "--options-json",
         '{"outputs":[{"variant":"sm","width":32,"format":"png"}]}', *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    match = _JOB_ID.search(result.output)
    assert match is not None, result.output
    return match.group(1)


async def _work_until_settled(config: Config, job_ids: Sequence[str]) -> None:
    async with (
        bootstrap.open_runtime(config) as runtime,
        bootstrap.build_worker(runtime) as worker,
    ):
        running = asyncio.create_task(worker.run())
        try:
            async with asyncio.timeout(WORKER_DEADLINE):
                for job_id in job_ids:
                    while not (await runtime.jobs.get(job_id)).status.is_terminal:
                        await asyncio.sleep(0.1)
        finally:
            worker.stop()
            await running


@pytest.fixture
def worker() -> Iterator[Callable[[Sequence[str]], threading.Thread]]:
    """Start a worker thread that stops once the given jobs are final."""
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def start(job_ids: Sequence[str]) -> threading.Thread:
        config = current_config()

        def body() -> None:
            try:
                asyncio.run(_work_until_settled(config, job_ids))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.join(WORKER_DEADLINE + 10)
    assert not errors, errors


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- help and option parsing ----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["jobs", "submit"], ["jobs", "show"], ["jobs", "wait"], ["queue", "stats"],
        ["queue", "archived"], ["keys", "rotate"], ["keys", "generate-kek"],
        ["media", "purge"],
    ],
)  # fmt: skip
def test_every_command_documents_its_exit_codes(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert result.exit_code == 0
    assert "Exit codes: 0" in result.output


def test_option_values_are_json_when_they_parse_and_dotted_keys_nest() -> None:
    options = parse_options(
        ("width=320", "encrypt=true", "format=webp", "cover.timestamp_sec=2", "cover.x=1.5"),
        '{"outputs":[{"variant":"a"}],"width":1}',
    )
    assert options == {
        "outputs": [{"variant": "a"}], "width": 320, "encrypt": True, "format": "webp",
        "cover": {"timestamp_sec": 2, "x": 1.5},
    }  # fmt: skip
    for bad in (("novalue",), ("a=1", "a.b=2"), (".x=1",)):
        with pytest.raises(click.BadParameter):
            parse_options(bad, None)
    with pytest.raises(click.BadParameter):
        parse_options((), "[1]")


def test_invalid_requests_exit_2_before_anything_is_stored(data_dir: Path) -> None:
    bad_option = invoke(
        ["jobs", "submit", "-t", "video:cover", "--hash", "h1", "-s", "a.mp4", "-o", "nope=1"]
    )
    bad_syntax = invoke(
        ["jobs", "submit", "-t", "video:cover", "--hash", "h1", "-s", "a", "-o", "x"]
    )
    missing_source = invoke(
        ["jobs", "submit", "-t", "video:transcode", "--hash", "h1", "-s", "no.mp4"]
    )
    assert (bad_option.exit_code, bad_syntax.exit_code, missing_source.exit_code) == (2, 2, 2)
    assert 'unknown field "nope"' in bad_option.output
    assert "source object not found" in missing_source.output


def test_a_callback_into_the_local_network_exits_2(data_dir: Path) -> None:
    put_png(data_dir, "x.png")
    result = invoke(
        ["jobs", "submit", "-t", "image:thumbnail", "--hash", "cbhash01", "-s", "x.png",
         "--callback-url", "http://localhost:9/cb"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "callback_url refused" in result.output
    assert "is not a public address" in result.output


def _render(view: dict[str, Any]) -> str:
    out = io.StringIO()
    print_job(Console(file=out, width=200), view)
    return out.getvalue()


def test_results_summaries_of_transcode_and_full_jobs() -> None:
    track = {"playlist": "v/p.m3u8", "init": "v/i.mp4", "segment_count": 3}
    transcode = {
        "streaming": {"encrypted": True, "master_playlist": "videos/ab/abc/master.m3u8"},
        "video_tracks": [{"id": "v0", "codec": "avc1", "width": 640, "height": 360,
                          "bitrate": 800_000, **track}],
        "audio_tracks": [{"id": "a0", "codec": "mp4a", "language": "und", "channels": 2,
                          "bitrate": 128_000, **track}],
        "encryption": {"scheme": "cbcs", "kid": "ab" * 16, "key_endpoint": "/api/key/abc"},
    }  # fmt: skip
    full = {
        "stages": {
            "source": {"status": "ready"},
            "cover": {"status": "failed", "error_code": "cover_failed", "error": "bad [frame]"},
            "preview": {"status": "ready"},
            "transcode": {"status": "skipped", "reason": "dependency_failed"},
        },
        "artifacts": {"preview": {"key": "videos/ab/abc/preview.webp", "format": "webp",
                                  "size": 4096}},
        "retry_plan": {"allowed": True, "strategy": "retry_tasks",
                       "job_types": ["video:cover", "video:transcode"]},
    }  # fmt: skip
    base = {"job_id": "j1", "hash": "abc", "status": "completed", "progress": 100}
    shown_transcode = _render({**base, "type": "video:transcode", "results": transcode})
    shown_full = _render({**base, "type": "video:full", "status": "failed", "results": full})

    assert "master playlist: videos/ab/abc/master.m3u8 (encrypted)" in shown_transcode
    assert re.search(r"video\s*│\s*v0\s*│\s*avc1\s*│\s*640x360\s*│\s*800 kb/s", shown_transcode)
    assert re.search(r"audio\s*│\s*a0\s*│\s*mp4a\s*│\s*und 2ch\s*│\s*128 kb/s", shown_transcode)
    assert "source ready, cover failed, preview ready, transcode skipped" in shown_full
    assert "cover_failed bad [frame]" in shown_full
    assert "videos/ab/abc/preview.webp" in shown_full
    assert "retry plan: retry_tasks (video:cover, video:transcode)" in shown_full
    # Missing or odd fields show less, they do not crash the view.
    assert "garbage" not in _render({"type": "video:full", "results": {"stages": "garbage"}})


def test_results_summaries_of_the_storyboard() -> None:
    storyboard = {
        "sprite": "videos/ab/abc/storyboard.jpg", "vtt": "videos/ab/abc/storyboard.vtt",
        "json": "videos/ab/abc/storyboard.json", "tiles": 30, "interval_ms": 1500,
        "tile_width": 160, "tile_height": 90,
    }  # fmt: skip
    full = {
        "stages": {"source": {"status": "ready"}, "storyboard": {"status": "ready"}},
        "artifacts": {"storyboard": storyboard},
    }
    base = {"job_id": "j1", "hash": "abc", "status": "completed", "progress": 100}

    alone = _render({**base, "type": "video:storyboard", "results": storyboard})
    shown_full = _render({**base, "type": "video:full", "results": full})

    line = (
        "storyboard: videos/ab/abc/storyboard.vtt (30 tiles of 160x90, one every 1.5 s; "
        "sprite videos/ab/abc/storyboard.jpg)"
    )
    assert "videos/ab/abc/storyboard.vtt (30 tiles)" in alone
    assert line in alone
    assert line in shown_full
    assert "artifacts" not in shown_full  # no image row of question marks


# --- jobs --------------------------------------------------------------------------------


def test_thumbnail_job_from_submit_to_results(data_dir: Path, worker: Any) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("thumbhash01", "x.png")
    again = invoke(
        ["jobs", "submit", "-t", "image:thumbnail", "--hash", "thumbhash01", "-s", "x.png",
         "-o", 'outputs=[{"variant":"sm","width":32,"format":"png"}]'],
    )  # fmt: skip
    shown = invoke(["jobs", "show", job_id])
    stats = invoke(["queue", "stats"])

    assert f"existing job {job_id} (queued)" in again.output
    assert shown.exit_code == 0
    for text in (job_id, "image:thumbnail", "thumbhash01", "queued", "0%", "pending"):
        assert text in shown.output
    critical = next(line for line in stats.output.splitlines() if "critical" in line)
    assert re.search(r"critical\s*│\s*1\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*\d+s", critical)

    thread = worker([job_id])
    waited = invoke(["jobs", "wait", job_id, "--timeout", "1m"])
    thread.join(WORKER_DEADLINE)
    after = invoke(["jobs", "show", job_id])

    assert waited.exit_code == 0, waited.output
    assert f"job {job_id} completed" in waited.output
    assert "images/th/thumbhash01/sm.png" in waited.output
    assert "completed" in after.output
    assert "100%" in after.output
    assert "1 image(s)" in after.output
    assert (data_dir / "media" / "images" / "th" / "thumbhash01" / "sm.png").is_file()


def test_failed_job_makes_wait_exit_1_with_the_error(data_dir: Path, worker: Any) -> None:
    job_id = submit_thumbnail("failhash01", "missing.png")
    worker([job_id])
    waited = invoke(["jobs", "wait", job_id])
    assert waited.exit_code == 1
    assert f"job {job_id} failed" in waited.output
    assert "object not found: missing.png" in waited.output


def test_wait_times_out_with_exit_1_and_unknown_jobs_exit_1(data_dir: Path) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("slowhash01", "x.png")
    timed_out = invoke(["jobs", "wait", job_id, "--timeout", "600ms"])
    unknown = invoke(["jobs", "show", "00000000-0000-4000-8000-000000000000"])
    assert timed_out.exit_code == 1
    assert "still queued" in timed_out.output
    assert (unknown.exit_code, "job not found" in unknown.output) == (1, True)


def test_submit_with_wait_and_a_completed_twin(data_dir: Path, worker: Any) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("twinhash01", "x.png")
    worker([job_id]).join(WORKER_DEADLINE)
    # The same request again: no new job, the stored results are the answer.
    twin = invoke(
        ["jobs", "submit", "-t", "image:thumbnail", "--hash", "twinhash01", "-s", "x.png",
         "-o", 'outputs=[{"variant":"sm","width":32,"format":"png"}]', "--wait"],
    )  # fmt: skip
    assert twin.exit_code == 0, twin.output
    assert "already completed earlier" in twin.output
    assert "images/tw/twinhash01/sm.png" in twin.output


# --- queue -------------------------------------------------------------------------------


def test_archived_task_of_a_failed_job_is_listed_and_run_again(data_dir: Path, worker: Any) -> None:
    job_id = submit_thumbnail("archhash01", "late.png")
    worker([job_id]).join(WORKER_DEADLINE)
    listed = invoke(["queue", "archived"])
    put_png(data_dir, "late.png")  # the cause is fixed
    requeued = invoke(["queue", "archived", "critical", "--requeue", job_id])
    after = invoke(["queue", "archived"])
    stats = invoke(["queue", "stats"])
    twice = invoke(["queue", "archived", "--requeue", job_id])

    row = next(line for line in listed.output.splitlines() if job_id in line)
    assert "critical" in row
    assert "image:thumbnail" in row
    assert "object not found: late.png" in row
    assert requeued.exit_code == 0, requeued.output
    new_id = re.search(r"as: ([0-9a-f-]{36}) \(image:thumbnail, queued\)", requeued.output)
    assert new_id is not None, requeued.output
    assert "no archived tasks" in after.output
    assert re.search(r"critical\s*│\s*1\s*│", stats.output)
    assert (twice.exit_code, "no such task" in twice.output) == (1, True)

    worker([new_id.group(1)]).join(WORKER_DEADLINE)
    retried = invoke(["jobs", "show", new_id.group(1)])
    assert "completed" in retried.output
    assert job_id in retried.output


async def _archive_without_failing_the_job(job_id: str) -> None:
    # What a crash between archiving a task and writing the job's final status leaves.
    async with bootstrap.open_runtime(current_config()) as runtime:
        lease = await dequeue_one(runtime.queue, MAIN_POOL_WEIGHTS, "test-worker", 30.0)
        assert lease is not None
        assert lease.task.id == job_id
        await runtime.queue.fail(lease, "worker vanished", permanent=True)
        assert (await runtime.jobs.get(job_id)).status is JobStatus.QUEUED


def test_archived_task_of_an_unfinished_job_goes_back_to_pending(data_dir: Path) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("pendhash01", "x.png")
    run_async(_archive_without_failing_the_job(job_id))
    requeued = invoke(["queue", "archived", "--all"])
    stats = invoke(["queue", "stats"])
    assert requeued.exit_code == 0, requeued.output
    assert f"requeued {job_id} on critical" in requeued.output
    assert re.search(r"critical\s*│\s*1\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*0\s*│", stats.output)


def test_requeue_and_all_exclude_each_other(data_dir: Path) -> None:
    result = invoke(["queue", "archived", "--requeue", "x", "--all"])
    assert result.exit_code == 2


# --- keys --------------------------------------------------------------------------------


async def _content_keys(hashes: Sequence[str]) -> dict[str, tuple[bytes, str]]:
    """Each hash's content key (created on first use) and the KEK version it is under."""
    async with bootstrap.open_runtime(current_config()) as runtime:
        found = {}
        for media_hash in hashes:
            key, _uri = await runtime.key_service.content_key_for(media_hash)
            stored = await runtime.keys.get(media_hash)
            assert stored is not None
            found[media_hash] = (key.key, stored.wrapped.kek_version)
        return found


def test_rotation_rewraps_stored_keys_onto_the_new_version(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1, v2, v3 = (secrets.token_hex(32) for _ in range(3))
    monkeypatch.setenv("ENCRYPTION_KEY", f"v1:{v1}")
    before = run_async(_content_keys(["keyhash-a", "keyhash-b"]))
    monkeypatch.setenv("ENCRYPTION_KEY", f"v2:{v2},v1:{v1}")
    report = invoke(["keys", "rotate"])
    rewrap = invoke(["keys", "rotate", "--rewrap", "--batch", "1"])
    after = run_async(_content_keys(["keyhash-a", "keyhash-b"]))

    assert report.exit_code == 0
    assert "current key-encryption key: v2" in report.output
    assert "stored keys to rewrap: 2" in report.output
    assert "v1: 2" in report.output
    assert rewrap.exit_code == 0, rewrap.output
    assert "rewrapped 2 key(s) onto v2" in rewrap.output
    assert "stored keys still to rewrap: 0" in rewrap.output
    assert {h: key for h, (key, _) in after.items()} == {h: key for h, (key, _) in before.items()}
    assert {version for _, version in after.values()} == {"v2"}

    # v1 retired too early: a key still under it is reported, the others move on.
    monkeypatch.setenv("ENCRYPTION_KEY", f"v1:{v1}")
    run_async(_content_keys(["keyhash-c"]))
    monkeypatch.setenv("ENCRYPTION_KEY", f"v3:{v3},v2:{v2}")
    partial = invoke(["keys", "rotate", "--rewrap"])
    assert partial.exit_code == 1
    assert "rewrapped 2 key(s) onto v3" in partial.output
    assert "keyhash-c" in partial.output
    assert "version not configured" in partial.output


class _RacingKeyStore(MemoryKeyStore):
    """Someone else rewraps ``victim`` between our read and our compare-and-set."""

    def __init__(self, victim: str) -> None:
        super().__init__(clock=ManualClock())
        self.victim = victim

    async def replace_wrapping(self, media_hash: str, old: WrappedKey, new: WrappedKey) -> bool:
        if media_hash == self.victim:
            await super().replace_wrapping(media_hash, old, new)
        return await super().replace_wrapping(media_hash, old, new)


async def test_rewrap_leaves_keys_changed_meanwhile_alone() -> None:
    v1 = KeyEncryptionKey(version="v1", key=secrets.token_bytes(32))
    v2 = KeyEncryptionKey(version="v2", key=secrets.token_bytes(32))
    old = KeyRing(keks=[v1], current_version="v1", entropy=OsEntropy())
    new = KeyRing(keks=[v2, v1], current_version="v2", entropy=OsEntropy())
    store = _RacingKeyStore(victim="hash-b")
    for media_hash in ("hash-a", "hash-b", "hash-c"):
        await store.put_if_absent(_stored(old, media_hash))
    batches: list[int] = []

    report = await rewrap_all(store, new, batch=2, on_batch=lambda r: batches.append(r.seen))

    assert (report.rewrapped, report.conflicts, report.failures) == (2, 1, ())
    assert batches == [2, 3]
    assert await store.list_for_rewrap("v2", "", 10) == []


def _stored(ring: KeyRing, media_hash: str) -> StoredKey:
    content = ring.new_content_key()
    return StoredKey(
        media_hash=media_hash, wrapped=ring.wrap(media_hash, content.key),
        kid=content.kid_hex, scheme="cbcs", key_uri=f"/api/key/{media_hash}",
    )  # fmt: skip


def test_generate_kek_prints_a_value_the_configuration_accepts(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "generate-kek", "--version", "v2"])
    bad = invoke(["keys", "generate-kek", "--version", "v 2"])
    value = result.stdout.strip()
    assert re.fullmatch(r"v2:[0-9a-f]{64}", value)
    keks, current = parse_kek_config(f"{value},v1:{secrets.token_hex(32)}")
    assert (current, len(keks)) == ("v2", 2)
    assert bad.exit_code == 2


# --- media ------------------------------------------------------------------------------


def test_purge_asks_first_then_removes_the_hash(data_dir: Path, worker: Any) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("purgehash1", "x.png")
    worker([job_id]).join(WORKER_DEADLINE)
    declined = invoke(["media", "purge", "purgehash1"], stdin="n\n")
    still_there = invoke(["jobs", "show", job_id])
    purged = invoke(["media", "purge", "purgehash1", "--yes"])
    gone = invoke(["jobs", "show", job_id])

    assert (declined.exit_code, still_there.exit_code) == (1, 0)
    assert purged.exit_code == 0
    assert "purged purgehash1 (1 job(s) removed)" in purged.output
    assert (gone.exit_code, "job not found" in gone.output) == (1, True)
    assert not (data_dir / "media" / "images" / "pu" / "purgehash1").exists()
    assert (data_dir / "source" / "x.png").is_file()


# --- through the API --------------------------------------------------------------------


@asynccontextmanager
async def _asgi_transport() -> AsyncIterator[httpx.AsyncBaseTransport]:
    async with (
        bootstrap.open_runtime(current_config()) as runtime,
        bootstrap.build_server(runtime) as app,
    ):
        yield httpx.ASGITransport(app=app)


API = ApiHooks(transport=_asgi_transport)


def test_jobs_and_purge_through_a_running_server(data_dir: Path, worker: Any) -> None:
    put_png(data_dir, "x.png")
    api = ["--api", "http://vylux.test"]
    args = ["jobs", "submit", "-t", "image:thumbnail", "--hash", "apihash01", "-s", "x.png",
            "-o", "outputs=[]", *api]  # fmt: skip
    created = invoke(args, obj=API)
    again = invoke(args, obj=API)
    match = _JOB_ID.search(created.output)
    assert match is not None, created.output
    job_id = match.group(1)
    shown = invoke(["jobs", "show", job_id, *api], obj=API)

    assert f"created job {job_id} (queued)" in created.output
    assert f"existing job {job_id} (queued)" in again.output
    assert "apihash01" in shown.output
    assert "queued" in shown.output

    worker([job_id])
    waited = invoke(["jobs", "wait", job_id, *api], obj=API)
    assert waited.exit_code == 0, waited.output
    assert "images/ap/apihash01/thumb.webp" in waited.output  # the default output

    purged = invoke(["media", "purge", "apihash01", "-y", *api], obj=API)
    gone = invoke(["jobs", "show", job_id, *api], obj=API)
    assert (purged.exit_code, gone.exit_code) == (0, 1)
    assert "API answered 404: job not found" in gone.output


def test_api_key_and_reachability_errors(data_dir: Path) -> None:
    wrong_key = invoke(
        ["jobs", "show", "x", "--api", "http://vylux.test", "--api-key", "nope"], obj=API
    )
    unreachable = invoke(["jobs", "show", "x", "--api", "http://127.0.0.1:9", "--api-key", "k"])
    assert (wrong_key.exit_code, "invalid API key" in wrong_key.output) == (2, True)
    assert (unreachable.exit_code, "cannot reach the API" in unreachable.output) == (3, True)
