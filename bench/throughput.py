"""Cold rendering throughput under concurrent load: Vylux against thumbor and pyvips.

Part of ``bench/img.py`` (its section (c)); alone::

    .venv/bin/python -m bench.throughput                     # 2 workloads, 2 trials × 20 s
    .venv/bin/python -m bench.throughput --duration 10 --trials 1

Every request is cold: each one names a source key no earlier request named, so neither
server answers from a cache (Vylux runs with ``CACHE_MAX_SIZE=0`` and its media-store
cache never holds the rendition yet; thumbor has no result storage and ``no_storage``).
The keys are hard links to a few generated photos, so the page cache holds every source
for both servers alike. ``wrk`` (``--connections``, 8 by default) walks a list of
distinct URLs from a Lua script, at a different offset for every run, so a run never
repeats an earlier one's URL.

Workloads:

(a) a 24 MP JPEG (6000×4000) → 800 px wide WebP, quality 80: ``/img/…/w800_q80/…webp``
    and thumbor's ``/unsafe/800x0/filters:format(webp):quality(80)/…``; the same
    rendition in Vylux's imgproxy dialect (``rs:fit:800:0/q:80/plain/…@webp``) is a third
    line against the same thumbor figure.
(b) imgproxy's own benchmark shape: ~2 MP photos (1920×1080, eight different ones) → fit
    within 512×512 in the source's format, JPEG quality 80: ``rs:fit:512:512/q:80/plain/…``
    (no extension: the source's format) and ``/unsafe/fit-in/512x512/filters:quality(80)/…``.
    ``/img`` cannot say "fit in a box" (``w`` and ``h`` together crop), so it has no line.

Peers, each started afresh for the run and left idle while another is measured:

* thumbor 7.8 from PyPI, PIL engine, in its own venv (``--thumbor-venv``, created on
  first use with ``pip install thumbor==7.8.0``: a bench-only dependency, never a runtime
  one), as two single-process instances sharing one port through ``SO_REUSEPORT``: of
  one process, ``--processes 2`` and two instances, the fastest on 2 CPUs.
* pyvips in a subprocess of this interpreter, twice: the issue's plain baseline
  (``thumbnail_buffer`` + the saver, libvips' defaults, one thread per CPU) and Vylux's
  own libvips work (its JPEG shrink-on-load and encoder settings, one libvips thread per
  operation, two threads per CPU), each thread looping over the photos: libvips with no
  HTTP and no Python server around it. The ÷ pyvips target is judged against the second.

Per server and trial: req/s, p50/p99 latency (``wrk --latency``), errors (non-2xx and
socket errors), and the peak RSS of its process tree (sampled every 50 ms). Trials
alternate the order of the servers, so drift on a shared machine hits each alike; the
median of the trials is judged. Quality: one rendition of the same photo from each
server, its size in bytes and its SSIM (luma, 11-tap Gaussian window, σ = 1.5) against a
Lanczos3 downscale (libvips ``resize``) of the decoded source to the rendition's own
size.

Targets (exit status 1 when missed): Vylux ÷ thumbor ≥ 1.2 req/s on both workloads, p99
not above thumbor's, Vylux ÷ pyvips ≥ 0.9, peak RSS under (a) ≤ 1 GiB, and per workload
Vylux's rendition at most 5 % larger than thumbor's with an SSIM no lower (to 0.0005).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil
import pyvips  # type: ignore[import-untyped]
from attrs import frozen

from bench.servers import (
    embedded_vylux,
    free_port,
    running,
    vylux_command,
    wait_until_answering,
)
from tests.support.media import make_photo
from vylux_adapters.vips.export import encode
from vylux_adapters.vips.resize import thumbnail
from vylux_core.images.options import parse_format, parse_image_options
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.security.signing import UrlSigner

THUMBOR_VERSION = "7.8.0"
DEFAULT_THUMBOR_VENV = Path.home() / ".cache" / "vylux-bench" / f"thumbor-{THUMBOR_VERSION}"
THROUGHPUT_TARGET = 1.2
IN_PROCESS_TARGET = 0.9
RSS_LIMIT = 1 << 30
SIZE_TOLERANCE = 1.05
# "No worse in SSIM": equal to the printed precision; two encoders' outputs of the same
# picture differ in the fifth decimal without a visible difference.
SSIM_TOLERANCE = 0.0005
WRK_TIMEOUT = "60s"  # wrk's default 2 s would drop slow answers from p99 as errors
WARMUP_SECONDS = 3.0
# Distinct URLs per workload and server: every run at up to this rate finds new ones.
MAX_REQUEST_RATE = 400


# --- workloads -------------------------------------------------------------------------------


@frozen
class Workload:
    name: str
    title: str
    width: int
    height: int
    photos: int  # distinct generated photos; keys are hard links to them
    format: str  # what pyvips saves
    box: tuple[int, int]  # fit within, never enlarging (pyvips ``thumbnail``'s width/height)
    save: dict[str, Any]
    img_options: str | None  # /img options (None: /img cannot express it)
    imgproxy_options: str
    imgproxy_extension: str  # "" → the source's format
    thumbor_options: str

    def key(self, index: int) -> str:
        return f"bench-{self.name}/p{index}.jpg"


WORKLOADS = (
    Workload(
        name="a",
        title="24 MP JPEG → 800 px WebP q80",
        width=6000,
        height=4000,
        photos=1,
        format="webp",
        box=(800, 8192),
        save={"Q": 80},
        img_options="w800_q80",
        imgproxy_options="rs:fit:800:0/q:80",
        imgproxy_extension="@webp",
        thumbor_options="800x0/filters:format(webp):quality(80)",
    ),
    Workload(
        name="b",
        title="2 MP JPEGs → fit 512×512, JPEG q80 (imgproxy's benchmark shape)",
        width=1920,
        height=1080,
        photos=8,
        format="jpeg",
        box=(512, 512),
        save={"Q": 80},
        img_options=None,
        imgproxy_options="rs:fit:512:512/q:80",
        imgproxy_extension="",
        thumbor_options="fit-in/512x512/filters:quality(80)",
    ),
)


# --- load ------------------------------------------------------------------------------------


@frozen
class Load:
    requests_per_second: float
    p50: float | None
    p99: float | None
    errors: int
    requests: int
    peak_rss: int
    cpu_seconds: float  # user + system of the server's processes during the run

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_seconds / self.requests if self.requests else 0.0


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}

WALK_SCRIPT = """
paths = {}
for line in io.lines(os.getenv("VYLUX_BENCH_PATHS")) do paths[#paths + 1] = line end
counter = 0
init = function(args) counter = tonumber(args[1]) end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[((counter - 1) % #paths) + 1])
end
"""


class PathList:
    """Distinct request paths for ``wrk``, handed out in runs that never overlap."""

    def __init__(self, work: Path, name: str, paths: Sequence[str]) -> None:
        self.file = work / f"{name}.paths"
        self.file.write_text("\n".join(paths) + "\n")
        self.count = len(paths)
        self.next = 0

    def take(self, count: int) -> int:
        start = self.next
        self.next += count
        if self.next > self.count:
            raise SystemExit(
                f"{self.file.name}: more requests than distinct URLs ({self.count}); "
                "a repeated URL would be a cache hit"
            )
        return start


def wrk_walk(
    base: str,
    paths: PathList,
    script: Path,
    *,
    connections: int,
    duration: float,
    pids: Callable[[], list[int]],
) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not on PATH (Debian: apt-get install wrk)")
    start = paths.next
    cpu_before = tree_cpu(pids())
    with RssPeak(pids) as peak:
        completed = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{round(duration)}s", "--latency",
             f"--timeout={WRK_TIMEOUT}", "-s", str(script), base, "--", str(start)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "VYLUX_BENCH_PATHS": str(paths.file)},
        )  # fmt: skip
    cpu = tree_cpu(pids()) - cpu_before
    out = completed.stdout
    done = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done is None or rps is None:
        raise SystemExit(f"unexpected wrk output:\n{out}\n{completed.stderr}")
    latencies = {
        pct: float(value) * _UNITS[unit]
        for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += socket_errors
    # Requests still in flight when wrk stops, and ones a socket error cut short, used
    # URLs too: the next run starts past all of them.
    paths.take(int(done.group(1)) + connections + socket_errors)
    return Load(
        float(rps.group(1)), latencies.get("50"), latencies.get("99"), errors,
        int(done.group(1)), peak.value, cpu,
    )  # fmt: skip


class RssPeak:
    """The largest summed RSS of ``pids()`` (and their children), sampled every 50 ms."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._stop = threading.Event()
        self.value = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.value = max(self.value, tree_rss(self._pids()))


def tree_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` and their children so far."""
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for member in [process, *process.children(recursive=True)]:
                times = member.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def tree_rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for member in [process, *process.children(recursive=True)]:
                total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


# --- thumbor ---------------------------------------------------------------------------------

THUMBOR_CONFIG = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
NON_BLOCKING_SOCKETS = True
MAX_AGE = 0
"""


def thumbor_executable(venv: Path) -> Path:
    """thumbor in its own venv, created (Python 3.11, thumbor from PyPI) on first use."""
    executable = venv / "bin" / "thumbor"
    if executable.is_file():
        return executable
    print(f"installing thumbor {THUMBOR_VERSION} into {venv} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, f"thumbor=={THUMBOR_VERSION}"], check=True)
    return executable


@contextmanager
def thumbor_server(venv: Path, root: Path, work: Path, instances: int = 2) -> Iterator[Server]:
    """``instances`` single-process thumbors, each on its own ``SO_REUSEPORT`` socket
    bound to one port (the kernel spreads connections over them)."""
    executable = thumbor_executable(venv)
    config = work / "thumbor.conf"
    config.write_text(THUMBOR_CONFIG.format(root=str(root)))
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    log = (work / "thumbor.log").open("wb")
    try:
        for _ in range(instances):
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
            with listener:
                processes.append(
                    subprocess.Popen(
                        [
                            str(executable),
                            "-c",
                            str(config),
                            "--fd",
                            str(listener.fileno()),
                            "-l",
                            "error",
                        ],
                        pass_fds=[listener.fileno()],
                        stdout=log,
                        stderr=log,
                        stdin=subprocess.DEVNULL,
                    )
                )
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(
            f"{base}/healthcheck",
            lambda: any(p.poll() is not None for p in processes),
            work / "thumbor.log",
        )
        yield Server("thumbor", base, lambda: [p.pid for p in processes])
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


@frozen
class Server:
    name: str
    base: str
    pids: Callable[[], list[int]]


# --- pyvips in process -----------------------------------------------------------------------


PIPELINES = ("plain", "vylux")
"""In-process baselines: ``plain`` is the issue's (``thumbnail_buffer`` and the saver with
libvips' defaults, one thread per CPU); ``vylux`` is the same libvips work the server does
(its JPEG shrink-on-load, its encoder settings, one libvips thread per operation, two
render threads per CPU), without HTTP or the service around it."""


def in_process(
    photos: Sequence[Path], workload: Workload, *, pipeline: str, duration: float
) -> Load:
    """``--in-process`` in a subprocess: its own interpreter, GIL and RSS."""
    command = [
        sys.executable, "-m", "bench.throughput", "--in-process", workload.name,
        "--pipeline", pipeline, "--duration", str(duration), *map(str, photos),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    with RssPeak(lambda: [process.pid]) as peak:
        out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"in-process run failed ({process.returncode})")
    done, elapsed, cpu = (float(value) for value in out.split())
    return Load(done / elapsed, None, None, 0, int(done), peak.value, cpu)


def run_in_process(name: str, photos: Sequence[Path], pipeline: str, duration: float) -> None:
    workload = next(w for w in WORKLOADS if w.name == name)
    pyvips.cache_set_max(0)  # as the server's processor sets it
    cpus = os.cpu_count() or 1
    if pipeline == "vylux":
        pyvips.concurrency_set(1)
    threads = 2 * cpus if pipeline == "vylux" else cpus
    sources = [photo.read_bytes() for photo in photos]
    done = [0] * threads
    deadline = time.monotonic() + duration
    width, height = workload.box
    fmt = parse_format(workload.format)

    def render(source: bytes) -> bytes:
        if pipeline == "vylux":
            return encode(thumbnail(source, width, height=height, size="down"), fmt, 80)
        image = pyvips.Image.thumbnail_buffer(source, width, height=height, size="down")
        return bytes(image.write_to_buffer(f".{workload.format}", **workload.save))

    def loop(index: int) -> None:
        turn = index
        while time.monotonic() < deadline:
            render(sources[turn % len(sources)])
            turn += 1
            done[index] += 1

    started = time.monotonic()
    cpu_before = time.process_time()
    workers = [threading.Thread(target=loop, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(sum(done), time.monotonic() - started, time.process_time() - cpu_before)


# --- quality ---------------------------------------------------------------------------------


def ssim(rendition: bytes, source: Path) -> float:
    """Mean SSIM of the luma of ``rendition`` against a Lanczos3 downscale of ``source``
    to the same size (Wang et al. 2004: Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03)."""
    image = pyvips.Image.new_from_buffer(rendition, "")
    original = pyvips.Image.new_from_file(str(source), access="sequential").autorot()
    reference = original.resize(
        image.width / original.width, vscale=image.height / original.height, kernel="lanczos3"
    )
    x = _luma(image)
    y = _luma(reference).crop(0, 0, x.width, x.height)

    def blur(picture: Any) -> Any:
        # min_ampl 0.003: an 11-tap window for σ = 1.5, as in Wang et al.
        return picture.gaussblur(1.5, precision="float", min_ampl=0.003)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    score = ((mu_x * mu_y * 2 + c1) * (cov * 2 + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    )
    return float(score.avg())


def _luma(image: Any) -> Any:
    if image.hasalpha():
        image = image.flatten()
    return image.colourspace("b-w").extract_band(0).cast("float")


@frozen
class Quality:
    size: int
    ssim: float
    dimensions: tuple[int, int]


def quality_of(url: str, source: Path) -> Quality:
    response = httpx.get(url, timeout=120.0)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} → {response.status_code}: {response.text[:200]}")
    image = pyvips.Image.new_from_buffer(response.content, "")
    return Quality(
        len(response.content), ssim(response.content, source), (image.width, image.height)
    )


# --- the run ---------------------------------------------------------------------------------


@frozen
class Line:
    """One server's figures for one workload: a load per trial and one rendition's quality."""

    name: str  # a key of LABELS
    loads: list[Load]
    quality: Quality | None

    @property
    def rate(self) -> float:
        return statistics.median(load.requests_per_second for load in self.loads)

    @property
    def p99(self) -> float | None:
        known = [load.p99 for load in self.loads if load.p99 is not None]
        return statistics.median(known) if known else None

    @property
    def peak_rss(self) -> int:
        return max(load.peak_rss for load in self.loads)

    @property
    def errors(self) -> int:
        return sum(load.errors for load in self.loads)

    @property
    def cpu_per_request(self) -> float:
        return sum(load.cpu_seconds for load in self.loads) / max(
            1, sum(load.requests for load in self.loads)
        )


@frozen(kw_only=True)
class Settings:
    duration: float
    trials: int
    connections: int
    thumbor_venv: Path


LABELS = {
    "thumbor": f"thumbor {THUMBOR_VERSION}, 2 × SO_REUSEPORT",
    "img": "Vylux /img",
    "imgproxy": "Vylux imgproxy dialect",
    "pyvips-plain": "pyvips in process, thumbnail_buffer",
    "pyvips-vylux": "pyvips in process, Vylux's pipeline",
}
QUALITY_KEY = "bench-{name}/quality.jpg"


def measure(work: Path, settings: Settings) -> list[tuple[Workload, list[Line]]]:
    vylux_dir = work / "vylux"
    vylux_dir.mkdir()
    embedded = embedded_vylux(vylux_dir)
    signer, imgproxy = embedded.signer, embedded.imgproxy
    prefix, root = embedded.imgproxy_prefix, embedded.source_root
    photos = {workload.name: generate(workload, work) for workload in WORKLOADS}
    # Enough distinct keys for 400 req/s in every run of a workload.
    count = int(MAX_REQUEST_RATE * (settings.duration * settings.trials + WARMUP_SECONDS)) + 100
    paths: dict[tuple[str, str], PathList] = {}
    for workload in WORKLOADS:
        sources = photos[workload.name]
        for index in range(count):
            link(sources[index % len(sources)], root / workload.key(index))
        link(sources[0], root / QUALITY_KEY.format(name=workload.name))
        keys = [workload.key(index) for index in range(count)]
        for name, path_of in request_paths(workload, signer, imgproxy, prefix).items():
            paths[workload.name, name] = PathList(
                work, f"{workload.name}-{name}", [path_of(key) for key in keys]
            )
    script = work / "walk.lua"
    script.write_text(WALK_SCRIPT)
    results: list[tuple[Workload, list[Line]]] = []
    with (
        running(
            vylux_command(port := free_port()), port=port, cwd=vylux_dir, log=vylux_dir / "log",
            settings={"CACHE_MAX_SIZE": "0"},
        ) as vylux,
        thumbor_server(settings.thumbor_venv, root, work) as thumbor,
    ):  # fmt: skip
        servers = {
            "thumbor": Server("thumbor", thumbor.base, thumbor.pids),
            "img": Server("vylux", vylux.base, lambda: [vylux.pid]),
            "imgproxy": Server("vylux", vylux.base, lambda: [vylux.pid]),
        }
        for workload in WORKLOADS:
            sources = photos[workload.name]
            in_process_lines = [f"pyvips-{pipeline}" for pipeline in PIPELINES]
            order = [name for (w, name) in paths if w == workload.name] + in_process_lines
            loads: dict[str, list[Load]] = {name: [] for name in order}

            def walk(name: str, duration: float, workload: Workload = workload) -> Load:
                server = servers[name]
                return wrk_walk(
                    server.base, paths[workload.name, name], script,
                    connections=settings.connections, duration=duration, pids=server.pids,
                )  # fmt: skip

            for name in order:  # warm-up, not counted: codecs, connections, allocators
                if name not in in_process_lines:
                    walk(name, WARMUP_SECONDS)
            for trial in range(settings.trials):
                # Alternating order: drift on a shared machine hits every server alike.
                for name in order if trial % 2 == 0 else order[::-1]:
                    if name in in_process_lines:
                        pipeline = name.removeprefix("pyvips-")
                        load = in_process(
                            sources, workload, pipeline=pipeline, duration=settings.duration
                        )
                    else:
                        load = walk(name, settings.duration)
                    loads[name].append(load)
            quality_key = QUALITY_KEY.format(name=workload.name)
            path_of = request_paths(workload, signer, imgproxy, prefix)
            lines = [
                Line(
                    name,
                    loads[name],
                    None
                    if name in in_process_lines
                    else quality_of(servers[name].base + path_of[name](quality_key), sources[0]),
                )
                for name in order
            ]
            results.append((workload, lines))
    return results


def generate(workload: Workload, work: Path) -> list[Path]:
    started = time.perf_counter()
    photos = [
        write(
            work / f"{workload.name}-{index}.jpg",
            make_photo(workload.width, workload.height, seed=index),
        )
        for index in range(workload.photos)
    ]
    print(
        f"({workload.name}) {workload.photos} × {workload.width}×{workload.height} JPEG, "
        f"{photos[0].stat().st_size / 1e6:.1f} MB each "
        f"(generated in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return photos


def link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, target)


def request_paths(
    workload: Workload, signer: UrlSigner, imgproxy: ImgproxySigner, prefix: str
) -> dict[str, Callable[[str], str]]:
    """The request path of each server's line of ``workload``, per source key."""
    paths: dict[str, Callable[[str], str]] = {
        "thumbor": lambda key: f"/unsafe/{workload.thumbor_options}/{quote(key)}",
    }
    img_options = workload.img_options
    if img_options is not None:
        fmt = parse_format(workload.format)
        options = parse_image_options(img_options)
        paths["img"] = lambda key: (
            f"/img/{signer.sign_image(options, key, fmt)}/{img_options}/"
            f"{quote(key, safe='')}.{fmt.extension}"
        )

    def imgproxy_path(key: str) -> str:
        path = (
            f"/{workload.imgproxy_options}/plain/{quote(key, safe='/')}"
            f"{workload.imgproxy_extension}"
        )
        return f"{prefix}/{imgproxy.sign(path)}{path}"

    paths["imgproxy"] = imgproxy_path
    return paths


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- the report ------------------------------------------------------------------------------


def report(results: Sequence[tuple[Workload, Sequence[Line]]], settings: Settings) -> bool:
    """Print every figure, per trial; True when every target is met."""
    ok = True
    print(
        f"\n(c) cold throughput: {settings.connections} connections (wrk), "
        f"{settings.trials} trials × {settings.duration:.0f} s per server, every request a "
        "new source key"
    )
    for workload, lines in results:
        by_name = {line.name: line for line in lines}
        thumbor = by_name["thumbor"]
        print(f"\n    ({workload.name}) {workload.title}")
        trials = " ".join(f"{'trial ' + str(n + 1):>8}" for n in range(settings.trials))
        print(
            f"    {'server':<34} {trials} {'median':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6} {'CPU ms/req':>10} {'peak RSS':>9} {'bytes':>8} {'SSIM':>7}"
        )
        for line in lines:
            rates = " ".join(f"{load.requests_per_second:8.2f}" for load in line.loads)
            p50 = _median([load.p50 for load in line.loads])
            quality = line.quality
            print(
                f"    {LABELS[line.name]:<34} {rates} {line.rate:7.2f} {_ms(p50)} "
                f"{_ms(line.p99)} {line.errors:6d} {line.cpu_per_request * 1e3:10.1f} "
                f"{line.peak_rss / 2**20:6.0f} MiB "
                + (f"{quality.size:8d} {quality.ssim:7.4f}" if quality else f"{'':>8} {'':>7}")
            )
        pyvips_rate = by_name["pyvips-vylux"].rate
        plain_rate = by_name["pyvips-plain"].rate
        for name in ("img", "imgproxy"):
            line = by_name.get(name)
            if line is None:
                continue
            ratio = line.rate / thumbor.rate
            per_trial = ", ".join(
                f"{ours.requests_per_second / theirs.requests_per_second:.2f}"
                for ours, theirs in zip(line.loads, thumbor.loads, strict=True)
            )
            checks = {
                f"÷ thumbor {ratio:.2f} (per trial {per_trial}; target ≥ {THROUGHPUT_TARGET})":
                    ratio >= THROUGHPUT_TARGET,
                f"p99 {_ms(line.p99).strip()} vs thumbor's {_ms(thumbor.p99).strip()} ms":
                    line.p99 is not None and thumbor.p99 is not None and line.p99 <= thumbor.p99,
                f"÷ pyvips with Vylux's pipeline {line.rate / pyvips_rate:.2f} "
                f"(target ≥ {IN_PROCESS_TARGET}; ÷ plain thumbnail_buffer "
                f"{line.rate / plain_rate:.2f})":
                    line.rate / pyvips_rate >= IN_PROCESS_TARGET,
                f"errors {line.errors}": line.errors == 0,
            }  # fmt: skip
            if workload.name == "a":
                checks[f"peak RSS {line.peak_rss / 2**20:.0f} MiB (limit 1024)"] = (
                    line.peak_rss <= RSS_LIMIT
                )
            if line.quality is not None and thumbor.quality is not None:
                size_ratio = line.quality.size / thumbor.quality.size
                checks[f"bytes ÷ thumbor's {size_ratio:.3f} (limit {SIZE_TOLERANCE})"] = (
                    size_ratio <= SIZE_TOLERANCE
                )
                checks[
                    f"SSIM {line.quality.ssim:.4f} vs thumbor's {thumbor.quality.ssim:.4f} "
                    f"(tolerance {SSIM_TOLERANCE})"
                ] = line.quality.ssim >= thumbor.quality.ssim - SSIM_TOLERANCE
            print(f"    {LABELS[name]}:")
            for text, met in checks.items():
                print(f"      {'ok  ' if met else 'MISS'} {text}")
                ok = ok and met
    return ok


def _median(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def _ms(seconds: float | None) -> str:
    return "    n/a" if seconds is None else f"{seconds * 1e3:7.0f}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--throughput-duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--throughput-trials", type=int, default=2)
    parser.add_argument("--throughput-connections", type=int, default=8)
    parser.add_argument(
        "--thumbor-venv", type=Path, default=DEFAULT_THUMBOR_VENV, help="created on first use"
    )


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        duration=args.throughput_duration,
        trials=max(1, args.throughput_trials),
        connections=args.throughput_connections,
        thumbor_venv=args.thumbor_venv,
    )


def run(settings: Settings) -> bool:
    with tempfile.TemporaryDirectory(prefix="vylux-bench-throughput-") as work:
        return report(measure(Path(work), settings), settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--in-process", metavar="WORKLOAD", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", choices=PIPELINES, default="plain", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=20.0, help=argparse.SUPPRESS)
    parser.add_argument("photos", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process is not None:
        run_in_process(args.in_process, args.photos, args.pipeline, args.duration)
        return
    raise SystemExit(0 if run(settings_of(args)) else 1)


if __name__ == "__main__":
    main()
