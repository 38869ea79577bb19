"""What the browser tests drive: ``vylux-cli serve``, a loopback page server and Chromium.

No browser driver: Chromium is started on the player page's URL, and the page POSTs what it
saw (``window.__result``) back to the page server, which hands it to the test. Every process
is started here and stopped here by its own id (Chromium by its own process group, so no
renderer outlives it).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
from attrs import define, field

from tests.support.deadlines import scaled

HERE = Path(__file__).resolve().parent
# Where `.ci/run` installs the players: npm install --prefix tests/browser/.node hls.js@1 …
NODE_PREFIX = HERE / ".node"
NODE_MODULES = NODE_PREFIX / "node_modules"
PLAYERS_INSTALL = f"npm install --prefix {NODE_PREFIX} hls.js@1 shaka-player@5 dashjs@5"
# URL path on the page server -> file: the player pages, their shared scripts, each player's
# standard browser build.
PAGE_FILES = {
    "/hls.html": HERE / "hls.html",
    "/shaka.html": HERE / "shaka.html",
    "/shaka-audio.html": HERE / "shaka-audio.html",
    "/dashjs.html": HERE / "dashjs.html",
    "/storyboard.html": HERE / "storyboard.html",
    "/page.js": HERE / "page.js",
    "/shaka-clearkey.js": HERE / "shaka-clearkey.js",
    "/hls.min.js": NODE_MODULES / "hls.js" / "dist" / "hls.min.js",
    "/shaka-player.compiled.js": NODE_MODULES
    / "shaka-player"
    / "dist"
    / "shaka-player.compiled.js",
    "/dash.all.min.js": NODE_MODULES / "dashjs" / "dist" / "modern" / "umd" / "dash.all.min.js",
}

# The machine notes' headless set: without the background-networking flags Chromium keeps
# dialling Google's hosts, which this closed network refuses. --no-sandbox because CI runs
# as root, where Chromium's sandbox will not start.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path is not None:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], *, group: bool, grace: float) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; ``group``: the whole process group
    that ``start_new_session=True`` gave the process (Chromium's zygote and renderers)."""
    if process.poll() is not None:
        return

    def send(sig: signal.Signals) -> None:
        try:
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)


def log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text("utf-8", "replace")[-chars:]
    except OSError as exc:
        return f"(no log: {exc})"


# --- vylux-cli serve ---------------------------------------------------------------------------

# Environment variables the server may inherit: anything else (DATABASE_URL, REDIS_URL, S3
# settings, ...) could move it off the embedded profile. PYTHONPATH lets a checkout that is
# not installed run its own code.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "PYTHONPATH")


@define
class VyluxServer:
    """``vylux-cli serve`` (HTTP + in-process worker) on the embedded profile."""

    data_dir: Path
    settings: Mapping[str, str]
    workdir: Path
    port: int = field(factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "vylux-serve.log"

    def env(self) -> dict[str, str]:
        inherited = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        return {**inherited, **self.settings, "VYLUX_DATA_DIR": str(self.data_dir)}

    def start(self, *, ready_within: float = 60.0) -> None:
        """Start ``vylux-cli serve``; ``ready_within`` (idle-machine seconds) is scaled."""
        ready_within = scaled(ready_within)
        # cwd is the test's own directory so no .env of the checkout is read.
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [cli_path(), "serve", "--port", str(self.port)],
                cwd=self.workdir, env=self.env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"vylux-cli serve exited {self.process.returncode}:\n{log_tail(self.log_path)}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(
            f"vylux-cli serve not ready within {ready_within:.0f} s:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self.process is not None:
            # WORKER_SHUTDOWN_TIMEOUT and SHUTDOWN_TIMEOUT are set short by the test.
            stop_process(self.process, group=False, grace=30.0)


def cli_path() -> str:
    """The ``vylux-cli`` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "vylux-cli"
    return str(beside) if beside.is_file() else shutil.which("vylux-cli") or str(beside)


# --- the page server -----------------------------------------------------------------------------


class PageServer(ThreadingHTTPServer):
    """Loopback HTTP server of the player pages and the players' scripts, on its own origin.

    The players reach Vylux cross-origin, as a site embedding them would: ``/stream`` with
    its default CORS (``*``), the key routes with ``CORS_ALLOWED_ORIGINS`` set to this origin.
    """

    daemon_threads = True

    def __init__(self, *, files: Mapping[str, Path]) -> None:
        super().__init__(("127.0.0.1", 0), _PageHandler)
        self.files = dict(files)
        self.results: queue.Queue[dict[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self.serve_forever, name="page-server", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)


class _PageHandler(BaseHTTPRequestHandler):
    @property
    def pages(self) -> PageServer:
        return cast(PageServer, self.server)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in self.pages.files:
            body = self.pages.files[path].read_bytes()
            kind = "text/html" if path.endswith(".html") else "text/javascript"
            self._send(200, body, {"Content-Type": f"{kind}; charset=utf-8"})
        else:
            self._send(404, b"not found", {"Content-Type": "text/plain"})

    def do_POST(self) -> None:
        if self.path != "/result":
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.pages.results.put(json.loads(body))
        self._send(204, b"", {})

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: what the players did is in the page's report."""


# --- Chromium ------------------------------------------------------------------------------------


def play_in_chromium(
    chromium: str, url: str, pages: PageServer, workdir: Path, *, timeout: float
) -> dict[str, Any]:
    """Open ``url`` in a fresh headless Chromium and return the page's ``window.__result``.

    Each run gets a new empty profile (the machine notes' advice, and no state carried from
    one stream to the next).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    profile = workdir / "profile"
    profile.mkdir()
    log_path = workdir / "chromium.log"
    while not pages.results.empty():  # nothing left over from an earlier page
        pages.results.get_nowait()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        return pages.results.get(timeout=timeout)
    except queue.Empty:
        exited = process.poll()
        state = "running" if exited is None else f"exited {exited}"
        raise AssertionError(
            f"the page reported nothing within {timeout} s (Chromium {state});"
            f" Chromium's log:\n{log_tail(log_path)}"
        ) from None
    finally:
        stop_process(process, group=True, grace=10.0)
