"""``vylux-cli jobs list`` and ``jobs cancel`` on the embedded profile (SQLite, the SQL
queue, local files), directly and through a running server (``--api``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli_operations import (
    API,
    data_dir,
    invoke,
    put_png,
    submit_thumbnail,
    worker,
)

__all__ = ["data_dir", "worker"]  # fixtures, used by name

API_ARGS = ["--api", "http://vylux.test"]


def listed(*args: str, obj: object = None) -> dict[str, Any]:
    result = invoke(["jobs", "list", "--json", *args], obj=obj)
    assert result.exit_code == 0, result.output
    # stdout alone: a warning (asyncio debug mode's slow-callback one) goes to stderr.
    page: dict[str, Any] = json.loads(result.stdout)
    return page


def ids(page: dict[str, Any]) -> list[str]:
    return [job["job_id"] for job in page["jobs"]]


@pytest.mark.parametrize("command", [["jobs", "list"], ["jobs", "cancel"]])
def test_the_commands_document_their_exit_codes(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert (result.exit_code, "Exit codes:" in result.output) == (0, True)


def test_list_pages_filters_and_cancel_directly(data_dir: Path) -> None:
    put_png(data_dir, "x.png")
    submitted = [submit_thumbnail(f"listhash{n}", "x.png") for n in range(3)]
    newest_first = submitted[::-1]

    everything = listed()
    first = listed("--limit", "2")
    rest = listed("--limit", "2", "--cursor", first["next_cursor"])
    walked = listed("--limit", "1", "--all")
    one_hash = listed("--hash", "listhash1")
    table = invoke(["jobs", "list", "--limit", "2"])

    assert (ids(everything), everything["next_cursor"]) == (newest_first, None)
    assert ids(first) + ids(rest) == newest_first
    assert rest["next_cursor"] is None
    assert (ids(walked), walked["next_cursor"]) == (newest_first, None)
    assert ids(one_hash) == [submitted[1]]
    assert everything["jobs"][0]["status"] == "queued"
    assert table.exit_code == 0
    assert submitted[2] in table.output
    assert submitted[0] not in table.output
    assert f"more: --cursor {first['next_cursor']}" in table.output

    cancelled = invoke(["jobs", "cancel", submitted[1]])
    again = invoke(["jobs", "cancel", submitted[1]])
    unknown = invoke(["jobs", "cancel", "no-such-job"])

    assert (cancelled.exit_code, again.exit_code) == (0, 0), cancelled.output + again.output
    assert f"job {submitted[1]} canceled" in cancelled.output
    assert f"job {submitted[1]} canceled" in again.output
    assert (unknown.exit_code, "job not found" in unknown.output) == (1, True)
    assert ids(listed("--status", "canceled")) == [submitted[1]]
    assert ids(listed("--status", "queued")) == [submitted[2], submitted[0]]


def test_bad_list_arguments_exit_2_with_the_parameter_named(data_dir: Path) -> None:
    bad_time = invoke(["jobs", "list", "--created-after", "yesterday"])
    bad_status = invoke(["jobs", "list", "--status", "done"])
    bad_limit = invoke(["jobs", "list", "--limit", "500"])
    bad_cursor = invoke(["jobs", "list", "--cursor", "nope"])

    assert (bad_time.exit_code, "invalid created_after 'yesterday'" in bad_time.output) == (
        2,
        True,
    )
    assert (bad_status.exit_code, "--status" in bad_status.output) == (2, True)
    assert (bad_limit.exit_code, "--limit" in bad_limit.output) == (2, True)
    assert (bad_cursor.exit_code, "invalid cursor" in bad_cursor.output) == (2, True)


def test_a_finished_job_cannot_be_cancelled(data_dir: Path, worker: Any) -> None:
    put_png(data_dir, "x.png")
    job_id = submit_thumbnail("donehash1", "x.png")
    worker([job_id]).join()

    result = invoke(["jobs", "cancel", job_id])

    assert (result.exit_code, "job already finished" in result.output) == (1, True)


def test_list_and_cancel_through_a_running_server(data_dir: Path) -> None:
    put_png(data_dir, "x.png")
    first = submit_thumbnail("apilist1", "x.png")
    second = submit_thumbnail("apilist2", "x.png")

    page = listed("--limit", "1", *API_ARGS, obj=API)
    walked = listed("--limit", "1", "--all", *API_ARGS, obj=API)
    cancelled = invoke(["jobs", "cancel", first, *API_ARGS], obj=API)
    finished_again = invoke(["jobs", "cancel", first, *API_ARGS], obj=API)
    unknown = invoke(["jobs", "cancel", "no-such-job", *API_ARGS], obj=API)
    bad = invoke(["jobs", "list", "--hash", "a/b", *API_ARGS], obj=API)

    assert ids(page) == [second]
    assert page["next_cursor"] is not None
    assert ids(walked) == [second, first]
    assert (cancelled.exit_code, f"job {first} canceled" in cancelled.output) == (0, True)
    assert finished_again.exit_code == 0
    assert (unknown.exit_code, "job not found" in unknown.output) == (1, True)
    assert (bad.exit_code, "invalid hash" in bad.output) == (2, True)
    assert ids(listed("--status", "canceled", *API_ARGS, obj=API)) == [first]
