"""Logs: JSON lines with trace/job context, and no secret in a whole run's output.

The end-to-end test runs ``vylux-cli serve`` (embedded profile, worker in-process) with
known secrets and LOG_LEVEL=DEBUG, drives a request through every place a secret is
used — a signed ``/img``, jobs with ``X-API-Key``, webhooks signed with WEBHOOK_SECRET,
an encrypted transcode (content key wrapped with ENCRYPTION_KEY, passed to the packager)
and the key delivery with a Bearer token — then greps everything the process printed.
The other tests check the formatter and the masking rules one by one.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from hypercorn.config import Config as HypercornConfig
from opentelemetry.sdk.trace import TracerProvider

from tests.support.deadlines import scaled
from tests.support.media import bundled_binaries, make_clip, make_still
from vylux_adapters.telemetry.log_context import (
    LogContextHandler,
    current_log_fields,
    job_log_context,
)
from vylux_cli import logging_setup
from vylux_cli.config import load_config
from vylux_cli.logging_setup import (
    QUIET_LIBRARIES,
    REDACTED,
    ContextFilter,
    JsonFormatter,
    RedactingFilter,
    Redactor,
    configure_logging,
    parse_level,
    register_secrets,
    route_hypercorn_logs,
    secret_values,
    url_password_values,
)
from vylux_core.images.options import parse_format, parse_image_options
from vylux_core.jobs.job import Job
from vylux_core.security.key_token import mint_key_token
from vylux_core.security.signing import UrlSigner
from vylux_core.worker import ProgressReporter

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
HEX32 = "0123456789abcdef" * 2


# --- formatter and context -------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing through the production filters and formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(Redactor()))
    logger = logging.getLogger(f"tests.logging.{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def _entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_have_time_level_logger_message(
    log_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log_lines
    logger.info("job %s took %.1f s", "abc", 1.25)
    logger.warning('quote " and newline\n stay on one line')
    first, second = _entries(stream)
    assert list(first) == ["time", "level", "logger", "message"]
    assert RFC3339_UTC.fullmatch(first["time"])
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO", logger.name, "job abc took 1.2 s"
    )  # fmt: skip
    # slog's level name, as LOG_LEVEL spells it.
    assert (second["level"], second["message"]) == (
        "WARN",
        'quote " and newline\n stay on one line',
    )
    assert len(stream.getvalue().splitlines()) == 2


def test_trace_and_span_ids_inside_a_span(log_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_lines
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("work") as span:
        logger.info("inside")
    logger.info("outside")
    inside, outside = _entries(stream)
    context = span.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert {"trace_id", "span_id"}.isdisjoint(outside)


def test_job_id_and_task_type_inside_the_job_context(
    log_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log_lines
    with job_log_context("job-1", "image:thumbnail"):
        logger.info("inside")
    logger.info("outside")
    inside, outside = _entries(stream)
    assert (inside["job_id"], inside["task_type"]) == ("job-1", "image:thumbnail")
    assert {"job_id", "task_type"}.isdisjoint(outside)


async def test_handler_wrapper_sets_the_context_per_concurrent_attempt() -> None:
    seen: dict[str, dict[str, str]] = {}

    async def inner(job: Job, progress: ProgressReporter) -> Any:
        await asyncio.sleep(0.01)  # both attempts are running at this point
        seen[job.id] = current_log_fields()
        return job.id

    def fake_job(job_id: str, job_type: str) -> Job:
        # Only ``id`` and ``type`` are read by the wrapper.
        return cast(Job, type("FakeJob", (), {"id": job_id, "type": job_type})())

    wrapped = LogContextHandler(inner=inner)
    progress = cast(ProgressReporter, None)
    results = await asyncio.gather(
        asyncio.create_task(wrapped(fake_job("a", "image:thumbnail"), progress)),
        asyncio.create_task(wrapped(fake_job("b", "video:cover"), progress)),
    )
    assert list(results) == ["a", "b"]
    assert seen == {
        "a": {"job_id": "a", "task_type": "image:thumbnail"},
        "b": {"job_id": "b", "task_type": "video:cover"},
    }
    assert current_log_fields() == {}


def test_exceptions_go_to_exc_masked(log_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_lines
    try:
        raise RuntimeError("connect to postgresql://vylux:hunter22@db/vylux failed")
    except RuntimeError:
        logger.exception("database down")
    (entry,) = _entries(stream)
    assert entry["message"] == "database down"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: connect to postgresql://vylux:[redacted]@db/vylux" in entry["exc"]
    assert "hunter22" not in stream.getvalue()


# --- masking rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"packager in=a.mp4 --keys label=:key_id={HEX32}:key={HEX32.upper()} --pssh x",
            f"packager in=a.mp4 --keys label=:key_id={HEX32}:key={REDACTED} --pssh x",
        ),
        (f"ffmpeg -decryption_key {HEX32} -i x", f"ffmpeg -decryption_key {REDACTED} -i x"),
        ("Authorization: Bearer eyJoYXNoIjoi.c2ln-_x", f"Authorization: Bearer {REDACTED}"),
        ("{'authorization': 'Bearer abc.def'}", f"{{'authorization': 'Bearer {REDACTED}'}}"),
        ("X-API-Key: 0a1b2c3d", f"X-API-Key: {REDACTED}"),
        ("{'x-api-key': '0a1b2c3d', 'a': 1}", f"{{'x-api-key': '{REDACTED}', 'a': 1}}"),
        ("redis://:s3cr%40t@cache:6379/0", f"redis://:{REDACTED}@cache:6379/0"),
        ("postgresql://u:p@db/x and s3", f"postgresql://u:{REDACTED}@db/x and s3"),
        # Look-alikes stay: a key id, a hash that is not a key= argument, a plain URL.
        (f"key_id={HEX32} hash={HEX32}", f"key_id={HEX32} hash={HEX32}"),
        ("http://127.0.0.1:3000/img/abc", "http://127.0.0.1:3000/img/abc"),
    ],
)
def test_secret_shaped_text_is_masked(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


def test_registered_values_are_masked_in_message_args_and_any_case() -> None:
    redactor = Redactor()
    secret = secrets.token_hex(32)
    redactor.add([secret, "abc", ""])  # too short to mask: would blank ordinary words
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "secret %s in %r", (secret.upper(), {"v": secret}), None
    )
    assert RedactingFilter(redactor).filter(record)
    assert record.getMessage() == f"secret {REDACTED} in {{'v': '{REDACTED}'}}"
    assert record.args is None
    assert redactor.redact("abc") == "abc"


def test_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    redactor = Redactor()
    redactor.add(["abcd", "abcdef123456"])
    assert redactor.redact("x abcdef123456 y abcd") == f"x {REDACTED} y {REDACTED}"


def test_bad_format_args_do_not_reach_the_log_or_break_the_caller() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("not-a-number",), None)
    assert RedactingFilter(Redactor()).filter(record)
    assert "not-a-number" not in record.getMessage()


def test_secret_values_of_an_environment() -> None:
    env = {
        "HMAC_SECRET": "h" * 64, "API_KEY": "a" * 64, "WEBHOOK_SECRET": "w" * 64,
        "KEY_TOKEN_SECRET": "k" * 32, "ENCRYPTION_KEY": f"v2:{'2' * 64},v1:{'1' * 64}",
        "SOURCE_S3_SECRET_KEY": "source-secret", "MEDIA_S3_SECRET_KEY": "media-secret",
        "DATABASE_URL": "postgresql://vylux:p%40ss@db/vylux", "REDIS_URL": "redis://:rpass@r:6379",
        "PORT": "3000",
    }  # fmt: skip
    values = set(secret_values(env))
    expected = {"h" * 64, "a" * 64, "w" * 64, "k" * 32, "2" * 64, "1" * 64, "source-secret"}
    expected |= {"media-secret", "p%40ss", "p@ss", "rpass", env["ENCRYPTION_KEY"]}
    assert expected <= values
    assert "3000" not in values
    assert url_password_values("redis://cache:6379") == []
    assert url_password_values("http://[broken") == []


def test_register_secrets_masks_the_loaded_configuration() -> None:
    config = load_config(
        {
            "DATABASE_URL": "postgresql://vylux:dbpass-123@db/vylux",
            "REDIS_URL": "redis://:redispass-456@cache:6379/0",
            "HMAC_SECRET": secrets.token_hex(32), "API_KEY": secrets.token_hex(32),
            "WEBHOOK_SECRET": secrets.token_hex(32), "KEY_TOKEN_SECRET": secrets.token_hex(16),
            "ENCRYPTION_KEY": f"v2:{secrets.token_hex(32)},v1:{secrets.token_hex(32)}",
            "MEDIA_S3_ENDPOINT": "http://s3:8333", "MEDIA_S3_ACCESS_KEY": "access",
            "MEDIA_S3_SECRET_KEY": "s3-secret-789", "MEDIA_BUCKET": "media",
        }
    )  # fmt: skip
    register_secrets(config)
    s = config.secrets
    kek_entries = s.encryption_key.split(",")
    exposed = [s.hmac_secret, s.api_key, s.webhook_secret, s.key_token_secret]
    exposed += [entry.split(":")[1] for entry in kek_entries]
    exposed += ["dbpass-123", "redispass-456", "s3-secret-789"]
    masked = logging_setup.REDACTOR.redact(" ".join(exposed))
    assert masked == " ".join([REDACTED] * len(exposed))


# --- installation ------------------------------------------------------------------------


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Root handlers, levels and the installed handler put back as they were (a CliRunner
    test may have installed one before)."""
    root = logging.getLogger()
    handlers, level, installed = list(root.handlers), root.level, logging_setup._installed
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, quiet_level in quiet.items():
            logging.getLogger(name).setLevel(quiet_level)
        logging_setup._installed = installed


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_replaces_only_its_own_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    foreign = [h for h in root.handlers if h is not logging_setup._installed]
    first = configure_logging("debug", "json")
    second = configure_logging("WARN", "console")
    assert first not in root.handlers
    assert second in root.handlers
    assert [h for h in root.handlers if h is not second] == foreign
    assert root.level == logging.WARNING
    assert logging.getLogger("botocore").level == logging.WARNING
    configure_logging("DEBUG", "json")
    # Libraries stay at WARNING even then; Vylux's own loggers follow LOG_LEVEL.
    assert logging.getLogger("aiosqlite").level == logging.WARNING
    logging.getLogger("vylux_core.tests").debug("to stdout")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["message"] == "to stdout"


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(
    ("command", "stream"), [("serve", "out"), ("work", "out"), ("sign", "err"), (None, "err")]
)
def test_services_log_to_stdout_and_tools_to_stderr(
    command: str | None, stream: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tools log below WARNING only when asked (-v), so a warning shows the stream of both.
    logging_setup.configure_from_environment(command, {"LOG_LEVEL": "INFO"})
    logging.getLogger("vylux_cli.tests").warning("where am I")
    captured = capsys.readouterr()
    written = captured.out if stream == "out" else captured.err
    other = captured.err if stream == "out" else captured.out
    assert json.loads(written)["message"] == "where am I"
    assert "where am I" not in other


def test_sign_prints_only_the_url_on_stdout(tmp_path: Path) -> None:
    # The README runs curl "$(vylux-cli sign img …)": a log line there would break it.
    # -v: the INFO line about the generated secrets is logged, and must go to stderr.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "vylux-cli"), "-v", "sign", "img", "photo.jpg"],
        cwd=tmp_path, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"http://127\.0\.0\.1:3000/img/[0-9a-f]{64}/w800/photo\.jpg\.webp\n", done.stdout
    )
    assert "secrets.env" in json.loads(done.stderr.splitlines()[0])["message"]


@pytest.mark.parametrize(
    ("name", "level"),
    [("DEBUG", 10), ("info", 20), ("WARN", 30), ("warning", 30), ("ERROR", 40), ("x", 20)],
)
def test_log_level_names(name: str, level: int) -> None:
    assert parse_level(name) == level


def test_hypercorn_error_log_uses_the_root_handler_and_access_log_is_off() -> None:
    config = HypercornConfig()
    config.accesslog = "-"
    route_hypercorn_logs(config)
    assert config.errorlog is logging.getLogger("hypercorn.error")
    assert config.accesslog is None


# --- a whole run ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def webhooks() -> Iterator[tuple[str, list[bytes]]]:
    """A local receiver: its URL and the bodies it got."""
    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base}/healthz did not answer within {timeout:.0f} s")


def _job_done(client: httpx.Client, job_id: str, timeout: float = 300.0) -> dict[str, Any]:
    """The job once it is final and its webhook went out."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] == "failed":
            raise AssertionError(f"job failed: {job.get('error')}")
        if job["status"] == "completed" and job["callback_status"] == "sent":
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done within {timeout:.0f} s")


@pytest.mark.slow
def test_a_full_run_logs_no_secret(tmp_path: Path, webhooks: tuple[str, list[bytes]]) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    configured = {
        name: secrets.token_hex(32)
        for name in ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET")
    }
    configured["ENCRYPTION_KEY"] = secrets.token_hex(32)
    ffmpeg = bundled_binaries().ffmpeg
    (data / "source").mkdir(parents=True)
    make_still(ffmpeg, data / "source" / "photo.jpg", width=320, height=240)
    make_clip(
        ffmpeg, data / "source" / "clip.mp4", width=192, height=108, seconds=1, fps=12, audio=True
    )
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "VYLUX_DATA_DIR": str(data),
        "BASE_URL": base, "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json",
        "ALLOW_PRIVATE_CALLBACKS": "true", **configured,
    }  # fmt: skip
    stdout_path, stderr_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    # Files, not pipes: a DEBUG run prints more than a pipe buffer holds before the end.
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "vylux-cli"), "serve", "--port", str(port)],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    try:
        _wait_healthy(base, process)
        token, content_key = _touch_every_secret(base, configured, webhooks[0])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    out, err = stdout_path.read_text(), stderr_path.read_text()
    assert process.returncode == 0, err[-3000:]
    assert len(webhooks[1]) == 2  # both signed with WEBHOOK_SECRET

    everything = (out + err).lower()
    leaked = {name for name, value in configured.items() if value.lower() in everything}
    leaked |= {"token"} if token.lower() in everything else set()
    leaked |= {"content key"} if content_key.lower() in everything else set()
    assert not leaked, f"found in the logs: {sorted(leaked)}"

    entries = [json.loads(line) for line in out.splitlines()]  # stdout is JSON lines only
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    # The run did log at DEBUG, including the packager's argument list (content key
    # masked) inside the job's span, so the check above had something to look at.
    packager = [e for e in entries if e["message"].startswith("running packager")]
    assert packager, "no packager command was logged"
    assert all(re.fullmatch(r"[0-9a-f]{32}", e.get("trace_id", "")) for e in packager)


def _touch_every_secret(base: str, configured: dict[str, str], webhook_url: str) -> tuple[str, str]:
    """Requests that use each secret; returns the key token and the content key (hex)."""
    signer = UrlSigner(secret=configured["HMAC_SECRET"])
    options = parse_image_options("w64")
    signature = signer.sign_image(options, "photo.jpg", parse_format("webp"))
    headers = {"X-API-Key": configured["API_KEY"]}
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        image = client.get(f"/img/{signature}/w64/photo.jpg.webp")
        assert image.status_code == 200, image.text
        assert client.post("/api/jobs", content=b"{not json").status_code == 400
        jobs: list[dict[str, Any]] = [
            {"type": "image:thumbnail", "hash": "logs-photo", "source": "photo.jpg"},
            {
                "type": "video:transcode", "hash": "logs-enc", "source": "clip.mp4",
                "options": {"encrypt": True},
            },
        ]  # fmt: skip
        ids = []
        for body in jobs:
            created = client.post("/api/jobs", json={**body, "callback_url": webhook_url})
            assert created.status_code == 202, created.text
            ids.append(created.json()["job_id"])
        transcode = [_job_done(client, job_id) for job_id in ids][1]
        key_endpoint = transcode["results"]["encryption"]["key_endpoint"]
        token = mint_key_token(configured["KEY_TOKEN_SECRET"], "logs-enc", int(time.time()) + 600)
        key = httpx.get(key_endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert (key.status_code, len(key.content)) == (200, 16), key.text
    return token, key.content.hex()
