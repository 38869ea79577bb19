"""What the HTTP path costs on top of libvips, and on top of a bare Starlette route.

Run from the repository root::

    .venv/bin/python -m bench.img                 # 20 cold renditions, 10 s per hit run
    .venv/bin/python -m bench.img --cold 10 --duration 5 --connections 50

It starts the real server, ``vylux-cli serve --no-worker`` (hypercorn, the embedded
profile: SQLite and local directories under a temp dir), on a free loopback port,
plus a Starlette hello-world app under the same hypercorn settings, each in its own
process, and measures in one run:

(a) **cold transforms**: a generated 24 MP JPEG (6000×4000) to WebP at w790…w809,
    each a distinct rendition and so a cache miss, fetched one after another over
    HTTP (httpx: at several hundred ms per request its own overhead is noise), against
    the same ``transform_sync`` calls in this process, interleaved width by width.
    Ratio = in-process time per op / HTTP time per op (target ≥ 0.90).
(b) **memory-cache hits**: one rendition requested over and over by
    ``--connections`` connections for ``--duration`` seconds, against the hello-world
    route. Ratio = img req/s / hello req/s. This is done ``--trials`` times (3), each
    time with both servers started afresh, and the median ratio is judged (target
    ≥ 0.80); every trial is printed. On the 2-CPU machines here one process pair's
    ratio differed from the next pair's by up to ±0.05, more than the slices within a
    pair did, so a single pair says little. A third run, a Starlette
    route sending as many bytes as the rendition, splits that ratio into what the
    body size costs and what Vylux's own layers cost (reported, no target). The load
    comes from ``wrk`` when it is installed (Debian: ``apt-get install wrk``); without
    it, from an asyncio httpx client in this process, which is usually the bottleneck
    itself, so the ratio then says less. The same rendition asked for in imgproxy's
    dialect (``/imgproxy/…/rs:fit:800:0/plain/…@webp``) is measured alongside, with the
    same target against hello world.

    With two CPUs or more (Linux), the server under test is pinned to the first CPU
    and ``wrk`` (one thread per remaining CPU) to the others while (b) runs. Left to
    the scheduler, the server shared a core with a ``wrk`` thread for a varying part
    of each slice, and the hello-world baseline moved by ±10 % from run to run while
    the img rate stayed put. Pinned, each app gets exactly one core, which is also
    what a one-process server gets in production. ``--no-pin`` turns it off.

(c) **cold throughput under concurrent load against thumbor and pyvips**:
    ``bench/throughput.py`` (its docstring says how), two workloads, every request a
    new source key, ``wrk`` with 8 connections; ``--no-throughput`` leaves it out.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from attrs import frozen
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench import throughput
from bench.servers import Running, embedded_vylux, free_port, running, vylux_command
from tests.support.media import make_photo
from vylux_adapters.local import LocalDirObjectStore
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_adapters.vips.image_processor import transform_sync
from vylux_core.images.options import effective_quality, parse_format, parse_image_options
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.ports.image_processor import ImageTransform
from vylux_core.security.signing import UrlSigner

SOURCE_KEY = "bench/photo 24mp.jpg"
WIDTH, HEIGHT = 6000, 4000
COLD_FIRST_WIDTH = 790
HIT_OPTIONS = "w800"
# The same rendition in imgproxy's dialect (fit 800 wide): the third workload line.
IMGPROXY_HIT_OPTIONS = "rs:fit:800:0"
FORMAT = "webp"
COLD_TARGET = 0.90
HIT_TARGET = 0.80
HELLO_PATH = "/hello"
HELLO_BODY = b"Hello, world!"
BYTES_PATH = "/bytes/{size}"  # the same server: n random bytes as image/webp


# --- the servers ------------------------------------------------------------------------------


def hypercorn_settings(port: int) -> HypercornConfig:
    """Hypercorn as ``vylux-cli serve`` sets it up (vylux_cli.main.serve), so both
    apps are served the same way."""
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.graceful_timeout = 30.0
    config.accesslog = None
    return config


def serve_hello(port: int) -> None:
    """The baselines: one bare Starlette route each, nothing else (``--serve-hello``)."""
    bodies: dict[int, bytes] = {}

    async def hello(_: Request) -> Response:
        return PlainTextResponse(HELLO_BODY)

    async def sized(request: Request) -> Response:
        size = int(request.path_params["size"])
        if size not in bodies:
            bodies[size] = os.urandom(size)
        return Response(bodies[size], media_type="image/webp")

    async def healthz(_: Request) -> Response:
        return PlainTextResponse(b"OK")

    app = Starlette(
        routes=[
            Route(HELLO_PATH, hello),
            Route(BYTES_PATH.replace("{size}", "{size:int}"), sized),
            Route("/healthz", healthz),
        ]
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await hypercorn_serve(app, hypercorn_settings(port), shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(run())


@frozen
class CpuPlan:
    """Which CPUs the server under load and the load generator run on; empty: anywhere."""

    server: frozenset[int] = frozenset()
    load: frozenset[int] = frozenset()

    @classmethod
    def split(cls) -> CpuPlan:
        """The first allowed CPU for the server, the rest for ``wrk``; no plan with one CPU."""
        if not hasattr(os, "sched_getaffinity"):
            return cls()
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return cls()
        return cls(frozenset(allowed[:1]), frozenset(allowed[1:]))

    def pin_server(self, pid: int) -> None:
        # Affinity is per thread on Linux: every thread the server has started.
        if self.server:
            for task in Path(f"/proc/{pid}/task").iterdir():
                os.sched_setaffinity(int(task.name), self.server)


# --- the workload ---------------------------------------------------------------------------


def image_transform(options: str) -> ImageTransform:
    """What ImageService asks the processor for, for ``options`` and FORMAT."""
    opts = parse_image_options(options)
    fmt = parse_format(FORMAT)
    return ImageTransform(
        format=fmt,
        quality=effective_quality(opts, fmt),
        width=opts.width or None,
        height=opts.height or None,
    )


def imgproxy_url(base: str, signer: ImgproxySigner, prefix: str, options: str) -> str:
    path = f"/{options}/plain/{quote(SOURCE_KEY, safe='/')}@{FORMAT}"
    return f"{base}{prefix}/{signer.sign(path)}{path}"


def img_url(base: str, signer: UrlSigner, options: str) -> str:
    sig = signer.sign_image(parse_image_options(options), SOURCE_KEY, parse_format(FORMAT))
    return f"{base}/img/{sig}/{options}/{quote(SOURCE_KEY, safe='')}.{FORMAT}"


@frozen
class Timing:
    """Seconds per operation."""

    samples: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@frozen
class ColdResult:
    in_process: Timing
    http: Timing
    identical: bool

    @property
    def ratio(self) -> float:
        return self.in_process.mean / self.http.mean


def measure_cold(base: str, signer: UrlSigner, photo: bytes, count: int) -> ColdResult:
    # Its limits, and its process-wide libvips settings (operation cache off), are
    # exactly what the server's processor uses.
    processor = PyvipsImageProcessor()
    in_process: list[float] = []
    over_http: list[float] = []
    identical = True
    try:
        with httpx.Client(timeout=120.0) as client:
            # Not counted: the first call pays for loading libvips' JPEG and WebP code.
            transform_sync(photo, image_transform("w700"), processor.limits)
            _fetch(client, img_url(base, signer, "w700"))
            for width in range(COLD_FIRST_WIDTH, COLD_FIRST_WIDTH + count):
                # Interleaved width by width, so both sides see the same machine state.
                options = f"w{width}"
                started = time.perf_counter()
                rendition = transform_sync(photo, image_transform(options), processor.limits)
                in_process.append(time.perf_counter() - started)
                started = time.perf_counter()
                body = _fetch(client, img_url(base, signer, options))
                over_http.append(time.perf_counter() - started)
                # Same code, same input: byte-identical, or we measured different work.
                identical = identical and body == rendition.data
    finally:
        processor.close()
    return ColdResult(Timing(in_process), Timing(over_http), identical)


def _fetch(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200 or response.headers["content-type"] != "image/webp":
        raise SystemExit(f"GET {url} → {response.status_code}: {response.text[:200]}")
    return response.content


# --- load generation --------------------------------------------------------------------------


@frozen
class LoadResult:
    requests_per_second: float
    p50: float | None  # seconds
    p99: float | None
    errors: int
    tool: str


_LATENCY_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_load(
    url: str, *, connections: int, duration: float, threads: int, cpus: frozenset[int]
) -> LoadResult:
    wrk = shutil.which("wrk")
    assert wrk is not None
    completed = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    out = completed.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise SystemExit(f"unexpected wrk output:\n{out}\n{completed.stderr}")
    latencies = {
        pct: float(value) * _LATENCY_UNITS[unit]
        for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return LoadResult(
        float(rps.group(1)), latencies.get("50"), latencies.get("99"), errors, f"wrk -t{threads}"
    )


async def httpx_load(url: str, *, connections: int, duration: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    timing = Timing(latencies)
    return LoadResult(
        len(latencies) / elapsed,
        timing.percentile(0.50),
        timing.percentile(0.99),
        errors,
        "httpx (asyncio)",
    )


def combined(results: Sequence[LoadResult]) -> LoadResult:
    """Slices of equal length: mean throughput, median of their percentiles."""

    def median(values: list[float | None]) -> float | None:
        known = [value for value in values if value is not None]
        return statistics.median(known) if known else None

    return LoadResult(
        statistics.fmean(result.requests_per_second for result in results),
        median([result.p50 for result in results]),
        median([result.p99 for result in results]),
        sum(result.errors for result in results),
        results[0].tool,
    )


@frozen(kw_only=True)
class LoadPlan:
    """How the hit runs are driven; ``use_wrk`` False means the httpx fallback."""

    connections: int
    duration: float  # seconds per URL, over all rounds
    rounds: int
    warmup: float
    use_wrk: bool
    cpus: CpuPlan
    trials: int = 1

    def run(self, url: str, duration: float) -> LoadResult:
        if self.use_wrk:
            # Unpinned, wrk and the (single-process) server share the machine: two
            # threads at most.
            threads = len(self.cpus.load) or max(1, min(2, os.cpu_count() or 1))
            return wrk_load(
                url,
                connections=self.connections,
                duration=duration,
                threads=min(threads, self.connections),
                cpus=self.cpus.load,
            )
        return asyncio.run(httpx_load(url, connections=self.connections, duration=duration))

    def measure(self, urls: Sequence[str]) -> list[LoadResult]:
        """Each URL for ``duration`` seconds, after ``warmup`` seconds not counted."""
        if self.warmup > 0:  # connections, the allocator and the LRU's pages
            for url in urls:
                self.run(url, self.warmup)
        # Round-robin in short slices: a neighbour's load on a shared machine then
        # hits every URL alike instead of skewing whichever ran during it.
        slices: dict[str, list[LoadResult]] = {url: [] for url in urls}
        for _ in range(self.rounds):
            for url in urls:
                slices[url].append(self.run(url, self.duration / self.rounds))
        return [combined(slices[url]) for url in urls]


# --- the run ----------------------------------------------------------------------------------


def run(cold_count: int, plan: LoadPlan, work: Path) -> bool:
    started = time.perf_counter()
    photo = make_photo(WIDTH, HEIGHT)
    print(
        f"source: {WIDTH}×{HEIGHT} JPEG, {len(photo) / 1e6:.1f} MB "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )
    vylux_dir, hello_dir = work / "vylux", work / "hello"
    for directory in (vylux_dir, hello_dir):
        directory.mkdir()
    embedded = embedded_vylux(vylux_dir)
    signer, imgproxy_signer = embedded.signer, embedded.imgproxy
    imgproxy_prefix, source_root = embedded.imgproxy_prefix, embedded.source_root
    source_root.mkdir(parents=True, exist_ok=True)
    asyncio.run(
        LocalDirObjectStore(root=source_root).put_bytes(
            SOURCE_KEY, photo, content_type="image/jpeg"
        )
    )

    cold: ColdResult | None = None
    trials: list[HitTrial] = []
    for _ in range(plan.trials):
        # Fresh server processes for each trial: one process pair's hash seed and memory
        # layout moved its ratio by several per cent, more than slices within it did.
        with serving(vylux_dir, hello_dir) as (vylux, hello):
            if cold is None:
                # Unpinned: a cold transform uses libvips' threads on every core, as
                # in-process.
                cold = measure_cold(vylux.base, signer, photo, cold_count)
            hit_url = img_url(vylux.base, signer, HIT_OPTIONS)
            imgproxy_hit = imgproxy_url(
                vylux.base, imgproxy_signer, imgproxy_prefix, IMGPROXY_HIT_OPTIONS
            )
            with httpx.Client(timeout=120.0) as client:
                rendition_size = len(_fetch(client, hit_url))  # now in the memory cache
                _fetch(client, imgproxy_hit)
                time.sleep(0.5)  # let a write-behind copy to the media dir finish
            bytes_url = f"{hello.base}{BYTES_PATH.format(size=rendition_size)}"
            for server in (vylux, hello):
                plan.cpus.pin_server(server.pid)
            img_load, hello_load, bytes_load, imgproxy_load = plan.measure(
                [hit_url, f"{hello.base}{HELLO_PATH}", bytes_url, imgproxy_hit]
            )
            trials.append(HitTrial(img_load, hello_load, bytes_load, rendition_size, imgproxy_load))
    assert cold is not None  # plan.trials >= 1
    return report(cold, trials, plan)


@contextmanager
def serving(vylux_dir: Path, hello_dir: Path) -> Iterator[tuple[Running, Running]]:
    """Vylux and the hello-world baselines, each in a new process on a free port."""
    vylux_port, hello_port = free_port(), free_port()
    hello_command = [sys.executable, "-m", "bench.img", "--serve-hello", str(hello_port)]
    with (
        running(
            vylux_command(vylux_port), port=vylux_port, cwd=vylux_dir, log=vylux_dir / "log"
        ) as vylux,
        running(hello_command, port=hello_port, cwd=hello_dir, log=hello_dir / "log") as hello,
    ):
        yield vylux, hello


@frozen
class HitTrial:
    """One process pair's hit runs."""

    img: LoadResult
    hello: LoadResult
    same_size: LoadResult
    rendition_size: int
    imgproxy: LoadResult

    @property
    def ratio(self) -> float:
        return self.img.requests_per_second / self.hello.requests_per_second

    @property
    def body_ratio(self) -> float:
        return self.same_size.requests_per_second / self.hello.requests_per_second

    @property
    def own_ratio(self) -> float:
        return self.img.requests_per_second / self.same_size.requests_per_second

    @property
    def imgproxy_ratio(self) -> float:
        return self.imgproxy.requests_per_second / self.hello.requests_per_second

    @property
    def errors(self) -> int:
        return self.img.errors + self.hello.errors + self.same_size.errors + self.imgproxy.errors


def report(cold: ColdResult, trials: Sequence[HitTrial], plan: LoadPlan) -> bool:
    def ms(seconds: float | None) -> str:
        return "    n/a" if seconds is None else f"{seconds * 1e3:7.1f}"

    count = len(cold.http.samples)
    print(
        f"\n(a) cold transforms: → {FORMAT} w{COLD_FIRST_WIDTH}..w{COLD_FIRST_WIDTH + count - 1}, "
        f"{count} distinct renditions, sequential"
    )
    print(f"    {'':<28} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, timing in (
        ("in-process transform_sync", cold.in_process),
        ("HTTP (httpx)", cold.http),
    ):
        print(
            f"    {label:<28} {ms(timing.mean):>8} {ms(timing.percentile(0.5)):>8} "
            f"{ms(timing.percentile(0.99)):>8}"
        )
    print(f"    outputs byte-identical: {'yes' if cold.identical else 'NO'}")
    cold_ok = cold.ratio >= COLD_TARGET and cold.identical
    print(
        f"    ratio in-process/HTTP = {cold.ratio:.3f} (target ≥ {COLD_TARGET:.2f}) "
        f"{'ok' if cold_ok else 'BELOW TARGET'}"
    )

    size = trials[0].rendition_size
    print(
        f"\n(b) memory-cache hits: {len(trials)} trials, each a new pair of server processes "
        f"and {plan.duration:.0f} s per URL in {plan.rounds} round-robin slices; "
        f"{plan.connections} connections, load from {trials[0].img.tool}"
    )
    if plan.cpus.server:
        print(f"    server on CPU {sorted(plan.cpus.server)}, wrk on CPU {sorted(plan.cpus.load)}")
    print(
        f"    /img {HIT_OPTIONS} ({size / 1024:.1f} KiB), hello world ({len(HELLO_BODY)} B), "
        f"same-size bytes ({size / 1024:.1f} KiB) — req/s, and p50/p99 ms of /img"
    )
    print(
        f"    {'trial':<6} {'img':>7} {'hello':>7} {'same':>7} {'p50':>7} {'p99':>7} "
        f"{'errors':>7} {'img/hello':>10} {'same/hello':>11} {'img/same':>9} "
        f"{'imgproxy':>9} {'imgproxy/hello':>15}"
    )
    for number, trial in enumerate(trials, start=1):
        print(
            f"    {number:<6} {trial.img.requests_per_second:7.0f} "
            f"{trial.hello.requests_per_second:7.0f} {trial.same_size.requests_per_second:7.0f} "
            f"{ms(trial.img.p50)} {ms(trial.img.p99)} {trial.errors:7d} "
            f"{trial.ratio:10.3f} {trial.body_ratio:11.3f} {trial.own_ratio:9.3f} "
            f"{trial.imgproxy.requests_per_second:9.0f} {trial.imgproxy_ratio:15.3f}"
        )
    hit_ratio = statistics.median(trial.ratio for trial in trials)
    hit_ok = hit_ratio >= HIT_TARGET and all(trial.errors == 0 for trial in trials)
    print(
        f"    median ratio img/hello = {hit_ratio:.3f} (target ≥ {HIT_TARGET:.2f}) "
        f"{'ok' if hit_ok else 'BELOW TARGET'}"
    )
    imgproxy_ratio = statistics.median(trial.imgproxy_ratio for trial in trials)
    imgproxy_ok = imgproxy_ratio >= HIT_TARGET
    print(
        f"    imgproxy dialect {IMGPROXY_HIT_OPTIONS}: median req/s "
        f"{statistics.median(t.imgproxy.requests_per_second for t in trials):.0f}, "
        f"ratio imgproxy/hello = {imgproxy_ratio:.3f} (target ≥ {HIT_TARGET:.2f}) "
        f"{'ok' if imgproxy_ok else 'BELOW TARGET'}"
    )
    hit_ok = hit_ok and imgproxy_ok
    print(
        f"      = body size (median same-size/hello "
        f"{statistics.median(t.body_ratio for t in trials):.3f}) "
        f"× Vylux's layers (median img/same-size "
        f"{statistics.median(t.own_ratio for t in trials):.3f})"
    )
    if not plan.use_wrk:
        print("    (no wrk: the Python load generator is probably the bottleneck)")
    return cold_ok and hit_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cold", type=int, default=20, help="distinct cold renditions")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per hit run")
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices each hit run is cut into, round-robin"
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=3,
        help="hit measurements, each with new server processes; the median ratio is judged",
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each hit run")
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="auto: wrk when it is on PATH, else httpx",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="leave the servers and wrk to the scheduler during the hit runs",
    )
    parser.add_argument(
        "--no-throughput",
        dest="throughput",
        action="store_false",
        help="leave out (c), the cold throughput against thumbor and pyvips",
    )
    throughput.add_arguments(parser)
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello is not None:
        serve_hello(args.serve_hello)
        return
    has_wrk = shutil.which("wrk") is not None
    if args.load_generator == "wrk" and not has_wrk:
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")
    use_wrk = has_wrk and args.load_generator != "httpx"
    plan = LoadPlan(
        connections=args.connections,
        duration=args.duration,
        rounds=args.rounds,
        warmup=args.warmup,
        use_wrk=use_wrk,
        trials=max(1, args.trials),
        # The httpx fallback runs in this process, unpinned: nothing to split then.
        cpus=CpuPlan.split() if use_wrk and args.pin else CpuPlan(),
    )
    with tempfile.TemporaryDirectory(prefix="vylux-bench-img-") as work:
        ok = run(args.cold, plan, Path(work))
    if args.throughput:
        ok = throughput.run(throughput.settings_of(args)) and ok
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
