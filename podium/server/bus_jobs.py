"""A durable bus's job on a worker: one subscriber's delivery of one event, once.

The job may reach a worker more than once (its first worker was killed mid-run): the
delivery's run has a thread and a run id of its own, derived from the event and the
subscriber, so the next worker resumes that run from its last checkpoint (as a queued run
is, server/jobs.py) instead of starting another; its side effects happen once per
idempotency key. The thread's lease keeps two workers from running it side by side, and
a delivery already recorded is not run again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from podium.patterns import bus_store
from podium.patterns.bus import failed
from podium.patterns.templates import fill
from podium.server.jobs import RunLog, lease, perform, retryable
from podium.server.queue import RunJob, RunQueue

if TYPE_CHECKING:
    from podium.patterns.bus import BusEvent, Delivery, EventBus, Subscription
    from podium.storage.postgres import PostgresStorage


async def deliver(bus: EventBus, key: str, name: str) -> None:
    """Deliver the event kept under ``key`` to the subscriber ``name``, once."""
    storage = bus.storage
    assert storage is not None  # a worker is given only a durable bus
    if await asyncio.to_thread(bus_store.delivered, storage, key, name):
        return  # a worker recorded it, and died before the queue heard
    event = await asyncio.to_thread(bus_store.event, storage, key)
    if event is None:
        raise LookupError(f"no event {key} in podium_bus_events")
    subscription = bus.subscription(name)
    delivery = bus.skipped(subscription, event)
    follow_up = None
    if delivery is None:
        thread = bus_store.delivery_thread(key, name)
        async with lease(storage, thread):
            if await asyncio.to_thread(bus_store.delivered, storage, key, name):
                return
            delivery, follow_up = await _run(bus, subscription, event, key)
    delivery.event = key
    names = [s.name for s in bus.subscribers(follow_up.topic)] if follow_up else []
    await asyncio.to_thread(bus_store.record, storage, key, delivery, follow_up, names)


async def _run(
    bus: EventBus, subscription: Subscription, event: BusEvent, key: str
) -> tuple[Delivery, BusEvent | None]:
    """The subscriber's run for the event: started, or resumed where a dead worker left it."""
    agent = subscription.agent
    storage: PostgresStorage = agent.storage  # type: ignore[assignment]  # checked by Worker
    run_id = bus_store.delivery_run_id(key, subscription.name)
    watch = RunLog(storage, run_id)
    try:
        request = fill(subscription.request, event.payload, f"topic {event.topic!r}")
        who = subscription.principal
        job = RunJob(
            run_id=run_id,
            thread=bus_store.delivery_thread(key, subscription.name),
            request=request,
            principal=who.model_dump_json() if who else None,
        )
        result = await perform(agent, RunQueue(storage), job, watch)
    except Exception as error:
        if retryable(error):
            raise  # the database or the thread was away: the job goes back to the queue
        return failed(subscription, event, error), None  # one agent failing stops no other
    finally:
        await watch.close()
    return bus.answered(subscription, event, result)
