"""``vylux-cli serve`` (HTTP + in-process worker) on dependencies the test can take down.

The server runs as a child process on the production wiring, configured by environment
variables only: PostgreSQL (a database of its own on the shared cluster), a private Redis
and a private SeaweedFS, both restartable (``outage_services``). :class:`OutageStack` is
the client side: submitting jobs, probing the API during an outage with a hard timeout,
and waiting for every accepted job to finish.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import redis
from attrs import define, field, frozen

from tests.browser.harness import VyluxServer
from tests.reliability.outage_services import DatabaseSwitch, PrivateRedis, RestartableSeaweedfs
from tests.support.databases import POSTGRES_ADMIN_URL
from tests.support.deadlines import scaled
from tests.support.media import bundled_binaries, make_clip, make_still
from vylux_cli.config import Config, load_config
from vylux_cli.sign_commands import sign_image_url, sign_object_url

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SOURCE_BUCKET = "outage-source"
MEDIA_BUCKET = "outage-media"
PHOTO = "uploads/photo.jpg"
CLIP = "uploads/clip.mp4"
# A client gives up on a request after this long; every answer during an outage must
# come well before it (see PROBE_LATENCY_LIMIT in the tests).
CLIENT_TIMEOUT = 30.0
FINAL_STATUSES = ("completed", "failed")


@frozen
class Probe:
    """One request made while a dependency was down."""

    what: str
    status: int
    body: str
    seconds: float
    sent: Mapping[str, Any] | None = None  # the JSON body, for a client's retry


@define
class OutageStack:
    server: VyluxServer
    config: Config
    redis: PrivateRedis
    s3: RestartableSeaweedfs
    database: DatabaseSwitch
    client: httpx.Client
    accepted: dict[str, str] = field(factory=dict)  # job id -> media hash

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    @property
    def admin_s3(self) -> S3Client:
        assert self.s3.server is not None
        return self.s3.server.admin

    def server_alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None

    def fresh_rate_window(self) -> None:
        """Forget the ``jobs`` limiter's counters (30 submissions a minute per API key):
        the tests submit in bursts and are not about rate limiting."""
        with redis.Redis(host="127.0.0.1", port=self.redis.port, socket_timeout=2) as client:
            stale = list(client.scan_iter(match="ratelimit:jobs:*", count=500))
            if stale:
                client.delete(*stale)

    def post_job(self, body: Mapping[str, Any]) -> httpx.Response:
        response = self.client.post("/api/jobs", json=dict(body))
        if response.status_code in (200, 202):
            created = response.json()
            if created.get("job_id"):
                self.accepted[created["job_id"]] = body["hash"]
        return response

    def probe(self, what: str, method: str, url: str, **kwargs: Any) -> Probe:
        started = time.monotonic()
        response = self.client.request(method, url, **kwargs)
        if what == "submit" and response.status_code in (200, 202):
            self.accepted[response.json()["job_id"]] = kwargs["json"]["hash"]
        elapsed = time.monotonic() - started
        return Probe(what, response.status_code, response.text, elapsed, kwargs.get("json"))

    def image_url(self, width: int) -> str:
        return sign_image_url(self.config, PHOTO, f"w{width}", "webp", self.server.base_url)

    def original_url(self) -> str:
        return sign_object_url(self.config, "original", PHOTO, self.server.base_url)

    def wait_ready(self, within: float) -> float:
        """Seconds until ``/readyz`` answers 200; fails after ``scaled(within)``."""
        within = scaled(within)
        started = time.monotonic()
        last = ""
        while time.monotonic() - started < within:
            response = self.client.get("/readyz")
            if response.status_code == 200:
                return time.monotonic() - started
            last = f"{response.status_code} {response.text}"
            time.sleep(0.1)
        raise AssertionError(f"/readyz still not 200 after {within} s: {last}")

    def wait_all_final(self, job_ids: list[str], within: float) -> dict[str, dict[str, Any]]:
        """Every job's final record; fails naming the stragglers after ``within`` s.

        ``within`` is the whole deadline (the caller scales what depends on the machine).
        The last pass over the jobs comes after the deadline, so a job that finished just
        before it counts as finished and a straggler is reported as last seen.
        """
        final: dict[str, dict[str, Any]] = {}
        last_seen: dict[str, str] = {}
        deadline = time.monotonic() + within
        while True:
            for job_id in job_ids:
                if job_id in final:
                    continue
                response = self.client.get(f"/api/jobs/{job_id}")
                last_seen[job_id] = f"{response.status_code} {response.text}"
                if response.status_code == 200 and response.json()["status"] in FINAL_STATUSES:
                    final[job_id] = response.json()
            if len(final) == len(job_ids) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        stragglers = {job_id: last_seen[job_id] for job_id in job_ids if job_id not in final}
        assert not stragglers, f"not finished within {within:.0f} s: {stragglers}"
        return final

    def media_keys_missing(self, results: Any) -> list[str]:
        """Every ``key`` the results name that the media bucket does not hold."""
        missing = []
        for key in _keys_in(results):
            try:
                self.admin_s3.head_object(Bucket=MEDIA_BUCKET, Key=key)
            except self.admin_s3.exceptions.ClientError:
                missing.append(key)
        return missing

    def log_lines_since(self, offset: int) -> list[dict[str, Any]]:
        """The server's JSON log records written after byte ``offset``."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            raw = log.read().decode("utf-8", "replace")
        records = []
        for line in raw.splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def log_offset(self) -> int:
        return self.log_path.stat().st_size


def _keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "key" and isinstance(item, str):
                yield item
            else:
                yield from _keys_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys_in(item)


def make_sources(work: Path) -> dict[str, Path]:
    ffmpeg = bundled_binaries().ffmpeg
    return {
        PHOTO: make_still(ffmpeg, work / "photo.jpg", width=320, height=240),
        CLIP: make_clip(
            ffmpeg, work / "clip.mp4", width=160, height=90, seconds=2, fps=10, audio=False
        ),
    }


def service_env(
    *, database_url: str, redis: PrivateRedis, s3: RestartableSeaweedfs, fast: bool
) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "BASE_URL": "http://127.0.0.1",
        "WORKER_CONCURRENCY": "2",
        "LARGE_WORKER_CONCURRENCY": "1",
        "WORKER_METRICS_PORT": "0",
        "WORKER_SHUTDOWN_TIMEOUT": "5s",
        "SHUTDOWN_TIMEOUT": "5s",
        "LOG_FORMAT": "json",
    }
    if fast:
        # The production defaults (60 s / 30 s) are what the full run measures.
        env |= {"RECONCILE_INTERVAL": "1s", "RECONCILE_GRACE": "2s"}
    for role, bucket in (("SOURCE", SOURCE_BUCKET), ("MEDIA", MEDIA_BUCKET)):
        env |= {
            f"{role}_S3_ENDPOINT": s3.endpoint,
            f"{role}_S3_ACCESS_KEY": s3.access_key,
            f"{role}_S3_SECRET_KEY": s3.secret_key,
            f"{role}_S3_REGION": "us-east-1",
            f"{role}_BUCKET": bucket,
        }
    # The configuration refuses short secrets: 32 random bytes each, as hex.
    for name in ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY"):
        env[name] = secrets.token_hex(32)
    return env


def create_database() -> tuple[str, DatabaseSwitch]:
    """A fresh database on the shared cluster (migrated by the server at start-up)."""
    name = f"vylux_outage_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    return url, DatabaseSwitch(admin_url=POSTGRES_ADMIN_URL, database=name)


def drop_database(switch: DatabaseSwitch) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{switch.database}" WITH (FORCE)')


def start_server(work: Path, env: Mapping[str, str]) -> tuple[VyluxServer, Config]:
    server = VyluxServer(data_dir=work / "data", settings=env, workdir=work)
    server.start(ready_within=60.0)  # scaled by the harness
    return server, load_config(env)
