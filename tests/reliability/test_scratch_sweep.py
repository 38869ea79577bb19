"""A worker's start-up sweep never deletes other programs' directories in a shared root.

Found by ``bench/load.py``: its ``mkdtemp(prefix="vylux-bench-load-")`` directory in the
system temp dir (the default scratch root) fitted the task-directory name layout, so
another user's ``vylux-cli serve`` starting its worker removed it mid-run, server log and
all. Only directories that ``task_directory`` itself created (they carry its marker) may
be swept; a killed worker's real leftovers still are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from vylux_adapters.scratch import LocalScratchSpace
from vylux_adapters.scratch.local_scratch import STAGING

pytestmark = [pytest.mark.reliability]

# Takes one task directory, reports it, then waits to be SIGKILLed (a crashed worker).
HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from vylux_adapters.scratch import LocalScratchSpace

    async def main() -> None:
        async with LocalScratchSpace(root=Path(sys.argv[1])).task_directory("job-1") as work:
            (work / "partial.mp4").write_bytes(b"half an encode")
            print(work, flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)
REPOSITORY = Path(__file__).resolve().parents[2]


def crashed_worker_leftover(root: Path) -> Path:
    """A task directory whose process was SIGKILLed while it held it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], cwd=REPOSITORY, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    left_behind = Path(holder.stdout.readline().strip())
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    return left_behind


async def test_foreign_directories_that_fit_the_name_layout_survive_a_sweep(
    tmp_path: Path,
) -> None:
    foreign = [
        Path(tempfile.mkdtemp(prefix="vylux-bench-load-", dir=tmp_path)),
        Path(tempfile.mkdtemp(prefix="vylux-bench-img-", dir=tmp_path)),
        tmp_path / "vylux-job-abcdefgh",  # empty, as a fresh mkdtemp is for an instant
    ]
    foreign[-1].mkdir()
    for directory in foreign[:2]:
        (directory / "server.log").write_text("not Vylux scratch")
    left_behind = crashed_worker_leftover(tmp_path)

    removed = await LocalScratchSpace(root=tmp_path).sweep_stale()

    assert removed == [left_behind]
    assert not left_behind.exists()
    assert sorted(os.listdir(tmp_path)) == sorted([STAGING, *(d.name for d in foreign)])
    assert (foreign[0] / "server.log").read_text() == "not Vylux scratch"
