"""The dashboard in headless Chromium against a real ``vylux-cli serve`` (embedded profile,
in-process worker): log in with the API key, watch a submitted job complete, cancel a
running one and retry it, and see that the page holds nothing without the key.

Chromium is Debian's own (``/usr/bin/chromium``), driven by Playwright for Python; no
browser is ever downloaded. Every wait is on a condition with a generous deadline.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.harness import VyluxServer, find_chromium
from tests.support.services import service_unavailable
from vylux_adapters.http.dashboard import CONTENT_SECURITY_POLICY
from vylux_adapters.media import MediaBinaries

pytestmark = [pytest.mark.browser, pytest.mark.slow]

API_KEY = "22" * 32
SETTINGS = {
    "HMAC_SECRET": "11" * 32,
    "API_KEY": API_KEY,
    "WEBHOOK_SECRET": "33" * 32,
    "KEY_TOKEN_SECRET": "44" * 16,
    "ENCRYPTION_KEY": "55" * 32,
    "SHUTDOWN_TIMEOUT": "5s",
    "WORKER_SHUTDOWN_TIMEOUT": "5s",
}
SHORT_SOURCE = "uploads/dashboard-short.mp4"
LONG_SOURCE = "uploads/dashboard-long.mp4"
NOT_VIDEO_SOURCE = "uploads/dashboard-not-video.mp4"
# A busy 2-core machine: jobs and page updates get tens of seconds.
JOB_TIMEOUT_MS = 180_000
UI_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def vylux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VyluxServer]:
    workdir = tmp_path_factory.mktemp("dashboard")
    data_dir = workdir / "data"
    clips = {
        SHORT_SOURCE: make_clip(workdir / "short.mp4", seconds=2),
        # Long enough to still be running when the test clicks Cancel.
        LONG_SOURCE: make_clip(workdir / "long.mp4", seconds=60),
    }
    not_video = workdir / "not-video.mp4"
    not_video.write_bytes(b"this is not a video\n" * 10)
    clips[NOT_VIDEO_SOURCE] = not_video
    asyncio.run(put_sources(data_dir / "source", clips))
    server = VyluxServer(data_dir=data_dir, settings=SETTINGS, workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = find_chromium()
    if chromium is None:
        service_unavailable("Chromium", "no chromium on PATH (.ci/run: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield opened
    finally:
        context.close()


def make_clip(path: Path, *, seconds: int) -> Path:
    ffmpeg = MediaBinaries.resolve().ffmpeg
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return path


async def put_sources(root: Path, clips: dict[str, Path]) -> None:
    from vylux_adapters.local import LocalDirObjectStore

    root.mkdir(parents=True, exist_ok=True)
    store = LocalDirObjectStore(root=root)
    for key, clip in clips.items():
        await store.put_bytes(key, clip.read_bytes(), content_type="video/mp4")


def submit(vylux: VyluxServer, body: dict[str, object]) -> str:
    response = httpx.post(
        f"{vylux.base_url}/api/jobs", json=body, headers={"X-API-Key": API_KEY}, timeout=30.0
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def log_in(page: Page, vylux: VyluxServer, key: str = API_KEY) -> None:
    page.goto(f"{vylux.base_url}/dashboard")
    page.fill("#api-key", key)
    page.click("#login-form button[type=submit]")


def test_the_page_holds_no_data_and_forbids_foreign_code(vylux: VyluxServer) -> None:
    response = httpx.get(f"{vylux.base_url}/dashboard", timeout=30.0)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "job-rows" in response.text
    assert httpx.get(f"{vylux.base_url}/dashboard/static/x.js", timeout=30.0).status_code == 404


def test_the_queue_views_need_the_key(vylux: VyluxServer) -> None:
    url = f"{vylux.base_url}/dashboard/api/queues"
    assert httpx.get(url, timeout=30.0).status_code == 401
    answer = httpx.get(url, headers={"X-API-Key": API_KEY}, timeout=30.0)
    assert answer.status_code == 200
    assert isinstance(answer.json()["queues"], list)
    assert set(answer.json()["finished"]) == {"completed", "failed", "canceled"}
    requeue = httpx.post(
        f"{vylux.base_url}/dashboard/api/archived/nosuchtask/requeue", timeout=30.0
    )
    assert requeue.status_code == 401
    refused = httpx.post(
        f"{vylux.base_url}/dashboard/api/archived/nosuchtask/requeue",
        headers={"X-API-Key": API_KEY},
        timeout=30.0,
    )
    assert (refused.status_code, refused.json()) == (
        409,
        {"message": "the queue holds no such task"},
    )


def test_a_wrong_key_is_refused(vylux: VyluxServer, page: Page) -> None:
    log_in(page, vylux, key="not-the-key")
    expect(page.locator("#login-error")).to_contain_text("Login failed")
    expect(page.locator("#jobs")).to_be_hidden()


def test_a_submitted_job_progresses_to_completed(
    vylux: VyluxServer, page: Page, tmp_path: Path
) -> None:
    log_in(page, vylux)
    expect(page.locator("#jobs")).to_be_visible()
    job_id = submit(vylux, {"type": "video:cover", "hash": "dashcover01", "source": SHORT_SOURCE})
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    row.locator("button.link").click()
    expect(page.locator("#detail-json")).to_contain_text('"results"')
    # The queue view lists the queue the job went through, with its depth per state.
    pending = page.locator("#queue-rows td[data-state=pending]")
    expect(pending.first).to_have_text(re.compile(r"^\d+$"))
    # Throughput comes from the job rows: this job counts among the last hour's.
    expect(page.locator("#throughput")).to_have_text(
        re.compile(r"^Finished in the last hour: [1-9]\d* completed, \d+ failed, \d+ canceled$"),
        timeout=JOB_TIMEOUT_MS,
    )
    finished = page.locator("#queue-rows td[data-state=finished]")
    expect(finished.first).to_have_text(re.compile(r"^\d+ / \d+ / \d+$"))
    page.screenshot(path=str(tmp_path / "dashboard.png"))


def test_cancel_a_running_job(vylux: VyluxServer, page: Page) -> None:
    log_in(page, vylux)
    job_id = submit(
        vylux, {"type": "video:transcode", "hash": "dashcancel01", "source": LONG_SOURCE}
    )
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    row.locator("button.action-cancel").click()
    expect(row).to_have_attribute("data-status", "canceled")
    expect(page.locator("#jobs-error")).to_have_text("")
    # Canceled on purpose: the API retries failed jobs only, so no Retry is offered.
    expect(row.locator("button")).to_have_count(1)  # the job id's detail button only


def test_retry_a_failed_job(vylux: VyluxServer, page: Page) -> None:
    log_in(page, vylux)
    job_id = submit(
        vylux, {"type": "video:cover", "hash": "dashfailed01", "source": NOT_VIDEO_SOURCE}
    )
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_have_attribute("data-status", "failed", timeout=JOB_TIMEOUT_MS)
    row.locator("button.link").click()
    expect(page.locator("#detail-json")).to_contain_text('"error"')
    row.locator("button.action-retry").click()
    expect(page.locator("#jobs-error")).to_have_text("")
    retries = page.locator("tr[data-job-id]").filter(
        has=page.locator("td", has_text="dashfailed01")
    )
    expect(retries).to_have_count(2)


def test_requeue_and_delete_archived_tasks(vylux: VyluxServer, page: Page) -> None:
    log_in(page, vylux)
    body = {"type": "video:cover", "source": NOT_VIDEO_SOURCE}
    requeue_id = submit(vylux, {**body, "hash": "dasharchive01"})
    delete_id = submit(vylux, {**body, "hash": "dasharchive02"})
    to_requeue = page.locator(f'#archived-rows tr[data-task-id="{requeue_id}"]')
    to_delete = page.locator(f'#archived-rows tr[data-task-id="{delete_id}"]')
    expect(to_requeue).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(to_delete).to_be_visible(timeout=JOB_TIMEOUT_MS)

    # The failed job runs again as a new job (as `vylux-cli queue archived --requeue`).
    to_requeue.locator("button.action-requeue").click()
    expect(to_requeue).to_have_count(0)
    expect(page.locator("#jobs-error")).to_have_text("")
    jobs = page.locator("#job-rows tr").filter(has=page.locator("td", has_text="dasharchive01"))
    expect(jobs).to_have_count(2)

    to_delete.locator("button.action-delete").click()
    expect(to_delete).to_have_count(0)
    expect(page.locator("#jobs-error")).to_have_text("")
    listed = httpx.get(
        f"{vylux.base_url}/dashboard/api/archived", headers={"X-API-Key": API_KEY}, timeout=30.0
    ).json()["tasks"]
    assert delete_id not in {task["task_id"] for task in listed}


def test_the_media_view_plays_a_stream_and_shows_its_cover(
    vylux: VyluxServer, page: Page, tmp_path: Path
) -> None:
    log_in(page, vylux)
    cover = submit(vylux, {"type": "video:cover", "hash": "dashmedia01", "source": SHORT_SOURCE})
    stream = submit(
        vylux, {"type": "video:transcode", "hash": "dashmedia01", "source": SHORT_SOURCE}
    )
    for job_id in (cover, stream):
        row = page.locator(f'tr[data-job-id="{job_id}"]')
        expect(row).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)

    page.locator(f'tr[data-job-id="{cover}"] button.link').click()
    picture = page.locator("#images img")
    expect(picture).to_have_count(1)
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") > 0

    page.locator(f'tr[data-job-id="{stream}"] button.link').click()
    expect(page.locator("#player")).to_have_attribute("data-state", "playing", timeout=60_000)
    page.screenshot(path=str(tmp_path / "media.png"))
