"""Stopping ``vylux-cli serve`` and ``vylux-cli work`` (issue #20 item 3, shutdown).

Each test runs the installed ``vylux-cli`` in a subprocess on the embedded profile (SQLite
database and queue under ./vylux-data) and signals it as a terminal or an orchestrator
would: the first SIGINT/SIGTERM says in one line what the process waits for, a second
SIGINT stops at once and gives the running job back to the queue uncounted.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from tests.e2e.test_cli_startup import SECRETS, closed_port
from tests.support.media import bundled_binaries, make_clip

DEADLINE = 60.0
# Far longer than the test needs the job to run: the transcode is stopped long before.
CLIP_SECONDS = 60
CLIP_KEY = "uploads/clip.mp4"


def _cli() -> str:
    return str(Path(sys.executable).parent / "vylux-cli")


def _env() -> dict[str, str]:
    # METRICS ports off: tests running side by side would otherwise share them.
    return {"PATH": os.environ["PATH"], **SECRETS, "WORKER_METRICS_PORT": "0"}


def _command(name: str) -> list[str]:
    return [_cli(), "serve", "--port", str(closed_port())] if name == "serve" else [_cli(), "work"]


class Service:
    """A ``vylux-cli serve``/``work`` process whose stderr lines a thread collects."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, env=_env(), text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def read_until(self, pattern: str) -> None:
        """Wait (up to DEADLINE) until a stderr line matches ``pattern``."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if any(re.fullmatch(pattern, line) for line in list(self.lines)):
                return
            if not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"no stderr line matching {pattern!r}: {self.lines!r}")

    def tools(self) -> list[psutil.Process]:
        """The media tools the process runs now (ffmpeg, ffprobe, packager)."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)  # type: ignore[no-any-return]
        except psutil.NoSuchProcess:
            return []

    def wait(self) -> int:
        code = self.process.wait(DEADLINE)
        self._reader.join(DEADLINE)
        return code

    def ensure_dead(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.ensure_dead()


def _start(services: list[Service], name: str, cwd: Path) -> Service:
    service = Service(_command(name), cwd)
    services.append(service)
    return service


def _job_and_task(cwd: Path, media_hash: str) -> tuple[str, str, str, int] | None:
    """(job id, job status, task state, attempts counted) of the job on ``media_hash``."""
    with sqlite3.connect(cwd / "vylux-data" / "vylux.db", timeout=DEADLINE) as db:
        row = db.execute(
            "SELECT jobs.id, jobs.status, tasks.state, tasks.retried FROM jobs"
            " JOIN tasks ON tasks.id = jobs.id WHERE jobs.hash = ?",
            (media_hash,),
        ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]), int(row[3]))


def _migrate(cwd: Path) -> None:
    # The job is submitted (and `work` started) before any `serve` migrates.
    migrated = subprocess.run(
        [_cli(), "migrate"], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr


def _submit_transcode(cwd: Path, media_hash: str) -> None:
    clip = cwd / "vylux-data" / "source" / CLIP_KEY
    clip.parent.mkdir(parents=True)
    make_clip(
        bundled_binaries().ffmpeg, clip,
        width=320, height=240, seconds=CLIP_SECONDS, fps=25, audio=True,
    )  # fmt: skip
    submitted = subprocess.run(
        [_cli(), "jobs", "submit", "-t", "video:transcode", "--hash", media_hash, "-s", CLIP_KEY],
        cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr


def _wait_until_transcoding(cwd: Path, service: Service, media_hash: str) -> None:
    """Until the database shows the job processing and an ffmpeg of it runs."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        row = _job_and_task(cwd, media_hash)
        names = [tool.name() for tool in service.tools()]
        if row is not None and row[1] == "processing" and any("ffmpeg" in n for n in names):
            return
        assert service.process.poll() is None, service.stderr
        time.sleep(0.2)
    raise AssertionError(f"the transcode did not start: {_job_and_task(cwd, media_hash)}")


@pytest.mark.parametrize("command", ["serve", "work"])
def test_second_ctrl_c_stops_at_once_and_requeues_the_running_job(
    tmp_path: Path, services: list[Service], command: str
) -> None:
    media_hash = f"shutdown{command}"
    _migrate(tmp_path)
    _submit_transcode(tmp_path, media_hash)
    service = _start(services, command, tmp_path)
    service.read_until(r"vylux: (serving on http://\S+|worker running)")
    _wait_until_transcoding(tmp_path, service, media_hash)
    tools = service.tools()

    service.process.send_signal(signal.SIGINT)
    service.read_until(
        r"vylux: stopping: waiting for 1 running job, up to 600 s \(WORKER_SHUTDOWN_TIMEOUT\); "
        r"press Ctrl-C again to stop now"
    )
    assert service.process.poll() is None  # still waiting for the job
    service.process.send_signal(signal.SIGINT)
    assert service.wait() == 0, service.stderr
    assert "stopping now" in service.stderr

    assert [tool.pid for tool in tools if _alive(tool)] == []
    row = _job_and_task(tmp_path, media_hash)
    assert row is not None
    _, job_status, task_state, counted = row
    assert (job_status, task_state, counted) == ("queued", "pending", 0)


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("command", ["serve", "work"])
def test_sigterm_without_running_jobs_exits_cleanly(
    tmp_path: Path, services: list[Service], command: str
) -> None:
    _migrate(tmp_path)
    service = _start(services, command, tmp_path)
    service.read_until(r"vylux: (serving on http://\S+|worker running)")
    service.process.send_signal(signal.SIGTERM)
    assert service.wait() == 0, service.stderr
    assert "vylux: stopping" in service.lines
