"""Hostile HTTP/1.1 connections against a real ``vylux-cli serve`` (hypercorn + h11),
spoken to over raw sockets, since an HTTP client would not send these bytes:

* request smuggling: ``Content-Length`` together with ``Transfer-Encoding``, and header
  lines ended by a bare LF, are refused with 400 and the connection is closed, so a
  request hidden in the body is never answered (vylux_adapters/http/strict_h11.py);
* a client that goes away mid-body is a 499 in the metrics and one INFO line, no
  traceback (middleware/body_limit.py);
* a body that trickles in is cut off after ``BODY_READ_TIMEOUT`` with 408 and the
  connection is closed.

One server serves the module, with ``BODY_READ_TIMEOUT=1s``, in the embedded profile.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypercorn.protocol
import pytest
from attrs import frozen

from bench.servers import stop
from vylux_adapters.http import strict_h11

pytestmark = [pytest.mark.reliability]

DEADLINE = 60.0  # seconds; generous for a busy machine, never reached when things work
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: vylux.test\r\n\r\n"


@frozen
class Server:
    port: int
    api_key: str
    log: Path

    def entries(self) -> list[dict[str, Any]]:
        return [
            json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")
        ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("serve")
    port = _free_port()
    api_key = secrets.token_hex(32)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(work), "VYLUX_DATA_DIR": str(work / "data"),
        "API_KEY": api_key, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
        "BODY_READ_TIMEOUT": "1s",
    }  # fmt: skip
    log = work / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "vylux-cli"), "serve", "--no-worker",
             "--port", str(port)],
            cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_healthy(port, process, log)
        yield Server(port=port, api_key=api_key, log=log)
    finally:
        stop(process, grace=DEADLINE)


# --- request smuggling ---------------------------------------------------------------------------


def test_content_length_with_transfer_encoding_is_400_and_closed(server: Server) -> None:
    # Chunked framing ends the body at "0\r\n\r\n"; Content-Length would take it all in.
    body = b"0\r\n\r\n" + SMUGGLED
    request = (
        b"POST /api/jobs HTTP/1.1\r\nHost: vylux.test\r\nContent-Type: application/json\r\n"
        b"X-API-Key: " + server.api_key.encode() + b"\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)
    ) + body
    answer = _exchange(server, request)
    assert _statuses(answer) == [400], answer  # the smuggled GET is not answered
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert answer.endswith(b"request has both Content-Length and Transfer-Encoding\n")


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GET /healthz HTTP/1.1\nHost: vylux.test\n\n", id="all-bare-lf"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: vylux.test\n\r\n", id="one-bare-lf"),
        pytest.param(b"GET /healthz HTTP/1.1\nHost: vylux.test\r\n\r\n", id="request-line"),
    ],
)
def test_bare_lf_header_lines_are_400_and_closed(server: Server, request_bytes: bytes) -> None:
    answer = _exchange(server, request_bytes + SMUGGLED)
    assert _statuses(answer) == [400], answer
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert answer.endswith(b"bare LF line ending in the request header block (use CRLF)\n")


def test_a_pipelined_bare_lf_request_is_refused_after_the_good_one(server: Server) -> None:
    good = b"GET /healthz HTTP/1.1\r\nHost: vylux.test\r\n\r\n"
    answer = _exchange(server, good + b"GET /healthz HTTP/1.1\nHost: vylux.test\n\n" + SMUGGLED)
    assert _statuses(answer) == [200, 400], answer


def test_keep_alive_and_bodies_with_lf_still_work(server: Server) -> None:
    """The checks look at header blocks only: a JSON body full of bare LFs is fine,
    and a well-framed connection stays open for the next request."""
    body = b'{\n"type": "image:thumbnail",\n"hash": "x"\n}'
    post = (
        b"POST /api/jobs HTTP/1.1\r\nHost: vylux.test\r\nContent-Type: application/json\r\n"
        b"X-API-Key: " + server.api_key.encode() + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    last = b"GET /healthz HTTP/1.1\r\nHost: vylux.test\r\nConnection: close\r\n\r\n"
    answer = _exchange(server, post + SMUGGLED + last)
    # 400 from the job validation (the body is JSON, the job is not), then two 200s.
    assert _statuses(answer) == [400, 200, 200], answer
    assert b"bare LF" not in answer


def test_install_finds_hypercorns_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins the private hooks strict_h11 relies on: a hypercorn or h11 without them
    fails here (and ``install`` refuses to start the server)."""
    # Restored afterwards: only `vylux-cli` installs it for the whole process.
    monkeypatch.setattr(hypercorn.protocol, "H11Protocol", hypercorn.protocol.H11Protocol)
    strict_h11.install()
    strict_h11.install()  # idempotent
    assert hypercorn.protocol.H11Protocol is strict_h11.StrictH11Protocol


# --- bodies --------------------------------------------------------------------------------------


def test_a_client_gone_mid_body_is_499_at_info_without_traceback(server: Server) -> None:
    request_id = secrets.token_hex(16)
    head = (
        b"POST /api/jobs HTTP/1.1\r\nHost: vylux.test\r\nContent-Type: application/json\r\n"
        b"X-API-Key: " + server.api_key.encode() + b"\r\n"
        b"X-Request-Id: " + request_id.encode() + b"\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(head + b'{"type": "image:thum')

    deadline = time.monotonic() + DEADLINE
    while _count(server, 'method="POST",route="/api/jobs",status="499"') < 1:
        assert time.monotonic() < deadline, "no 499 counted"
        time.sleep(0.2)
    assert _count(server, 'status="500"') == 0
    lines = [entry for entry in server.entries() if request_id in entry["message"]]
    assert [entry["level"] for entry in lines] == ["INFO"], lines
    assert "client closed the connection" in lines[0]["message"]
    assert "exc" not in lines[0]
    assert not [entry for entry in server.entries() if entry["level"] == "ERROR"]


def test_a_trickling_body_is_408_and_closed_after_the_read_timeout(server: Server) -> None:
    head = (
        b"POST /api/jobs HTTP/1.1\r\nHost: vylux.test\r\nContent-Type: application/json\r\n"
        b"X-API-Key: " + server.api_key.encode() + b"\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(head + b"{")
        # Then nothing: the answer comes after BODY_READ_TIMEOUT (1 s), the close with it.
        answer = _read_until_closed(sock)
    assert _statuses(answer) == [408], answer
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert answer.endswith(b'{"message":"request body not received in time"}')
    assert _count(server, 'method="POST",route="/api/jobs",status="408"') >= 1


# --- helpers -------------------------------------------------------------------------------------


def _exchange(server: Server, data: bytes) -> bytes:
    """Send ``data`` at once; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(data)
        return _read_until_closed(sock)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything until the server closes; a connection still open after DEADLINE fails."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _statuses(answer: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def _count(server: Server, labels: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=DEADLINE).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vylux_http_requests_total{") and labels in line
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not healthy within {DEADLINE:.0f} s:\n{log.read_text()}")
