"""The ``vylux-cli`` command and the app it serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from tests.e2e.http_world import memory_world
from tests.support.deadlines import scaled
from vylux_cli.main import cli


async def test_healthz_answers_plain_ok() -> None:
    async with memory_world() as world:
        response = await world.client.get("/healthz")
    assert (response.status_code, response.text, response.headers["content-type"]) == (
        200,
        "OK",
        "text/plain; charset=UTF-8",
    )


def test_version_and_help() -> None:
    runner = CliRunner()
    version = runner.invoke(cli, ["--version"])
    serve_help = runner.invoke(cli, ["serve", "--help"])
    assert (version.exit_code, serve_help.exit_code) == (0, 0)
    assert version.output.startswith("Vylux ")
    assert "SHUTDOWN_TIMEOUT" in serve_help.output


def _cli_path() -> str:
    return str(Path(sys.executable).parent / "vylux-cli")


def _run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_cli_path(), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_without_secrets_on_postgres_exits_2_naming_them(tmp_path: Path) -> None:
    result = _run_cli(["serve"], tmp_path, {"DATABASE_URL": "postgresql://postgres@127.0.0.1/x"})
    assert result.returncode == 2
    assert "ERROR: invalid configuration:" in result.stderr
    for name in ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY"):
        assert name in result.stderr


def test_serve_in_an_empty_directory_starts_embedded(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [_cli_path(), "serve", "--port", str(port)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    data_dir = tmp_path / "vylux-data"
    assert (body, process.returncode) == ("OK", 0), stderr
    assert sorted(p.name for p in data_dir.iterdir() if not p.name.endswith(".lock")) == [
        "media", "secrets.env", "source", "vylux.db"
    ]  # fmt: skip
    assert "secrets.env" in stdout  # services log JSON lines to stdout
    assert "hex" not in (stdout + stderr).lower()


def test_migrate_twice_and_concurrently_on_sqlite(tmp_path: Path) -> None:
    env = {"VYLUX_DATA_DIR": str(tmp_path / "data")}
    processes = [
        subprocess.Popen(
            [_cli_path(), "migrate"], cwd=tmp_path, env={"PATH": os.environ["PATH"], **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]  # fmt: skip
    codes = [process.wait(timeout=120) for process in processes]
    again = _run_cli(["migrate"], tmp_path, env)
    assert (codes, again.returncode) == ([0, 0], 0), again.stderr
    assert "up to date" in again.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            return httpx.get(url, timeout=1.0).text
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")
