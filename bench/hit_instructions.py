"""Instructions per cached hit, counted by valgrind: the cache-hit ratio of ``bench/img.py``
without the noise of a shared machine.

Run from the repository root::

    .venv/bin/python -m bench.hit_instructions            # 500 requests per URL
    .venv/bin/python -m bench.hit_instructions --requests 2000

It starts ``vylux-cli serve --no-worker`` (embedded profile, in a temp dir) and the
Starlette hello-world baselines of ``bench/img.py``, each under
``valgrind --tool=callgrind`` with instrumentation off, so that starting them costs no
counting. For each URL it sends a few requests to warm the path, then switches counting
on in the server (``callgrind_control``), sends ``--requests`` more, one after another
over one keep-alive connection, switches it off and reads the total. Instructions are
the same from run to run whatever else the machine does, where ``bench/img.py``'s req/s
move by several per cent between trials; they leave out what a real load adds (caches
shared with other work, a full event loop), so they rank changes rather than predict
req/s: on the 2-CPU machine here the medians of ``bench/img.py``'s req/s ratios came
out 0 to 0.03 below these ratios of instructions.

Printed: instructions per request for hello world, the same-size bytes route, Vylux's
``/healthz``, a cached ``/img`` rendition and the same rendition in imgproxy's dialect,
and hello ÷ each (the form of ``bench/img.py``'s ratio). Needs valgrind (Debian:
``apt-get install valgrind``); exits 2 without it. Nothing is judged: no target is
defined on instructions.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from attrs import frozen

from bench.img import (
    BYTES_PATH,
    HELLO_PATH,
    HIT_OPTIONS,
    IMGPROXY_HIT_OPTIONS,
    SOURCE_KEY,
    img_url,
    imgproxy_url,
)
from bench.servers import Running, embedded_vylux, free_port, running, vylux_command
from tests.support.media import make_photo
from vylux_adapters.local import LocalDirObjectStore

# A smaller source than bench/img.py's 24 MP: the first render runs under valgrind, and
# a hit does not depend on the source, only on the rendition (about as many bytes).
WIDTH, HEIGHT = 1600, 1067
START_TIMEOUT = 600.0  # a Python server under valgrind starts in one to two minutes
WARMUP_REQUESTS = 50
DUMP_WAIT = 60.0


@frozen
class Count:
    label: str
    path: str
    instructions_per_request: float


def valgrind_prefix(out_dir: Path, name: str) -> list[str]:
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_dir / name}.%p.out",
    ]


def fetch(connection: http.client.HTTPConnection, path: str) -> int:
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}: {body[:200]!r}")
    return len(body)


def callgrind(pid: int, *args: str) -> None:
    subprocess.run(
        ["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=120
    )


def count(server: Running, out_dir: Path, name: str, label: str, path: str, requests: int) -> Count:
    """Instructions per request of ``path`` on ``server`` (a process under callgrind)."""
    address = urlsplit(server.base)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
    try:
        for _ in range(WARMUP_REQUESTS):
            fetch(connection, path)
        callgrind(server.pid, "--zero")
        callgrind(server.pid, "--instr=on")
        for _ in range(requests):
            fetch(connection, path)
        callgrind(server.pid, "--instr=off")
        dumped = set(out_dir.glob(f"{name}.{server.pid}.out.*"))
        callgrind(server.pid, "--dump")
        total = _dumped_total(out_dir, f"{name}.{server.pid}.out.*", dumped)
    finally:
        connection.close()
    return Count(label, path, total / requests)


def _dumped_total(out_dir: Path, pattern: str, before: set[Path]) -> int:
    """The ``totals:`` line of the dump file that appears after ``before``."""
    deadline = time.monotonic() + DUMP_WAIT
    while time.monotonic() < deadline:
        for candidate in set(out_dir.glob(pattern)) - before:
            for line in candidate.read_text(errors="replace").splitlines():
                if line.startswith("totals:"):
                    return int(line.split()[1])
        time.sleep(0.2)
    raise SystemExit(f"callgrind wrote no dump matching {pattern} in {out_dir}")


@contextmanager
def under_callgrind(
    vylux_dir: Path, hello_dir: Path, out_dir: Path
) -> Iterator[tuple[Running, Running]]:
    vylux_port, hello_port = free_port(), free_port()
    hello_command = [sys.executable, "-m", "bench.img", "--serve-hello", str(hello_port)]
    with (
        running(
            [*valgrind_prefix(out_dir, "vylux"), sys.executable, *vylux_command(vylux_port)],
            port=vylux_port, cwd=vylux_dir, log=vylux_dir / "log", start_timeout=START_TIMEOUT,
        ) as vylux,
        running(
            [*valgrind_prefix(out_dir, "hello"), *hello_command],
            port=hello_port, cwd=hello_dir, log=hello_dir / "log", start_timeout=START_TIMEOUT,
        ) as hello,
    ):  # fmt: skip
        yield vylux, hello


def run(requests: int, work: Path) -> list[Count]:
    vylux_dir, hello_dir, out_dir = work / "vylux", work / "hello", work / "callgrind"
    for directory in (vylux_dir, hello_dir, out_dir):
        directory.mkdir()
    embedded = embedded_vylux(vylux_dir)
    embedded.source_root.mkdir(parents=True, exist_ok=True)
    asyncio.run(
        LocalDirObjectStore(root=embedded.source_root).put_bytes(
            SOURCE_KEY, make_photo(WIDTH, HEIGHT), content_type="image/jpeg"
        )
    )
    print(f"starting both servers under callgrind (up to {START_TIMEOUT:.0f} s) …", flush=True)
    with under_callgrind(vylux_dir, hello_dir, out_dir) as (vylux, hello):
        img = urlsplit(img_url(vylux.base, embedded.signer, HIT_OPTIONS)).path
        imgproxy = urlsplit(
            imgproxy_url(
                vylux.base, embedded.imgproxy, embedded.imgproxy_prefix, IMGPROXY_HIT_OPTIONS
            )
        ).path
        address = urlsplit(vylux.base)
        first = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
        rendition_size = fetch(first, img)  # rendered once, a memory hit from now on
        fetch(first, imgproxy)
        first.close()
        same_size = BYTES_PATH.format(size=rendition_size)
        plan = [
            (hello, "hello", "hello world", HELLO_PATH),
            (hello, "hello", f"same-size bytes ({rendition_size} B)", same_size),
            (vylux, "vylux", "Vylux /healthz", "/healthz"),
            (vylux, "vylux", f"/img {HIT_OPTIONS} hit", img),
            (vylux, "vylux", f"imgproxy {IMGPROXY_HIT_OPTIONS} hit", imgproxy),
        ]
        counts = []
        for server, name, label, path in plan:
            counts.append(count(server, out_dir, name, label, path, requests))
            print(f"  {label}: {counts[-1].instructions_per_request:,.0f}", flush=True)
    return counts


def report(counts: list[Count], requests: int) -> None:
    hello = counts[0].instructions_per_request
    print(f"\ninstructions per request (callgrind, {requests} sequential keep-alive requests)")
    print(f"  {'':38} {'instructions':>14} {'hello ÷ this':>13}")
    for item in counts:
        ratio = hello / item.instructions_per_request
        print(f"  {item.label:38} {item.instructions_per_request:14,.0f} {ratio:13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="counted requests per URL")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory(prefix="vylux-bench-") as work:
        report(run(args.requests, Path(work)), args.requests)


if __name__ == "__main__":
    main()
