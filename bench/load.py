"""Load: ``wrk`` against ``vylux-cli serve`` on PostgreSQL, Redis and SeaweedFS S3.

Run from the repository root (``wrk`` is the Debian package: ``apt-get install wrk``)::

    nice -n 10 .venv/bin/python -m bench.load              # 4 scenarios × 60 s, 50 connections
    .venv/bin/python -m bench.load --duration 10 --connections 20
    .venv/bin/python -m bench.load --scenarios img-hot,stream --stream-data upload

It starts a throwaway SeaweedFS (``weed mini``, as the tests do), a fresh PostgreSQL
database on 127.0.0.1:5432 and an empty Redis database number on 127.0.0.1:6379, then the
production server, ``vylux-cli serve --no-worker`` (hypercorn, one process), with freshly
generated secrets, and drives four scenarios one after another:

``img-hot``
    one signed ``/img`` URL over and over: memory-cache hits after the first request.
``img-cold``
    a pre-signed list of distinct renditions (width × quality × format of one photo),
    each thread walking its own slice, so every request renders (memory and media-store
    cache misses) until the list would wrap; a wrap is reported.
``jobs``
    ``POST /api/jobs`` with the API key and a distinct ``hash`` per request, so every
    request has a new fingerprint and creates a job row and a queue task. No worker runs
    (``--no-worker``): the queue just fills, which is what the scenario measures (the
    submission path, not job execution). Rows in PostgreSQL are counted against the
    2xx responses afterwards.
``stream``
    ``/stream/<hash>/…/seg_N.m4s`` round-robin over every segment of a finished HLS tree:
    by default the output of a real ``video:transcode`` of a small generated clip, run
    through ``vylux-cli work`` before the scenarios (``--stream-data upload`` puts a
    synthetic tree of random bytes under the same keys instead, for a faster start).

The ``jobs`` limiter (30 requests a minute per API key, spec §4.4) has no setting: the
bench gives its own key a huge allowance by seeding that key's fixed-window counters in
Redis with a large negative number for every minute of the run, so the limiter still runs
on every request (INCR + EXPIRE) but never answers 429. The ``/img`` memory cache is
capped at ``--cache-max-size`` (default 4 MiB, instead of 1 GiB: about a hundred
renditions, while the hot scenario needs one) so that the cold scenario fills it within
its warm-up even at ten renditions a second, and growth after that is not the cache.

For each scenario: req/s, p50/p99 latency (``wrk --latency``), non-2xx/3xx responses and
socket errors (goal: none), the server's RSS sampled every second with ``psutil``, and a
verdict on growth after warm-up: RSS at the end minus RSS at half the run must stay
within ``--rss-tolerance`` MiB. Half the run, because cold renders take that long to
warm up: with 50 connections rendering, the server's RSS rose for about two minutes
before it levelled off (measured over 240 s: +30 MiB in the first 110 s, then flat
within ±5 MiB for 3 500 more renders), which a 10 s warm-up called growth. A leak
grows with the requests, so it still shows in the second half. ERROR lines the server
logged during the scenario are counted too. Exit status 0 when every scenario has no
errors and bounded RSS, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import psycopg
import redis
from attrs import field, frozen

from bench.servers import stop
from tests.support.media import bundled_binaries, make_clip, make_photo
from tests.support.seaweedfs import S3Server, fresh_bucket, start_seaweedfs
from vylux_adapters.http.middleware.rate_limit import hash16
from vylux_adapters.redis.rate_limiter import DEFAULT_PREFIX as RATE_LIMIT_PREFIX
from vylux_core.images.options import parse_format, parse_image_options
from vylux_core.media.storage_keys import video_prefix
from vylux_core.security.signing import UrlSigner

REPOSITORY = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "VYLUX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER = "redis://127.0.0.1:6379"
SCENARIOS = ("img-hot", "img-cold", "jobs", "stream")
SOURCE_KEY = "bench/load photo.jpg"
PHOTO_SIZE = (1600, 1067)
HOT_OPTIONS, HOT_FORMAT = "w640", "webp"
STREAM_HASH = "loadbench0123456789abcdef"
START_TIMEOUT = 60.0
STOP_GRACE = 15.0
TRANSCODE_TIMEOUT = 600.0
MIB = 1 << 20
# The server's own key prefixes (queue, rate limiter): the only keys it writes in Redis.
SERVER_REDIS_PREFIXES = ("vylux", RATE_LIMIT_PREFIX)
CLAIM_KEY = "vylux-bench-load:claimed"


# --- the services -----------------------------------------------------------------------------


def free_port() -> int:
    # Closed again before the server binds it: a tiny race, fine on a quiet machine.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database (the server migrates it on start), dropped at the end."""
    name = f"vylux_load_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_database(server: str = REDIS_SERVER) -> Iterator[str]:
    """The URL of an empty Redis database number, its server keys deleted at the end.

    The server writes under fixed prefixes (``vylux:``, ``ratelimit:``), not a per-run
    one: an empty database of its own keeps it away from tests and other benches that
    share this Redis. Highest numbers first, as tests use database 0.
    """
    for number in range(15, 0, -1):
        url = f"{server}/{number}"
        client = redis.Redis.from_url(url)
        try:
            # The claim keeps a second run that started at the same instant off it.
            if client.dbsize() == 0 and client.set(CLAIM_KEY, "1", nx=True):
                break
        finally:
            client.close()
    else:
        raise RuntimeError(f"no empty database on {server}")
    try:
        yield url
    finally:
        client = redis.Redis.from_url(url)
        try:
            client.delete(CLAIM_KEY)
            for prefix in SERVER_REDIS_PREFIXES:
                keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start : start + 1000])
        finally:
            client.close()


@frozen(kw_only=True)
class Backends:
    """Where the server keeps its state; the bench's and the test's are built differently."""

    database_url: str = field(repr=False)
    redis_url: str
    s3: S3Server
    source_bucket: str
    media_bucket: str


@contextmanager
def own_backends(work: Path) -> Iterator[Backends]:
    """SeaweedFS, a PostgreSQL database, a Redis database and two buckets, for one run."""
    with (
        start_seaweedfs(work / "seaweedfs") as s3,
        postgres_database() as database_url,
        redis_database() as redis_url,
        fresh_bucket(s3) as source_bucket,
        fresh_bucket(s3) as media_bucket,
    ):
        yield Backends(
            database_url=database_url,
            redis_url=redis_url,
            s3=s3,
            source_bucket=source_bucket,
            media_bucket=media_bucket,
        )


@frozen(kw_only=True)
class Server:
    """A running ``vylux-cli serve`` and what a client needs to talk to it."""

    base: str
    pid: int
    api_key: str = field(repr=False)
    signer: UrlSigner = field(repr=False)
    env: Mapping[str, str] = field(repr=False)
    log: Path
    backends: Backends

    def process(self) -> psutil.Process:
        return psutil.Process(self.pid)

    def error_lines(self) -> int:
        """ERROR (and CRITICAL) records in the server's JSON log so far."""
        text = self.log.read_text(errors="replace")
        return len(re.findall(r'"level":\s*"(?:ERROR|CRITICAL)"', text))


def server_environment(
    backends: Backends, work: Path, *, port: int, cache_max_size: int
) -> dict[str, str]:
    """Everything the production server reads, and nothing from the caller's environment
    (a developer's DATABASE_URL or S3 variables must not leak in)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    }
    s3 = backends.s3
    env.update(
        {
            "PYTHONPATH": str(REPOSITORY),
            "MODE": "server",
            "PORT": str(port),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "VYLUX_DATA_DIR": str(work / "data"),
            "VYLUX_SCRATCH_DIR": str(work / "scratch"),
            "DATABASE_URL": backends.database_url,
            "REDIS_URL": backends.redis_url,
            "SOURCE_S3_ENDPOINT": s3.endpoint,
            "SOURCE_S3_ACCESS_KEY": s3.access_key,
            "SOURCE_S3_SECRET_KEY": s3.secret_key,
            "SOURCE_S3_REGION": s3.region,
            "SOURCE_BUCKET": backends.source_bucket,
            "MEDIA_S3_ENDPOINT": s3.endpoint,
            "MEDIA_S3_ACCESS_KEY": s3.access_key,
            "MEDIA_S3_SECRET_KEY": s3.secret_key,
            "MEDIA_S3_REGION": s3.region,
            "MEDIA_BUCKET": backends.media_bucket,
            "HMAC_SECRET": secrets.token_hex(32),
            "API_KEY": secrets.token_hex(32),
            "WEBHOOK_SECRET": secrets.token_hex(32),
            "KEY_TOKEN_SECRET": secrets.token_hex(16),
            "ENCRYPTION_KEY": secrets.token_hex(32),
            "CACHE_MAX_SIZE": str(cache_max_size),
            "WORKER_METRICS_PORT": "0",
            "LOG_LEVEL": "WARN",
            "LOG_FORMAT": "json",
        }
    )
    (work / "scratch").mkdir(parents=True, exist_ok=True)
    return env


def vylux_cli() -> str:
    cli = Path(sysconfig.get_path("scripts")) / "vylux-cli"
    if not cli.is_file():
        raise SystemExit(f"{cli} not found: install the project into this venv first")
    return str(cli)


@contextmanager
def child(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped at the end by its PID: SIGTERM, then SIGKILL after STOP_GRACE."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            stop(process, STOP_GRACE)


@contextmanager
def running_server(
    backends: Backends, work: Path, *, cache_max_size: int = 4 * MIB
) -> Iterator[Server]:
    """``vylux-cli serve --no-worker`` on a free port, ready (``/readyz`` 200) when yielded.

    Its working directory is ``work``, not the checkout, so no ``.env`` file is read.
    """
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_environment(backends, work, port=port, cache_max_size=cache_max_size)
    log = work / "server.log"
    argv = [vylux_cli(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    with child(argv, env=env, cwd=work, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        _wait_until_ready(base, process, log)
        yield Server(
            base=base,
            pid=process.pid,
            api_key=env["API_KEY"],
            signer=UrlSigner(secret=env["HMAC_SECRET"]),
            env=env,
            log=log,
            backends=backends,
        )


def _wait_until_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready within {START_TIMEOUT:.0f} s:\n{log.read_text()}")


def allow_job_submissions(server: Server, seconds: float) -> None:
    """Lift the ``jobs`` limit for the bench's API key for the next ``seconds``.

    The limit has no setting (spec §4.4: 30 a minute, fixed windows keyed
    ``ratelimit:jobs:<hash16(key)>:<floor(now/60)>``). Seeding each coming window's
    counter far below zero keeps the limiter's INCR + EXPIRE on every request while its
    count never reaches the limit.
    """
    window = 60
    now = time.time()
    identity = hash16(server.api_key)
    client = redis.Redis.from_url(server.backends.redis_url)
    try:
        first, last = math.floor(now / window), math.floor((now + seconds) / window)
        for bucket in range(first, last + 1):
            key = f"{RATE_LIMIT_PREFIX}:jobs:{identity}:{bucket}"
            client.set(key, -(10**12), ex=int(seconds) + 2 * window)
    finally:
        client.close()


# --- the data ---------------------------------------------------------------------------------


def put_source(server: Server, key: str, body: bytes, content_type: str) -> None:
    server.backends.s3.admin.put_object(
        Bucket=server.backends.source_bucket, Key=key, Body=body, ContentType=content_type
    )


def img_path(signer: UrlSigner, options: str, fmt: str, source_key: str = SOURCE_KEY) -> str:
    sig = signer.sign_image(parse_image_options(options), source_key, parse_format(fmt))
    return f"/img/{sig}/{options}/{quote(source_key, safe='')}.{fmt}"


def cold_paths(signer: UrlSigner, count: int, *, seed: int = 9) -> list[str]:
    """``count`` distinct renditions of the photo, in a shuffled (but repeatable) order.

    Widths 100…899 × qualities 60…89 × WebP/JPEG: up to 48 000 distinct, all smaller
    than the source so no request is an upscale that costs more than the rest.
    """
    combos = [(w, q, f) for w in range(100, 900) for q in range(60, 90) for f in ("webp", "jpg")]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} distinct renditions")
    chosen = random.Random(seed).sample(combos, count)
    return [img_path(signer, f"w{w}_q{q}", fmt) for w, q, fmt in chosen]


def prepare_stream_by_transcoding(server: Server, work: Path) -> list[str]:
    """Run one real ``video:transcode`` of a small clip through ``vylux-cli work``."""
    clip = make_clip(
        bundled_binaries().ffmpeg,
        work / "clip.mp4",
        width=640,
        height=360,
        seconds=12,
        fps=24,
        audio=True,
    )
    put_source(server, "bench/load clip.mp4", clip.read_bytes(), "video/mp4")
    allow_job_submissions(server, 60)
    env = {**server.env, "MODE": "worker", "WORKER_CONCURRENCY": "1"}
    with child([vylux_cli(), "work"], env=env, cwd=work, log=work / "worker.log"):
        headers = {"X-API-Key": server.api_key}
        body = {"type": "video:transcode", "hash": STREAM_HASH, "source": "bench/load clip.mp4"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=30.0) as client:
            created = client.post("/api/jobs", json=body)
            created.raise_for_status()
            job_id = created.json()["job_id"]
            deadline = time.monotonic() + TRANSCODE_TIMEOUT
            while (status := client.get(f"/api/jobs/{job_id}").json()["status"]) in (
                "queued",
                "processing",
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"transcode still {status} after {TRANSCODE_TIMEOUT:.0f} s")
                time.sleep(1.0)
    if status != "completed":
        raise RuntimeError(f"transcode ended {status}: {(work / 'worker.log').read_text()[-3000:]}")
    return stream_segment_paths(server)


def prepare_stream_by_upload(
    server: Server, *, tracks: int = 3, segments: int = 4, segment_bytes: int = 256 * 1024
) -> list[str]:
    """A synthetic HLS tree under the transcoder's keys: playlists, init and random segments.

    ``/stream`` does not look inside what it serves, so random bytes cost what real
    segments of the same size cost.
    """
    s3, bucket = server.backends.s3.admin, server.backends.media_bucket
    prefix = video_prefix(STREAM_HASH)
    rng = random.Random(4)
    master = ["#EXTM3U"]
    for track in range(tracks):
        folder = f"video/h264_{track}"
        master += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={(track + 1) * 500_000}",
            f"{folder}/playlist.m3u8",
        ]
        playlist = ["#EXTM3U", "#EXT-X-TARGETDURATION:6", '#EXT-X-MAP:URI="init.mp4"']
        s3.put_object(Bucket=bucket, Key=f"{prefix}{folder}/init.mp4", Body=rng.randbytes(1024))
        for number in range(1, segments + 1):
            name = f"seg_{number}.m4s"
            s3.put_object(
                Bucket=bucket, Key=f"{prefix}{folder}/{name}", Body=rng.randbytes(segment_bytes)
            )
            playlist += ["#EXTINF:6.0,", name]
        playlist.append("#EXT-X-ENDLIST")
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}{folder}/playlist.m3u8", Body="\n".join(playlist).encode()
        )
    s3.put_object(Bucket=bucket, Key=f"{prefix}master.m3u8", Body="\n".join(master).encode())
    return stream_segment_paths(server)


def stream_segment_paths(server: Server) -> list[str]:
    """``/stream`` paths of every ``.m4s`` object of the stream hash's tree."""
    prefix = video_prefix(STREAM_HASH)
    paginator = server.backends.s3.admin.get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in paginator.paginate(Bucket=server.backends.media_bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(".m4s")
    ]
    if not keys:
        raise RuntimeError(f"no segments under {prefix}")
    return [f"/stream/{STREAM_HASH}/{quote(key[len(prefix) :])}" for key in sorted(keys)]


# --- wrk scripts --------------------------------------------------------------------------------

# Each wrk thread has its own Lua state: ``setup`` numbers the threads, so thread ``id``
# walks items id+1, id+1+threads, … and no two threads send the same item. ``done``
# reports how many requests were generated, which says whether a list wrapped.
_LUA_THREADS = """\
local threads = {}
local thread_count = %(threads)d
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local generated = 0
  for _, thread in ipairs(threads) do generated = generated + thread:get("generated") end
  io.write(string.format("vylux-generated: %%d\\n", generated))
end
"""

_LUA_PATH_LIST = """\
local paths = {
%(paths)s
}
function init(args)
  generated = 0
end
function request()
  local path = paths[(id + generated * thread_count) %% #paths + 1]
  generated = generated + 1
  return wrk.format("GET", path)
end
"""

_LUA_JOBS = """\
wrk.method = "POST"
wrk.headers["X-API-Key"] = "%(api_key)s"
wrk.headers["Content-Type"] = "application/json"
function init(args)
  generated = 0
end
function request()
  generated = generated + 1
  local body = string.format(
    '{"type":"image:thumbnail","hash":"%(hash_prefix)s-%%d-%%d","source":"%(source)s"}',
    id, generated)
  return wrk.format(nil, nil, nil, body)
end
"""


def _lua_string(text: str) -> str:
    # Paths and keys here are URL-safe ASCII: only quotes and backslashes need escaping.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def path_list_script(paths: Sequence[str], threads: int) -> str:
    listed = ",\n".join(_lua_string(path) for path in paths)
    return _LUA_THREADS % {"threads": threads} + _LUA_PATH_LIST % {"paths": listed}


def jobs_script(api_key: str, hash_prefix: str, source_key: str, threads: int) -> str:
    if (
        re.fullmatch(r"[A-Za-z0-9_-]+", hash_prefix) is None
        or '"' in source_key
        or "\\" in source_key
    ):
        raise ValueError("hash prefix and source key must not need escaping")
    return _LUA_THREADS % {"threads": threads} + _LUA_JOBS % {
        "api_key": api_key,
        "hash_prefix": hash_prefix,
        "source": source_key,
    }


# --- running wrk, sampling RSS -----------------------------------------------------------------


@frozen(kw_only=True)
class WrkResult:
    requests: int
    requests_per_second: float
    p50: float  # seconds
    p99: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    generated: int | None  # requests the Lua script produced, when it counts them

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + sum(self.socket_errors.values())


_LATENCY_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(out: str) -> WrkResult:
    requests = re.search(r"^\s*(\d+) requests in ", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    latencies = {
        pct: float(value) * _LATENCY_UNITS[unit]
        for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    if requests is None or rps is None or "50" not in latencies or "99" not in latencies:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    generated = re.search(r"^vylux-generated: (\d+)$", out, re.M)
    return WrkResult(
        requests=int(requests.group(1)),
        requests_per_second=float(rps.group(1)),
        p50=latencies["50"],
        p99=latencies["99"],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(n) for n in sockets.groups()),
                strict=True,
            )
        )
        if sockets
        else {},
        generated=int(generated.group(1)) if generated else None,
    )


class RssSampler:
    """The server's RSS every ``interval`` seconds on a thread, as (seconds since start, bytes)."""

    def __init__(self, process: psutil.Process, interval: float = 1.0) -> None:
        self._process = process
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0
        self.samples: list[tuple[float, int]] = []

    def _sample(self) -> None:
        self.samples.append((time.monotonic() - self._started, self._process.memory_info().rss))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._started = time.monotonic()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


@frozen(kw_only=True)
class RssVerdict:
    start: int
    after_warmup: int
    end: int
    peak: int
    warmup_seconds: float
    tolerance: int

    @property
    def growth(self) -> int:
        return self.end - self.after_warmup

    @property
    def bounded(self) -> bool:
        return self.growth <= self.tolerance


def rss_verdict(
    samples: Sequence[tuple[float, int]], *, warmup: float, tolerance: int
) -> RssVerdict:
    """RSS at the end against RSS at the first sample at or after ``warmup`` seconds."""
    after = next((rss for t, rss in samples if t >= warmup), samples[-1][1])
    return RssVerdict(
        start=samples[0][1],
        after_warmup=after,
        end=samples[-1][1],
        peak=max(rss for _, rss in samples),
        warmup_seconds=warmup,
        tolerance=tolerance,
    )


def run_wrk(
    server: Server,
    path: str,
    *,
    script: str | None,
    connections: int,
    duration: float,
    threads: int,
    work: Path,
) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not on PATH (Debian: apt-get install wrk)")
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "30s",  # cold renditions queue for seconds at 50 connections on 2 cores
    ]
    if script is not None:
        script_path = work / f"wrk-{secrets.token_hex(4)}.lua"
        # It may carry the API key: readable by this user only.
        script_path.touch(mode=0o600)
        script_path.write_text(script)
        argv += ["-s", str(script_path)]
    argv.append(server.base + path)
    completed = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=duration + 120
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"wrk exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout


# --- scenarios ------------------------------------------------------------------------------------


@frozen(kw_only=True)
class ScenarioResult:
    name: str
    wrk: WrkResult
    rss: RssVerdict
    samples: list[tuple[float, int]]
    server_errors_logged: int
    notes: list[str]  # what the scenario did, beyond wrk's figures
    problems: list[str]  # what it found wrong besides errors and RSS (empty: nothing)

    @property
    def ok(self) -> bool:
        return (
            self.wrk.errors == 0
            and self.rss.bounded
            and self.server_errors_logged == 0
            and not self.problems
        )


def metric_total(server: Server, name: str, labels: Mapping[str, str]) -> float:
    """One sample of the server's Prometheus exposition (0 when absent)."""
    text = httpx.get(f"{server.base}/metrics", timeout=10.0).text
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}")]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def memory_events(server: Server) -> dict[str, float]:
    name = "vylux_image_cache_events_total"
    return {
        result: metric_total(server, name, {"layer": "memory", "result": result})
        for result in ("hit", "miss")
    }


def count_jobs(server: Server, hash_prefix: str) -> int:
    with psycopg.connect(server.backends.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM jobs WHERE hash LIKE %s", (hash_prefix + "-%",)
        ).fetchone()
    assert row is not None
    return int(row[0])


def run_scenario(
    server: Server,
    name: str,
    *,
    connections: int,
    duration: float,
    threads: int,
    work: Path,
    stream_paths: Sequence[str],
    cold_count: int,
    rss_tolerance: int,
) -> ScenarioResult:
    """Prepare ``name``, drive it with wrk while sampling RSS, then check what it did."""
    notes: list[str] = []
    problems: list[str] = []
    script: str | None = None
    path = "/"
    after: Callable[[WrkResult], None]
    if name == "img-hot":
        path = img_path(server.signer, HOT_OPTIONS, HOT_FORMAT)
        first = httpx.get(server.base + path, timeout=60.0)  # now in the memory cache
        first.raise_for_status()
        time.sleep(0.5)  # the write-behind copy to the media store
        before = memory_events(server)

        def after(result: WrkResult) -> None:
            events = memory_events(server)
            hits = events["hit"] - before["hit"]
            misses = events["miss"] - before["miss"]
            notes.append(f"memory cache: {hits:.0f} hits, {misses:.0f} misses")
            if misses or hits < result.requests:
                problems.append(f"{result.requests} requests but {hits:.0f} memory hits")

    elif name == "img-cold":
        paths = cold_paths(server.signer, cold_count)
        path = paths[0]
        script = path_list_script(paths, threads)
        before = memory_events(server)

        def after(result: WrkResult) -> None:
            events = memory_events(server)
            hits = events["hit"] - before["hit"]
            misses = events["miss"] - before["miss"]
            generated = result.generated or 0
            notes.append(
                f"memory cache: {misses:.0f} misses, {hits:.0f} hits; "
                f"{min(generated, len(paths))} of {len(paths)} pre-signed URLs used"
            )
            if generated > len(paths):
                problems.append(
                    f"URL list WRAPPED ({generated - len(paths)} repeats): raise --cold-urls"
                )

    elif name == "jobs":
        hash_prefix = f"load-{secrets.token_hex(4)}"
        path = "/api/jobs"
        script = jobs_script(server.api_key, hash_prefix, SOURCE_KEY, threads)
        allow_job_submissions(server, duration + 120)

        def after(result: WrkResult) -> None:
            rows = count_jobs(server, hash_prefix)
            accepted = result.requests - result.non_2xx_3xx
            # wrk stops with requests in flight: those rows exist, their responses uncounted.
            notes.append(
                f"job rows: {rows} for {accepted} accepted responses (queue fills: no worker)"
            )
            if not accepted <= rows <= accepted + connections:
                problems.append(f"{rows} job rows for {accepted} accepted responses")

    elif name == "stream":
        path = stream_paths[0]
        script = path_list_script(stream_paths, threads)

        def after(result: WrkResult) -> None:
            notes.append(f"{len(stream_paths)} segments round-robin")

    else:
        raise ValueError(f"unknown scenario {name!r}")

    errors_before = server.error_lines()
    with RssSampler(server.process()) as sampler:
        out = run_wrk(
            server,
            path,
            script=script,
            connections=connections,
            duration=duration,
            threads=threads,
            work=work,
        )
    result = parse_wrk(out)
    after(result)
    return ScenarioResult(
        name=name,
        wrk=result,
        rss=rss_verdict(sampler.samples, warmup=duration / 2, tolerance=rss_tolerance),
        samples=list(sampler.samples),
        server_errors_logged=server.error_lines() - errors_before,
        notes=notes,
        problems=problems,
    )


# --- the run ------------------------------------------------------------------------------------


def report(
    results: Sequence[ScenarioResult], *, connections: int, duration: float, threads: int
) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1e3:8.1f}"

    print(
        f"\nwrk -t{threads} -c{connections} -d{duration:.0f}s --latency, one scenario after another"
    )
    print(
        f"{'scenario':<9} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7} "
        f"{'sock err':>8} {'RSS start':>9} {'@warm-up':>9} {'end':>7} {'peak':>7} "
        f"{'growth':>7}  verdict"
    )
    for r in results:
        rss = r.rss
        verdict = "bounded" if rss.bounded else "GROWING"
        print(
            f"{r.name:<9} {r.wrk.requests:9d} {r.wrk.requests_per_second:8.0f} {ms(r.wrk.p50)} "
            f"{ms(r.wrk.p99)} {r.wrk.non_2xx_3xx:7d} {sum(r.wrk.socket_errors.values()):8d} "
            f"{rss.start / MIB:8.1f}M {rss.after_warmup / MIB:8.1f}M {rss.end / MIB:6.1f}M "
            f"{rss.peak / MIB:6.1f}M {rss.growth / MIB:+6.1f}M  {verdict}"
        )
    print(
        "(RSS of the server process in MiB; growth = end − RSS after "
        f"{results[0].rss.warmup_seconds:.0f} s, "
        f"tolerance {results[0].rss.tolerance / MIB:.0f} MiB)"
    )
    for r in results:
        extra = [*r.notes, *(f"PROBLEM: {problem}" for problem in r.problems)]
        if r.wrk.socket_errors and any(r.wrk.socket_errors.values()):
            extra.append(f"socket errors {r.wrk.socket_errors}")
        if r.server_errors_logged:
            extra.append(f"{r.server_errors_logged} ERROR lines in the server log")
        print(f"  {r.name}: " + "; ".join(extra))
        series = " ".join(f"{rss / MIB:.0f}" for _, rss in r.samples)
        print(f"    RSS/s (MiB): {series}")


def run(args: argparse.Namespace, work: Path) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    with ExitStack() as stack:
        backends = stack.enter_context(own_backends(work))
        server = stack.enter_context(
            running_server(backends, work / "server", cache_max_size=args.cache_max_size)
        )
        put_source(server, SOURCE_KEY, make_photo(*PHOTO_SIZE), "image/jpeg")
        stream_paths: list[str] = []
        if "stream" in args.scenarios:
            began = time.perf_counter()
            if args.stream_data == "transcode":
                stream_paths = prepare_stream_by_transcoding(server, work / "server")
            else:
                stream_paths = prepare_stream_by_upload(server)
            print(
                f"stream data ({args.stream_data}): {len(stream_paths)} segments "
                f"in {time.perf_counter() - began:.0f} s"
            )
        print(
            f"server pid {server.pid}, RSS {server.process().memory_info().rss / MIB:.0f} MiB "
            "before the first scenario"
        )
        for name in args.scenarios:
            result = run_scenario(
                server,
                name,
                connections=args.connections,
                duration=args.duration,
                threads=args.threads,
                work=work,
                stream_paths=stream_paths,
                cold_count=args.cold_urls,
                rss_tolerance=int(args.rss_tolerance * MIB),
            )
            print(
                f"{name}: {result.wrk.requests_per_second:.0f} req/s, {result.wrk.errors} errors, "
                f"RSS {result.rss.end / MIB:.0f} MiB"
            )
            results.append(result)
            time.sleep(2.0)  # pending cache writes settle before the next scenario's baseline
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--scenarios",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=list(SCENARIOS),
    )
    parser.add_argument(
        "--cold-urls", type=int, default=20_000, help="distinct pre-signed /img URLs"
    )
    parser.add_argument(
        "--cache-max-size", type=int, default=4 * MIB, help="CACHE_MAX_SIZE of the server"
    )
    parser.add_argument(
        "--rss-tolerance", type=float, default=16.0, help="MiB of growth after warm-up"
    )
    parser.add_argument("--stream-data", choices=("transcode", "upload"), default="transcode")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(SCENARIOS)}")
    if shutil.which("wrk") is None:
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")
    # SIGTERM unwinds like Ctrl-C: the server, weed, the database and the Redis keys
    # are cleaned up instead of left running.
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="vylux-bench-load-") as work:
        results = run(args, Path(work))
    report(results, connections=args.connections, duration=args.duration, threads=args.threads)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "scenario": r.name,
                        "requests": r.wrk.requests,
                        "rps": r.wrk.requests_per_second,
                        "p50_ms": r.wrk.p50 * 1e3,
                        "p99_ms": r.wrk.p99 * 1e3,
                        "non_2xx_3xx": r.wrk.non_2xx_3xx,
                        "socket_errors": r.wrk.socket_errors,
                        "rss_mib": [round(rss / MIB, 1) for _, rss in r.samples],
                        "rss_growth_mib": r.rss.growth / MIB,
                        "server_errors_logged": r.server_errors_logged,
                        "notes": r.notes,
                        "problems": r.problems,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    raise SystemExit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    sys.exit(main())
