"""``vylux-cli`` as an operator meets it: quiet tools, one-line start-up failures.

Every test runs the installed ``vylux-cli`` in a subprocess, in an empty directory and a
minimal environment, so the command's real imports, logging and exit codes are what is
checked.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.databases import POSTGRES_ADMIN_URL
from tests.support.services import service_unavailable
from vylux_core.security.key_token import verify_key_token

DEADLINE = 60.0
SECRET_32 = "ab" * 32
SECRET_16 = "cd" * 16
SECRETS = {
    "HMAC_SECRET": SECRET_32, "API_KEY": SECRET_32, "WEBHOOK_SECRET": SECRET_32,
    "KEY_TOKEN_SECRET": SECRET_16, "ENCRYPTION_KEY": f"v1:{SECRET_32}",
}  # fmt: skip


def _cli() -> str:
    return str(Path(sys.executable).parent / "vylux-cli")


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_cli(), *args], cwd=cwd, env={"PATH": os.environ["PATH"], **(env or {})},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def closed_port() -> int:
    """A port nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stderr.splitlines()


# --- imports ------------------------------------------------------------------------------


HEAVY = (
    "sqlalchemy", "boto3", "pyvips", "redis", "hypercorn", "alembic", "starlette", "httpx",
    "opentelemetry", "prometheus_client", "cattrs",
)  # fmt: skip


@pytest.mark.parametrize(
    "module",
    [
        pytest.param("vylux_cli.main", id="the-cli"),
        # Every command loads the configuration: sign and key-token load nothing else.
        pytest.param("vylux_cli.config", id="the-configuration"),
    ],
)
def test_importing_loads_no_database_storage_queue_http_or_telemetry_stack(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == ""


# --- tool commands ------------------------------------------------------------------------


@pytest.fixture
def embedded(tmp_path: Path) -> Path:
    """An embedded data directory, migrated, with one source object ``cat.png``."""
    assert run_cli(["migrate"], tmp_path).returncode == 0
    (tmp_path / "vylux-data" / "source" / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return tmp_path


def test_tool_commands_print_only_their_result(embedded: Path) -> None:
    signed = run_cli(["sign", "img", "cat.png"], embedded)
    token = run_cli(["key-token", "abc123"], embedded)
    submitted = run_cli(
        ["jobs", "submit", "-t", "image:thumbnail", "--hash", "h1", "-s", "cat.png",
         "--options-json", '{"outputs":[{"variant":"sm","width":32}]}'],
        embedded,
    )  # fmt: skip
    job_id = submitted.stdout.split()[2]
    shown = run_cli(["jobs", "show", job_id], embedded)
    stats = run_cli(["queue", "stats"], embedded)
    results = [signed, token, submitted, shown, stats]
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * len(results)
    assert "/img/" in signed.stdout
    assert job_id in shown.stdout


def test_verbose_brings_the_info_lines_back(embedded: Path) -> None:
    result = run_cli(["-v", "queue", "stats"], embedded)
    assert result.returncode == 0
    assert '"level":"INFO"' in result.stderr


def test_json_output_of_the_commands_that_show_data(embedded: Path) -> None:
    submitted = run_cli(
        ["jobs", "submit", "-t", "image:thumbnail", "--hash", "h2", "-s", "cat.png",
         "--options-json", '{"outputs":[{"variant":"sm","width":32}]}'],
        embedded,
    )  # fmt: skip
    job_id = submitted.stdout.split()[2]
    shown = json.loads(run_cli(["jobs", "show", job_id, "--json"], embedded).stdout)
    stats = json.loads(run_cli(["queue", "stats", "--json"], embedded).stdout)
    archived = json.loads(run_cli(["queue", "archived", "--json"], embedded).stdout)
    signed = json.loads(run_cli(["sign", "img", "cat.png", "--json"], embedded).stdout)
    token = json.loads(run_cli(["key-token", "h2", "--json"], embedded).stdout)
    assert (shown["job_id"], shown["hash"]) == (job_id, "h2")
    assert [row["queue"] for row in stats]
    assert all("pending" in row for row in stats)
    assert archived == []
    assert signed["url"].endswith("/cat.png.webp")
    assert token["hash"] == "h2"
    assert isinstance(token["expires_at"], int)


def test_tool_commands_do_not_migrate(tmp_path: Path) -> None:
    result = run_cli(["queue", "stats"], tmp_path)
    assert result.returncode == 1
    assert _stderr_lines(result) == [
        "Error: the database has no Vylux schema yet: run `vylux-cli migrate` (or start `serve`)"
    ]
    assert not (tmp_path / "vylux-data" / "vylux.db").exists()


def test_sign_reads_port_and_base_url_as_serve_does(embedded: Path) -> None:
    (embedded / ".env").write_text("PORT=3150\n")
    from_port = run_cli(["sign", "img", "cat.png"], embedded)
    from_base = run_cli(["sign", "img", "cat.png"], embedded, {"BASE_URL": "https://cdn.test"})
    assert from_port.stdout.startswith("http://127.0.0.1:3150/img/")
    assert from_base.stdout.startswith("https://cdn.test/img/")


def test_sign_warns_about_a_missing_source_and_refuses_absolute_paths(embedded: Path) -> None:
    missing = run_cli(["sign", "img", "dog.png"], embedded)
    absolute = run_cli(["sign", "img", "/tmp/cat.png"], embedded)
    assert missing.returncode == 0
    assert "/img/" in missing.stdout
    assert _stderr_lines(missing) == [
        f"warning: the source store ({embedded / 'vylux-data' / 'source'}) holds no object "
        "'dog.png'"
    ]
    assert (absolute.returncode, absolute.stdout) == (2, "")
    assert "absolute path" in absolute.stderr


def test_key_token_ttl_in_days_and_never_expired_already(embedded: Path) -> None:
    day = run_cli(["key-token", "abc", "--ttl", "1d", "--json"], embedded)
    negative = run_cli(["key-token", "abc", "--ttl", "-5m"], embedded)
    zero = run_cli(["key-token", "abc", "--ttl", "0"], embedded)
    view = json.loads(day.stdout)
    # Raises when the token is invalid or expired.
    verify_key_token(_token_secret(embedded), view["token"], "abc", int(time.time()))
    assert abs(view["expires_at"] - (time.time() + 86400)) < 600
    assert [(r.returncode, r.stdout) for r in (negative, zero)] == [(2, ""), (2, "")]
    assert "not a positive lifetime" in negative.stderr


def _token_secret(directory: Path) -> str:
    for line in (directory / "vylux-data" / "secrets.env").read_text().splitlines():
        if line.startswith("KEY_TOKEN_SECRET="):
            return line.partition("=")[2]
    raise AssertionError("no KEY_TOKEN_SECRET generated")


# --- start-up failures --------------------------------------------------------------------


def test_busy_port_is_one_line_and_nothing_claims_to_serve(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(["serve", "--port", str(port)], tmp_path)
    assert result.returncode == 1
    assert _stderr_lines(result) == [f"ERROR: port {port} is in use on 127.0.0.1"]


def test_unwritable_data_dir_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_cli(["serve"], tmp_path, {"VYLUX_DATA_DIR": "/proc/nope"})
    assert result.returncode == 2
    lines = _stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: data directory /proc/nope is not writable"), lines


def test_unreachable_database_is_exit_3_with_the_masked_url(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://vylux:s3cr3t-pw@127.0.0.1:{port}/vylux"
    result = run_cli(
        ["serve", "--port", str(closed_port())], tmp_path, {**SECRETS, "DATABASE_URL": url}
    )
    assert result.returncode == 3
    assert _stderr_lines(result) == [
        f"ERROR: cannot connect to postgresql://vylux:***@127.0.0.1:{port}/vylux: "
        "connection refused"
    ]
    assert "s3cr3t-pw" not in result.stdout + result.stderr


def test_tool_commands_name_the_unreachable_database_too(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://vylux:s3cr3t-pw@127.0.0.1:{port}/vylux"
    result = run_cli(["queue", "stats"], tmp_path, {**SECRETS, "DATABASE_URL": url})
    assert result.returncode == 3
    assert _stderr_lines(result) == [
        f"Error: cannot connect to postgresql://vylux:***@127.0.0.1:{port}/vylux: "
        "connection refused"
    ]


def test_missing_database_names_it(tmp_path: Path) -> None:
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/vylux_no_such_database"
    result = run_cli(["migrate"], tmp_path, {**SECRETS, "DATABASE_URL": url})
    lines = _stderr_lines(result)
    assert result.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: database 'vylux_no_such_database' does not exist on ")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = closed_port()
    process = subprocess.Popen(
        [_cli(), "serve", "--port", str(port)], cwd=tmp_path, text=True,
        env={"PATH": os.environ["PATH"], "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield process, port
    finally:
        process.terminate()
        process.communicate(timeout=DEADLINE)


def _read_lines(process: subprocess.Popen[str], count: int) -> list[str]:
    """The first ``count`` lines of the process's stderr, waiting up to DEADLINE."""
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + DEADLINE
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while len(lines) < count and time.monotonic() < deadline:
            if selector.select(timeout=1.0):
                line = process.stderr.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
    return lines


def test_unreachable_redis_waits_with_one_line_per_attempt(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    process, _ = served
    lines = _read_lines(process, 3)
    assert process.poll() is None
    assert len(lines) == 3, lines
    for line, delay in zip(lines, ("1s", "2s", "4s"), strict=True):
        assert line.startswith("vylux: WARN: Redis at redis://127.0.0.1:"), line
        assert line.endswith(f"is unreachable (connection refused); trying again in {delay}")


def test_serving_on_is_printed_once_the_port_accepts_connections(tmp_path: Path) -> None:
    port = closed_port()
    process = subprocess.Popen(
        [_cli(), "serve", "--port", str(port)], cwd=tmp_path, text=True,
        env={"PATH": os.environ["PATH"]}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        lines = _read_lines(process, 1)
        assert lines == [f"vylux: serving on http://127.0.0.1:{port}"]
        # No retry: the line promises the port is already held.
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE).close()
    finally:
        process.terminate()
        process.communicate(timeout=DEADLINE)
    assert process.returncode == 0
