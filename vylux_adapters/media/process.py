"""Running one media tool as a child process: argv only, bounded stderr, whole-group kill."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from vylux_adapters.media.packager_args import redact_args
from vylux_core.errors import MediaToolFailed, ProcessingFailed

logger = logging.getLogger(__name__)

STDERR_KEEP_BYTES: Final = 64 * 1024
ERROR_TAIL_CHARS: Final = 2000
# ffmpeg takes SIGTERM as "stop reading and flush": x264 exits at once, but SVT-AV1 drains
# its lookahead first, which takes seconds; a cancelled encode's output is thrown away, so
# waiting longer only delays the worker.
TERMINATE_GRACE_SECONDS: Final = 1.0
_READ_CHUNK: Final = 64 * 1024
# SVT-AV1 prints ~20 info lines per encode unless told otherwise (1 = errors only).
_TOOL_ENV: Final = {"SVT_LOG": "1"}

# Every ffmpeg child: no banner, never read the terminal, log errors only (the stderr tail is
# what a failure reports, so noise there would push the cause out of it).
# Sources are untrusted: a playlist or concat file posing as a video must not make
# FFmpeg open network URLs (SSRF) or other protocols; inputs are local files only.
FFMPEG_BASE_ARGS: Final = (
    "-hide_banner", "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file,pipe",
)  # fmt: skip

# Output options: copy no container/stream metadata (titles, GPS "location" tags,
# creation times) and write no "Lavc…" encoder comment into images.
NO_METADATA_ARGS: Final = ("-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact")

StdoutConsumer = Callable[[bytes], None]


async def run_tool(
    tool: str,
    argv: Sequence[str],
    *,
    on_stdout: StdoutConsumer | None = None,
    secrets: Sequence[str] = (),
    exit_error: type[ProcessingFailed] = MediaToolFailed,
) -> None:
    """Run ``argv`` (binary first) to completion; stdout chunks go to ``on_stdout``.

    A non-zero exit raises ``exit_error("<tool>: exit <code>: <stderr tail>")`` with the
    last ``ERROR_TAIL_CHARS`` of stderr; strings in ``secrets`` are masked there and in the
    DEBUG line that logs the (``redact_args``-redacted) argv. A child killed by a signal
    (negative code) is always ``MediaToolFailed``. On cancellation (which includes a
    caller's ``asyncio.timeout``) or a failing ``on_stdout`` the child's whole process
    group gets SIGTERM, then SIGKILL after ``TERMINATE_GRACE_SECONDS``, and the error
    propagates.
    """
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("running %s: %s", tool, _masked(shlex.join(redact_args(argv)), secrets))
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL if on_stdout is None else asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own session and process group, so a kill reaches anything it spawned.
            start_new_session=True,
            preexec_fn=_dies_with_this_process(),
            env=_environment(),
        )
    except OSError as exc:
        raise MediaToolFailed(f"{tool}: cannot start: {exc.strerror or exc}") from exc
    stderr = _Tail(STDERR_KEEP_BYTES)
    try:
        await _communicate(process, on_stdout, stderr)
    except BaseException as exc:
        await _stop(process)
        if isinstance(exc, BaseExceptionGroup):
            raise single_error(exc) from None
        raise
    code = process.returncode
    if code != 0:
        error = exit_error if code is not None and code > 0 else MediaToolFailed
        raise error(_failure_message(tool, code, stderr, secrets))


async def capture_tool(
    tool: str,
    argv: Sequence[str],
    *,
    limit: int,
    secrets: Sequence[str] = (),
    exit_error: type[ProcessingFailed] = MediaToolFailed,
) -> bytes:
    """``run_tool`` returning stdout; more than ``limit`` bytes stops the tool and fails."""
    captured = bytearray()

    def collect(chunk: bytes) -> None:
        if len(captured) + len(chunk) > limit:
            raise MediaToolFailed(f"{tool}: output exceeds {limit} bytes")
        captured.extend(chunk)

    await run_tool(tool, argv, on_stdout=collect, secrets=secrets, exit_error=exit_error)
    return bytes(captured)


def single_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first real failure inside a TaskGroup's exception group.

    Callers of the port expect one ``MediaToolFailed`` (or ``CancelledError``), not a
    group; sibling tasks that were merely cancelled because of it are skipped.
    """
    leaves: list[BaseException] = []

    def flatten(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                flatten(inner)
        else:
            leaves.append(error)

    flatten(group)
    real = [leaf for leaf in leaves if not isinstance(leaf, asyncio.CancelledError)]
    return (real or leaves or [group])[0]


async def _communicate(
    process: asyncio.subprocess.Process,
    on_stdout: StdoutConsumer | None,
    stderr: _Tail,
) -> None:
    async with asyncio.TaskGroup() as tasks:
        if on_stdout is not None and process.stdout is not None:
            tasks.create_task(_pump(process.stdout, on_stdout))
        if process.stderr is not None:
            tasks.create_task(_pump(process.stderr, stderr.append))
        tasks.create_task(process.wait())


async def _pump(stream: asyncio.StreamReader, consume: StdoutConsumer) -> None:
    while chunk := await stream.read(_READ_CHUNK):
        consume(chunk)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        async with asyncio.timeout(TERMINATE_GRACE_SECONDS):
            await process.wait()
    except TimeoutError:
        pass
    finally:
        # Also reached when cancelled again while waiting: never leave the group running.
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGKILL)
    await process.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pid, sig)  # pgid == pid: start_new_session made the child its leader


# <linux/prctl.h>
_PR_SET_PDEATHSIG: Final = 1


def _dies_with_this_process() -> Callable[[], None] | None:
    """On Linux, a function for the child (between fork and exec) that makes the kernel
    SIGKILL it when this process dies.

    A worker that is SIGKILLed (the OOM killer, a lost container) runs no cleanup; without
    this its encoders would run on to the end of their encode: minutes of CPU taken from
    the restarted worker, writing into a scratch directory that the restarted worker's
    start-up sweep is removing.
    The signal is tied to the thread that forks, which is the event loop's: it lives as
    long as the worker does.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it died before the line above took effect
            os._exit(1)

    return die_with_parent


def _environment() -> Mapping[str, str]:
    return {**os.environ, **_TOOL_ENV}


def _failure_message(tool: str, code: int | None, stderr: _Tail, secrets: Sequence[str]) -> str:
    # Mask before cutting, so a key straddling the cut cannot leak as a fragment.
    text = _masked(stderr.text(), secrets).strip()
    if len(text) > ERROR_TAIL_CHARS:
        text = "…" + text[-ERROR_TAIL_CHARS:]
    return f"{tool}: exit {code}: {text}" if text else f"{tool}: exit {code}"


def _masked(text: str, secrets: Sequence[str]) -> str:
    # Hex keys may be echoed in either case.
    for secret in filter(None, secrets):
        text = re.sub(re.escape(secret), "<redacted>", text, flags=re.IGNORECASE)
    return text


class _Tail:
    """The last ``keep`` bytes written, so a chatty tool cannot grow memory without bound."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._buffer = bytearray()

    def append(self, chunk: bytes) -> None:
        self._buffer += chunk
        if len(self._buffer) > self._keep:
            del self._buffer[: len(self._buffer) - self._keep]

    def text(self) -> str:
        return self._buffer.decode("utf-8", errors="replace")
