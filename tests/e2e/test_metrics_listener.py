"""``vylux-cli serve`` with METRICS_PORT: /metrics leaves the API port for its own listener."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx

from tests.e2e.test_cli import _cli_path, _free_port, _wait_for


def test_serve_moves_metrics_to_metrics_port(tmp_path: Path) -> None:
    port, metrics_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [_cli_path(), "serve", "--no-worker", "--port", str(port)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "METRICS_PORT": str(metrics_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", process) == "OK"
        assert _wait_for(f"http://127.0.0.1:{metrics_port}/healthz", process) == "OK"
        on_api = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        on_listener = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        elsewhere = httpx.get(f"http://127.0.0.1:{metrics_port}/api/jobs/x", timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert on_api.status_code == 404
    assert on_listener.status_code == 200
    # The same registry as the API's: its request to /metrics was counted there.
    assert 'vylux_http_requests_total{method="GET",route="/metrics",status="404"}' in (
        on_listener.text
    )
    assert elsewhere.status_code == 404
