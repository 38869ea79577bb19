"""CLI start-up benchmark: what `vylux-cli --version`, `sign img` and `key-token` cost on
top of a bare interpreter.

    .venv/bin/python -m bench.cli_startup [--runs 7]

Each command runs ``--runs`` times as a subprocess (in a temporary directory, embedded
profile, so ``sign`` reads a real configuration) next to ``python -c pass``; the table
shows the median wall time of each and the difference. A second table shows the
cumulative import time ``python -X importtime`` reports for ``vylux_cli.main`` and for
what each command imports. Nothing is asserted (target: every difference <= 0.3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.3
CLI = str(Path(sys.executable).parent / "vylux-cli")
COMMANDS = {
    "--version": ["--version"],
    "sign img": ["sign", "img", "cat.png"],
    "key-token": ["key-token", "abc123", "--ttl", "1d"],
}
# The same commands, driven through click in-process, for -X importtime.
_IN_PROCESS = (
    "import sys; sys.argv = ['vylux-cli', *{args!r}]; from vylux_cli.main import cli; cli()"
)


def _median_wall(argv: list[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=os.environ, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _import_seconds(code: str, cwd: Path) -> float:
    """Sum of the top-level cumulative import times ``-X importtime`` reports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not name.startswith("  "):  # top level: its cumulative covers its children
            total += int(cumulative)
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        cwd = Path(directory)
        subprocess.run([CLI, "migrate"], cwd=cwd, capture_output=True, check=True)
        (cwd / "vylux-data" / "source" / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        bare = _median_wall([sys.executable, "-c", "pass"], cwd, args.runs)
        print(f"{'command':<12} {'median s':>9} {'- python -c pass':>17} {'ratio':>6}")
        print(f"{'python':<12} {bare:9.3f}")
        for label, command in COMMANDS.items():
            wall = _median_wall([CLI, *command], cwd, args.runs)
            verdict = "ok" if wall - bare <= TARGET_SECONDS else f"> {TARGET_SECONDS} s"
            print(f"{label:<12} {wall:9.3f} {wall - bare:17.3f} {wall / bare:6.1f}  {verdict}")
        print()
        print(f"{'imports of':<22} {'-X importtime s':>16}")
        print(f"{'vylux_cli.main':<22} {_import_seconds('import vylux_cli.main', cwd):16.3f}")
        for label, command in COMMANDS.items():
            code = _IN_PROCESS.format(args=command)
            print(f"{label:<22} {_import_seconds(code, cwd):16.3f}")


if __name__ == "__main__":
    main()
