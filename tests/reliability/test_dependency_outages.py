"""Dependency outages: Redis, then PostgreSQL, then S3 go down and come back while
``vylux-cli serve`` (HTTP + in-process worker, production wiring) takes jobs and runs them.

Each test submits a batch of cheap jobs (``image:thumbnail`` and ``video:cover`` of tiny
sources), takes one dependency down for ``OUTAGE_SECONDS`` while probing the API without
pause, brings it back and submits another batch. What it proves:

- during the outage every answer comes quickly (well under the client's timeout) and is
  never a 500: the job API answers 503 naming the dependency (``database unavailable``,
  ``storage unavailable``) or, with Redis down, still accepts jobs into the database;
  delivery routes answer 502 naming storage (spec); ``/readyz`` answers 503 naming the
  failing check;
- the worker backs off (a bounded number of "unavailable" log lines, no crash) and
  resumes: every job accepted before, during or after the outage completes afterwards,
  with every object its results name present in the media bucket — including the jobs
  the restarted, empty Redis lost, which only the reconciler can bring back;
- a request refused with 503 and sent again after recovery is accepted and completes.

CI runs short outages (``OUTAGE_SECONDS`` = 4). ``VYLUX_RELIABILITY_FULL=1`` runs the
issue's 30 s outages with more jobs and the production reconciler timings (60 s / 30 s).
Figures are printed per outage (``pytest -s``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from attrs import frozen

from tests.reliability.outage_services import (
    PrivateRedis,
    RestartableSeaweedfs,
    ServiceFailed,
)
from tests.reliability.outage_stack import (
    CLIENT_TIMEOUT,
    CLIP,
    MEDIA_BUCKET,
    PHOTO,
    SOURCE_BUCKET,
    OutageStack,
    Probe,
    create_database,
    drop_database,
    make_sources,
    service_env,
    start_server,
)
from tests.support.deadlines import scaled
from tests.support.seaweedfs import SeaweedfsUnavailable
from tests.support.services import service_unavailable

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.s3,
]

FULL = os.environ.get("VYLUX_RELIABILITY_FULL", "").strip() == "1"
OUTAGE_SECONDS = 30.0 if FULL else 4.0
BATCH = 12 if FULL else 4
# An outage must be answered, not waited out: every answer comes well before the client
# gives up (CLIENT_TIMEOUT). Scaled like any deadline; it is a hang bound, not a latency
# target (bench/ measures latency).
PROBE_LATENCY_LIMIT = min(scaled(3.0), CLIENT_TIMEOUT / 2)
READY_WITHIN = 20.0  # idle-machine seconds; wait_ready scales it
# After recovery a job waits for the reconciler (interval + grace) or for the retry of an
# attempt that failed during the outage: 10-15 s, and 20-30 s more if that retry came
# before the restarted service took writes. Those waits are the product's own and do not
# scale; the jobs themselves, on a busy machine, do.
RECOVERY_WAITS = 60.0 + 30.0 + 30.0 if FULL else 15.0 + 30.0
RECOVERY_LIMIT = RECOVERY_WAITS + scaled(30.0)
# Rounds come every ~0.2–0.5 s; submissions only every few rounds, so that a 30 s outage
# stays under the jobs limiter's 30 submissions a minute.
SUBMIT_EVERY = 8 if FULL else 3
# The worker's pools back off 1 s after a failed dequeue; two pools, plus slack.
BACKOFF_LINES_PER_SECOND = 2 * 1.5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageStack]:
    work = tmp_path_factory.mktemp("outages")
    sources = make_sources(work)
    try:
        database_url, database = create_database()
    except psycopg.OperationalError as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    redis = PrivateRedis(work_dir=work / "redis")
    s3 = RestartableSeaweedfs(work_dir=work / "seaweedfs")
    server = None
    try:
        try:
            redis.start()
        except ServiceFailed as exc:
            service_unavailable("Redis (private redis-server)", str(exc))
        try:
            admin = s3.start().admin
        except SeaweedfsUnavailable as exc:
            service_unavailable("SeaweedFS S3", str(exc))
        for bucket in (SOURCE_BUCKET, MEDIA_BUCKET):
            admin.create_bucket(Bucket=bucket)
        for key, path in sources.items():
            admin.upload_file(str(path), SOURCE_BUCKET, key)
        env = service_env(database_url=database_url, redis=redis, s3=s3, fast=not FULL)
        server, config = start_server(work, env)
        with httpx.Client(
            base_url=server.base_url,
            headers={"X-API-Key": config.secrets.api_key},
            timeout=CLIENT_TIMEOUT,
        ) as client:
            yield OutageStack(
                server=server, config=config, redis=redis, s3=s3, database=database,
                client=client,
            )  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        s3.stop()
        redis.stop()
        database.allow_connections()
        drop_database(database)


def job_body(name: str, index: int) -> dict[str, Any]:
    if index % 2:
        return {"type": "video:cover", "hash": f"{name}-{index}", "source": CLIP}
    return {
        "type": "image:thumbnail",
        "hash": f"{name}-{index}",
        "source": PHOTO,
        "options": {"outputs": [{"variant": "small", "width": 64, "height": 48}]},
    }


def submit_batch(stack: OutageStack, name: str) -> list[str]:
    stack.fresh_rate_window()
    ids = []
    for index in range(BATCH):
        response = stack.post_job(job_body(name, index))
        assert response.status_code == 202, response.text
        ids.append(response.json()["job_id"])
    return ids


@frozen(kw_only=True)
class OutageRun:
    probes: list[Probe]
    outage_log: list[dict[str, Any]]  # the server's log records while it was down
    log: list[dict[str, Any]]  # ... from the outage to the end of the recovery


ProbeRound = Callable[[OutageStack, str, bool], list[Probe]]
"""One round of requests during an outage; the flag says whether to submit jobs too."""


def run_outage(
    stack: OutageStack,
    name: str,
    *,
    take_down: Callable[[], object],
    bring_back: Callable[[], object],
    probe_round: ProbeRound,
) -> OutageRun:
    """Before-batch, outage with probes, recovery, after-batch; every job must complete."""
    submit_batch(stack, f"{name}-before")
    offset = stack.log_offset()
    stack.fresh_rate_window()
    take_down()
    down_at = time.monotonic()
    probes: list[Probe] = []
    rounds = 0
    while time.monotonic() - down_at < OUTAGE_SECONDS:
        probes += probe_round(stack, f"{name}-during-{rounds}", rounds % SUBMIT_EVERY == 0)
        rounds += 1
        time.sleep(0.2)
    outage_log = stack.log_lines_since(offset)
    bring_back()
    restored_at = time.monotonic()
    ready_after = stack.wait_ready(READY_WITHIN)
    submit_batch(stack, f"{name}-after")
    # The client's retry of what was refused: accepted now, and it must complete too.
    stack.fresh_rate_window()
    refused = [p.sent for p in probes if p.what == "submit" and p.status == 503]
    for body in refused[:BATCH]:
        assert body is not None
        response = stack.post_job(body)
        assert response.status_code in (200, 202), response.text

    final = stack.wait_all_final(list(stack.accepted), RECOVERY_LIMIT)
    recovered_after = time.monotonic() - restored_at
    failed = {
        job_id: job.get("error") for job_id, job in final.items() if job["status"] != "completed"
    }
    assert not failed, failed
    missing = {
        job_id: keys
        for job_id, job in final.items()
        if (keys := stack.media_keys_missing(job["results"]))
    }
    assert not missing, missing
    assert stack.server_alive(), "vylux-cli serve died during the outage"
    unhandled = [r for r in stack.log_lines_since(offset) if "unhandled error" in str(r)]
    assert not unhandled, unhandled[:3]
    statuses = Counter(f"{p.what}:{p.status}" for p in probes)
    print(
        f"\n[outage {name}] {OUTAGE_SECONDS:.0f} s down, {len(probes)} requests "
        f"{dict(statuses)}, slowest {max(p.seconds for p in probes):.3f} s; "
        f"/readyz 200 {ready_after:.1f} s after restore; {len(final)} jobs all completed "
        f"{recovered_after:.1f} s after restore"
    )
    stack.accepted.clear()
    return OutageRun(probes=probes, outage_log=outage_log, log=stack.log_lines_since(offset))


def check_probes(probes: list[Probe], expected: dict[str, tuple[int, str]]) -> None:
    """Every probe answered fast, never 500, with the expected status and message."""
    assert probes, "no request was made during the outage"
    slow = [p for p in probes if p.seconds > PROBE_LATENCY_LIMIT]
    assert not slow, slow[:3]
    wrong = [
        p for p in probes if p.status != expected[p.what][0] or expected[p.what][1] not in p.body
    ]
    assert not wrong, wrong[:5]
    assert {p.what for p in probes} == set(expected)


def lines_about(records: list[dict[str, Any]], text: str) -> int:
    return sum(1 for record in records if text in str(record.get("message")))


# --- Redis -----------------------------------------------------------------------------------


def job_api_round(stack: OutageStack, name: str, submit: bool) -> list[Probe]:
    some_job = next(iter(stack.accepted))
    probes = [
        stack.probe("readyz", "GET", "/readyz"),
        stack.probe("status", "GET", f"/api/jobs/{some_job}"),
    ]
    if submit:
        probes.append(stack.probe("submit", "POST", "/api/jobs", json=job_body(name, 0)))
    return probes


def test_redis_killed_and_restarted_empty(stack: OutageStack) -> None:
    run = run_outage(
        stack, "redis", take_down=stack.redis.stop, bring_back=stack.redis.start,
        probe_round=job_api_round,
    )  # fmt: skip
    # Redis holds only the queue: the database takes the job, the reconciler enqueues it.
    check_probes(
        run.probes,
        {
            "submit": (202, '"status":"queued"'),
            "readyz": (503, "not ready: queue"),
            "status": (200, '"job_id"'),
        },
    )
    backoff_lines = lines_about(run.outage_log, "queue unavailable")
    assert 0 < backoff_lines <= BACKOFF_LINES_PER_SECOND * (OUTAGE_SECONDS + 2), backoff_lines
    # Nothing but the reconciler enqueues what was accepted while Redis was down (and
    # what the restarted, empty Redis lost): the jobs completing proves it did.
    accepted_during = sum(1 for p in run.probes if p.what == "submit")
    assert lines_about(run.log, "re-enqueued job") >= accepted_during


# --- PostgreSQL ------------------------------------------------------------------------------


def test_database_refusing_connections(stack: OutageStack) -> None:
    run = run_outage(
        stack, "postgres", take_down=stack.database.refuse_connections,
        bring_back=stack.database.allow_connections, probe_round=job_api_round,
    )  # fmt: skip
    check_probes(
        run.probes,
        {
            "submit": (503, '{"message":"database unavailable"}'),
            "readyz": (503, "not ready: database"),
            "status": (503, '{"message":"database unavailable"}'),
        },
    )


# --- S3 --------------------------------------------------------------------------------------


def storage_round(stack: OutageStack, name: str, submit: bool) -> list[Probe]:
    width = 100 + int(time.monotonic() * 10) % 500  # a new rendition: no memory hit
    probes = [
        stack.probe("readyz", "GET", "/readyz"),
        stack.probe("original", "GET", stack.original_url()),
        stack.probe("img", "GET", stack.image_url(width)),
    ]
    if submit:
        transcode = {"type": "video:transcode", "hash": f"{name}-t", "source": CLIP}
        probes.append(stack.probe("submit", "POST", "/api/jobs", json=job_body(name, 0)))
        probes.append(stack.probe("submit-preflighted", "POST", "/api/jobs", json=transcode))
    return probes


def test_s3_server_stopped_and_restarted(stack: OutageStack) -> None:
    run = run_outage(
        stack, "s3", take_down=stack.s3.stop, bring_back=stack.s3.start,
        probe_round=storage_round,
    )  # fmt: skip
    check_probes(
        run.probes,
        {
            # Thumbnails and covers need no source check at submission: accepted.
            "submit": (202, '"status":"queued"'),
            # Transcodes are routed by source size, so they need S3 to be accepted.
            "submit-preflighted": (503, '{"message":"storage unavailable"}'),
            "readyz": (503, "not ready: source storage"),
            "original": (502, '{"message":"storage unavailable"}'),
            "img": (502, '{"message":"source storage unavailable"}'),
        },
    )
