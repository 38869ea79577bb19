"""WebhookOutbox contract: entries come from JobStore.complete/fail and leave once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest

from tests.support.databases import database_url_for, emptied_engine
from tests.support.results import image_artifact
from vylux_adapters.memory import ManualClock, MemoryJobStore, MemoryWebhookOutbox
from vylux_adapters.sql import SqlJobStore
from vylux_adapters.sql.webhook_outbox import SqlWebhookOutbox
from vylux_core.errors import IllegalTransition
from vylux_core.jobs.job import CallbackStatus, JobStatus, JobType, NewJob
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.webhook_outbox import WebhookOutbox
from vylux_core.webhooks.message import WebhookMessage, final_outcome_message


@attrs.frozen
class Pair:
    jobs: JobStore
    outbox: WebhookOutbox


PairFactory = Callable[[ManualClock, pytest.FixtureRequest], AbstractAsyncContextManager[Pair]]


@asynccontextmanager
async def memory_pair(clock: ManualClock, _request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    outbox = MemoryWebhookOutbox()
    yield Pair(MemoryJobStore(clock=clock, outbox=outbox), outbox)


def sql_pair(dialect: str) -> PairFactory:
    @asynccontextmanager
    async def factory(clock: ManualClock, request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
        async with emptied_engine(database_url_for(request, dialect)) as engine:
            yield Pair(
                SqlJobStore(engine=engine, clock=clock),
                SqlWebhookOutbox(engine=engine, clock=clock),
            )

    return factory


@pytest.fixture(
    params=[
        pytest.param(memory_pair, id="memory"),
        pytest.param(sql_pair("sqlite"), id="sqlite"),
        pytest.param(sql_pair("postgres"), id="postgres", marks=pytest.mark.postgres),
    ]
)
async def pair(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[Pair]:
    factory: PairFactory = request.param
    async with factory(clock, request) as created:
        yield created


async def finished_job(pair: Pair, job_id: str, *, fail: bool = False) -> WebhookMessage:
    created = await pair.jobs.create(
        NewJob(
            id=job_id, type=JobType.COVER, hash="h1", source="a.mp4", options={},
            request_fingerprint=f"fp-{job_id}", callback_url="https://example.com/hook",
        )
    )  # fmt: skip
    await pair.jobs.mark_processing(job_id)
    status = JobStatus.FAILED if fail else JobStatus.COMPLETED
    message = final_outcome_message(created.job, status, error="boom" if fail else None)
    assert message is not None
    if fail:
        await pair.jobs.fail(job_id, "boom", webhook=message)
    else:
        await pair.jobs.complete(job_id, image_artifact(), webhook=message)
    return message


async def test_final_outcome_enters_the_outbox_with_its_status(
    pair: Pair, clock: ManualClock
) -> None:
    completed = await finished_job(pair, "job-1")
    failed = await finished_job(pair, "job-2", fail=True)

    due = await pair.outbox.due(clock.now(), 10)

    assert [entry.message for entry in due] == [completed, failed]
    assert {entry.attempts for entry in due} == {0}
    assert due[0].created_at == clock.now()


async def test_sent_entries_leave_the_outbox(pair: Pair, clock: ManualClock) -> None:
    message = await finished_job(pair, "job-1")

    await pair.outbox.mark_sent(message.id)
    await pair.outbox.mark_sent(message.id)  # idempotent

    assert await pair.outbox.due(clock.now() + timedelta(days=2), 10) == []


async def test_finishing_an_entry_sets_its_jobs_callback_status(
    pair: Pair, clock: ManualClock
) -> None:
    """In the same write: a crash between two writes would leave a delivered webhook's
    job ``pending`` for good."""
    sent = await finished_job(pair, "job-1")
    given_up = await finished_job(pair, "job-2", fail=True)
    assert (await pair.jobs.get("job-1")).callback_status is CallbackStatus.PENDING

    await pair.outbox.mark_sent(sent.id)
    await pair.outbox.mark_failed(given_up.id, "HTTP 503")
    await pair.outbox.mark_failed(sent.id, "too late")  # finished already: no effect

    assert (await pair.jobs.get("job-1")).callback_status is CallbackStatus.SENT
    assert (await pair.jobs.get("job-2")).callback_status is CallbackStatus.FAILED


async def test_rescheduled_entries_come_back_when_due(pair: Pair, clock: ManualClock) -> None:
    message = await finished_job(pair, "job-1")

    await pair.outbox.reschedule(message.id, clock.now() + timedelta(seconds=8), "HTTP 500")

    assert await pair.outbox.due(clock.now() + timedelta(seconds=7), 10) == []
    [entry] = await pair.outbox.due(clock.now() + timedelta(seconds=8), 10)
    assert (entry.message, entry.attempts) == (message, 1)


async def test_failed_entries_are_given_up(pair: Pair, clock: ManualClock) -> None:
    message = await finished_job(pair, "job-1")

    await pair.outbox.mark_failed(message.id, "HTTP 410")

    assert await pair.outbox.due(clock.now() + timedelta(days=2), 10) == []


async def test_a_second_final_write_queues_nothing_new(pair: Pair, clock: ManualClock) -> None:
    message = await finished_job(pair, "job-1")
    await pair.outbox.mark_sent(message.id)
    # A crashed worker's successor writing the same outcome again: the row refuses the
    # transition, and the outbox still holds a single, already-sent message.
    with pytest.raises(IllegalTransition, match="cannot go from completed"):
        await pair.jobs.complete("job-1", image_artifact(), webhook=message)

    assert await pair.outbox.due(clock.now() + timedelta(days=2), 10) == []


async def test_due_respects_the_limit_and_order(pair: Pair, clock: ManualClock) -> None:
    messages = []
    for index in range(5):
        messages.append(await finished_job(pair, f"job-{index}"))
        clock.advance(1)

    due = await pair.outbox.due(clock.now(), 3)

    assert [entry.message.id for entry in due] == [m.id for m in messages[:3]]
