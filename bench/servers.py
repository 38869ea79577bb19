"""Starting the servers a benchmark measures: a free port, a process, its health check."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from attrs import frozen

from vylux_cli.bootstrap import choose_profile, load_runtime_config
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.security.signing import UrlSigner

START_TIMEOUT = 60.0  # the first start migrates a fresh SQLite database
STOP_GRACE = 10.0
REPOSITORY = Path(__file__).resolve().parent.parent


def free_port() -> int:
    # Closed again before the server binds it: a tiny race, fine on a quiet machine.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@frozen
class Running:
    base: str
    pid: int


@contextmanager
def running(
    command: Sequence[str],
    *,
    port: int,
    cwd: Path,
    log: Path,
    settings: Mapping[str, str] | None = None,
    start_timeout: float = START_TIMEOUT,
) -> Iterator[Running]:
    """Start ``command``, wait for ``/healthz`` on ``port``, yield its base URL; stop it
    (SIGTERM to that one process, then SIGKILL after STOP_GRACE) at the end."""
    env = {
        name: value
        for name, value in os.environ.items()
        # The bench's own settings only: a developer's DATABASE_URL, REDIS_URL or
        # S3 variables would otherwise switch the server off the embedded profile.
        if name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    }
    env["VYLUX_DATA_DIR"] = str(cwd / "data")
    env["PYTHONPATH"] = str(REPOSITORY)  # ``-m bench.img`` from outside the checkout
    env["LOG_LEVEL"] = "WARN"
    env.update(settings or {})
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        wait_until_answering(
            f"{base}/healthz", lambda: process.poll() is not None, log, timeout=start_timeout
        )
        yield Running(base, process.pid)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """SIGTERM to that one process, then SIGKILL after ``grace`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def vylux_command(port: int) -> list[str]:
    cli = Path(sysconfig.get_path("scripts")) / "vylux-cli"
    if not cli.is_file():
        raise SystemExit(f"{cli} not found: install the project into this venv first")
    return [str(cli), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]


def wait_until_answering(
    url: str, died: Callable[[], bool], log: Path | None = None, timeout: float = START_TIMEOUT
) -> None:
    """Poll ``url`` until it answers 200; fail, with ``log``'s text, if ``died()`` or
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if died():
            raise SystemExit(f"the server behind {url} exited while starting{_tail(log)}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None) -> str:
    return "" if log is None or not log.exists() else f":\n{log.read_text()}"


@frozen
class EmbeddedVylux:
    """What a benchmark needs of the embedded server it starts in a directory: its
    signers, imgproxy prefix and source directory."""

    signer: UrlSigner
    imgproxy: ImgproxySigner
    imgproxy_prefix: str
    source_root: Path


def embedded_vylux(vylux_dir: Path) -> EmbeddedVylux:
    """The server reads the same embedded secrets: generated here, once, into the data
    directory of ``vylux_dir``."""
    config = load_runtime_config({"VYLUX_DATA_DIR": str(vylux_dir / "data")})
    assert config.imgproxy is not None  # on by default in the embedded profile
    source_root = choose_profile(config).source_store
    assert isinstance(source_root, Path)
    return EmbeddedVylux(
        signer=UrlSigner(secret=config.secrets.hmac_secret),
        imgproxy=ImgproxySigner(pairs=config.imgproxy.key_pairs),
        imgproxy_prefix=config.imgproxy.path_prefix,
        source_root=source_root,
    )
