"""A queued run carried out by a worker (podium/server/jobs.py), against a real Postgres."""

from __future__ import annotations

import asyncio
from pathlib import Path

from podium.agent import Agent
from podium.config import Settings
from podium.results import RunResult
from podium.server.jobs import RunLog, perform
from podium.server.queue import RunJob, RunQueue
from podium.storage.postgres import PostgresStorage


async def take_again(agent: Agent, queue: RunQueue, job: RunJob) -> RunResult:
    """What a worker does with the job it takes: carry it out, write its events."""
    assert isinstance(agent.storage, PostgresStorage)
    watch = RunLog(agent.storage, job.run_id)
    result = await perform(agent, queue, job, watch)
    await watch.close()
    return result


def test_a_run_that_ended_unrecorded_still_ends_its_stream(
    database_url: str, isolated: Path
) -> None:
    # Its worker was killed after the run's last checkpoint, before its events and result
    # were written: the worker that takes the job again gives the stream its end, once.
    agent = Agent(builtins=True, settings=Settings.load(database_url=database_url, audit=False))
    assert agent.invoke("what is 2 + 3", thread_id="t").stop_reason == "answered"
    last = agent.storage.runs().get("t")
    assert last is not None and last.state == "done"
    assert isinstance(agent.storage, PostgresStorage)
    queue = RunQueue(agent.storage)
    job = RunJob(run_id=last.run_id, thread="t", request="what is 2 + 3")

    result = asyncio.run(take_again(agent, queue, job))
    assert result.stop_reason == "answered" and result.answer.endswith("5")
    kinds = [event["kind"] for _, event in queue.events_after(job.run_id, 0)]
    assert kinds == ["run_finished"]
    asyncio.run(take_again(agent, queue, job))  # taken a third time: the end is there already
    assert len(queue.events_after(job.run_id, 0)) == 1


def test_a_run_that_ended_before_its_index_heard_is_not_resumed(
    database_url: str, isolated: Path
) -> None:
    # Killed after the run's last checkpoint, before the run index heard: the index says
    # "running" over a finished run, and the job comes back.
    import dataclasses

    agent = Agent(builtins=True, settings=Settings.load(database_url=database_url, audit=False))
    assert agent.invoke("what is 2 + 3", thread_id="t").stop_reason == "answered"
    last = agent.storage.runs().get("t")
    assert last is not None
    agent.storage.runs().begin(dataclasses.replace(last, state="running"))
    assert isinstance(agent.storage, PostgresStorage)
    queue = RunQueue(agent.storage)
    job = RunJob(run_id=last.run_id, thread="t", request="what is 2 + 3")

    result = asyncio.run(take_again(agent, queue, job))
    assert result.stop_reason == "answered" and result.answer.endswith("5")
    index = agent.storage.runs().get("t")
    assert index is not None and index.state == "done"
    assert [e["kind"] for _, e in queue.events_after(job.run_id, 0)] == ["run_finished"]


def test_a_job_queued_before_a_scope_was_revoked_runs_without_it(
    database_url: str, isolated: Path
) -> None:
    # The job carries its principal as the policy was when it was queued; the worker took
    # it under the new policy and still used the revoked scope.
    from podium.server.queue import new_run_id

    isolated.mkdir(parents=True, exist_ok=True)
    old, new = isolated / "old.yaml", isolated / "new.yaml"
    old.write_text(
        "principals:\n  alice: {scopes: [math]}\ntools:\n  calculator: {scopes: [math]}\n"
    )
    new.write_text("principals:\n  alice: {}\ntools:\n  calculator: {scopes: [math]}\n")
    settings = Settings.load(database_url=database_url, audit=False)
    queued_as = Agent(builtins=True, policy=old, settings=settings).policy.principal("alice")
    agent = Agent(builtins=True, policy=new, settings=settings)
    storage = agent.storage
    assert isinstance(storage, PostgresStorage)
    storage.prepare()
    job = RunJob(
        run_id=new_run_id(),
        thread="alice:t",
        request="what is 2 + 3",
        principal=queued_as.model_dump_json(),
    )

    result = asyncio.run(take_again(agent, RunQueue(storage), job))
    assert [(c["name"], c["status"]) for c in result.tool_calls] == [("calculator", "denied")]
