"""LocalScratchSpace across processes: a SIGKILLed worker's directories are swept, a live
one's are not, and nothing else in the root is touched."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vylux_adapters.scratch import LocalScratchSpace, local_scratch
from vylux_adapters.scratch.local_scratch import MARKER, STAGING

# Holds one task directory open until killed; prints its path once it has it.
HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from vylux_adapters.scratch import LocalScratchSpace

    async def main() -> None:
        scratch = LocalScratchSpace(root=Path(sys.argv[1]))
        async with scratch.task_directory(sys.argv[2]) as directory:
            (directory / "partial.mp4").write_bytes(b"half an encode")
            print(directory, flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)
ROOT = Path(__file__).resolve().parents[2]


def hold(root: Path, job_id: str) -> tuple[subprocess.Popen[str], Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), job_id],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


async def test_sweep_removes_what_a_killed_process_left_and_keeps_live_ones(
    tmp_path: Path,
) -> None:
    killed, left_behind = hold(tmp_path, "job-killed")
    live, in_use = hold(tmp_path, "job/live")
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        # Not ours: other files, and a directory whose name only looks similar.
        (tmp_path / "vylux-notes.txt").write_text("keep")
        (tmp_path / "vylux-other").mkdir()
        assert left_behind.name.startswith("vylux-job-killed-")
        assert (left_behind / "partial.mp4").exists()

        removed = await LocalScratchSpace(root=tmp_path).sweep_stale()

        assert removed == [left_behind]
        assert not left_behind.exists()
        assert in_use.name.startswith("vylux-job_live-")
        assert (in_use / "partial.mp4").read_bytes() == b"half an encode"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["vylux-notes.txt", "vylux-other", in_use.name, STAGING]
        )
        assert list((tmp_path / STAGING).iterdir()) == []
    finally:
        live.kill()
        live.wait(10)
        killed.kill()
    assert await LocalScratchSpace(root=tmp_path).sweep_stale() == [in_use]


async def test_directory_is_removed_after_the_attempt_and_never_swept_during_it(
    tmp_path: Path,
) -> None:
    scratch = LocalScratchSpace(root=tmp_path)
    async with scratch.task_directory("job-1") as directory:
        (directory / "out").mkdir()
        assert await scratch.sweep_stale() == []  # our own lock counts as live
        assert directory.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / STAGING]
    assert list((tmp_path / STAGING).iterdir()) == []


async def test_sweep_of_a_missing_root_finds_nothing(tmp_path: Path) -> None:
    assert await LocalScratchSpace(root=tmp_path / "absent").sweep_stale() == []


@pytest.mark.parametrize("name", ["vylux-job-abcdefgh", "vylux-a-12345678"])
async def test_an_unlocked_leftover_matching_the_layout_is_swept(tmp_path: Path, name: str) -> None:
    (tmp_path / name / "hls").mkdir(parents=True)
    (tmp_path / name / MARKER).touch()  # what task_directory leaves in every directory
    assert await LocalScratchSpace(root=tmp_path).sweep_stale() == [tmp_path / name]


@pytest.mark.parametrize("state", ["made", "half-deleted"])
async def test_what_a_killed_worker_left_in_staging_is_swept(tmp_path: Path, state: str) -> None:
    # Killed before its directory was marked and put in place, or while deleting one.
    staged = tmp_path / STAGING / "tmpabc123"
    staged.mkdir(parents=True)
    if state == "half-deleted":
        (staged / "hls" / "video").mkdir(parents=True)
        (staged / "hls" / "video" / "seg_1.m4s").write_bytes(b"segment")

    assert await LocalScratchSpace(root=tmp_path).sweep_stale() == []  # never an attempt's
    assert list((tmp_path / STAGING).iterdir()) == []


async def test_a_removal_cut_short_leaves_its_rest_in_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker dies while its attempt's directory is being deleted.
    scratch = LocalScratchSpace(root=tmp_path)
    real_rmtree = local_scratch.shutil.rmtree

    class Killed(BaseException):
        pass

    def killed_half_way(path: str, ignore_errors: bool = False) -> None:
        real_rmtree(Path(path) / "hls")
        raise Killed

    used: list[Path] = []

    async def attempt() -> None:
        async with scratch.task_directory("job-1") as directory:
            used.append(directory)
            (directory / "hls" / "video").mkdir(parents=True)
            (directory / "source.mp4").write_bytes(b"source")
            monkeypatch.setattr(local_scratch.shutil, "rmtree", killed_half_way)

    with pytest.raises(Killed):
        await attempt()

    [directory] = used
    assert not directory.exists()
    [rest] = (tmp_path / STAGING).iterdir()
    assert (rest / "source.mp4").exists()
    monkeypatch.setattr(local_scratch.shutil, "rmtree", real_rmtree)
    await scratch.sweep_stale()
    assert list((tmp_path / STAGING).iterdir()) == []
