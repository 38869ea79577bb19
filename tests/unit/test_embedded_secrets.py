"""Secrets of the embedded profile are generated once and kept private."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from vylux_cli.config import SECRET_MIN_BYTES, load_config
from vylux_cli.embedded_secrets import with_embedded_secrets


def test_generated_once_private_and_valid(tmp_path: Path) -> None:
    first, path = with_embedded_secrets({}, tmp_path)
    second, _ = with_embedded_secrets({}, tmp_path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert (first, mode) == (second, 0o600)
    assert {name: len(first[name]) for name in SECRET_MIN_BYTES} == {
        name: 2 * size for name, size in SECRET_MIN_BYTES.items()
    }
    assert load_config(first).secrets.api_key == first["API_KEY"]


def test_given_values_win_and_only_missing_ones_are_generated(tmp_path: Path) -> None:
    given = "ab" * 32
    merged, path = with_embedded_secrets({"API_KEY": given}, tmp_path)
    assert merged["API_KEY"] == given
    assert given not in path.read_text()
    assert "HMAC_SECRET=" in path.read_text()


def test_processes_starting_together_share_one_generation(tmp_path: Path) -> None:
    # serve and work (or two migrates) on a new data directory: one generates, the
    # others read its file; none fails on another's temporary file or keeps its own.
    data_dir = tmp_path / "data"
    barrier = threading.Barrier(8)
    results: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(with_embedded_secrets({}, data_dir)[0])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 8
    assert all(result == results[0] for result in results)
