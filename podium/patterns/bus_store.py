"""The durable event bus's tables and jobs in Postgres: each event once, each delivery once.

An event is a row of ``podium_bus_events`` under its key (the publisher's, or a new one);
in the same transaction each subscriber of its topic gets a job of the task ``podium.bus``
on the queue ``events`` (procrastinate), which any worker of the bus takes. A second
publish under the same key finds the row and queues nothing. A delivery's outcome is a row
of ``podium_bus_deliveries`` under (event, subscriber), written in one transaction with the
event the answer publishes, so a worker killed at any moment neither loses the next event
nor publishes it twice.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from podium.patterns.bus_events import BusEvent, Delivery
    from podium.storage.postgres import PostgresStorage

BUS_TASK = "podium.bus"
BUS_QUEUE = "events"


def delivery_thread(event_id: str, subscriber: str) -> str:
    """The thread a subscriber's run for one event lives in (one run, resumed after a crash)."""
    return f"bus-{event_id}-{subscriber}"


def delivery_run_id(event_id: str, subscriber: str) -> str:
    """The run id of a subscriber's run for one event: the same on every worker."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"podium-bus:{event_id}:{subscriber}").hex


def follow_up_id(event_id: str, subscriber: str) -> str:
    """The key of the event a subscriber's answer publishes: one per delivery."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"podium-bus-answer:{event_id}:{subscriber}").hex


def publish(
    storage: PostgresStorage, event: BusEvent, key: str | None, subscribers: list[str]
) -> str:
    """Keep ``event`` under ``key`` and queue a job per subscriber, once per key; the key."""
    key = key or uuid.uuid4().hex
    with storage.connection() as db, db.transaction():
        _publish(db, event, key, subscribers)
    return key


def _publish(
    db: psycopg.Connection[Any], event: BusEvent, key: str, subscribers: list[str]
) -> None:
    inserted = db.execute(
        "INSERT INTO podium_bus_events VALUES (%s, %s, %s::jsonb, %s::jsonb, %s) "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        (key, event.topic, json.dumps(event.payload), json.dumps(event.chain), time.time()),
    ).fetchone()
    if inserted is None or not subscribers:
        return  # published before under this key: its jobs are queued already
    rows = [
        (BUS_QUEUE, BUS_TASK, json.dumps({"event": key, "subscriber": name}))
        for name in subscribers
    ]
    with db.cursor() as cursor:
        cursor.executemany(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, NULL, NULL, %s::jsonb, "
            "NULL)::procrastinate_job_to_defer_v1])",
            rows,
        )


def event(storage: PostgresStorage, key: str) -> BusEvent | None:
    """The event kept under ``key``."""
    from podium.patterns.bus_events import BusEvent

    with storage.connection() as db:
        row = db.execute(
            "SELECT topic, payload, chain FROM podium_bus_events WHERE id = %s", (key,)
        ).fetchone()
    if row is None:
        return None
    return BusEvent(topic=row[0], payload=dict(row[1]), chain=list(row[2]))


def delivered(storage: PostgresStorage, key: str, subscriber: str) -> bool:
    """Whether the subscriber's delivery of the event is recorded."""
    with storage.connection() as db:
        row = db.execute(
            "SELECT 1 FROM podium_bus_deliveries WHERE event = %s AND agent = %s",
            (key, subscriber),
        ).fetchone()
    return row is not None


def record(
    storage: PostgresStorage,
    key: str,
    delivery: Delivery,
    follow_up: BusEvent | None,
    subscribers: list[str],
) -> None:
    """Record the delivery and publish its answer's event, in one transaction, once."""
    with storage.connection() as db, db.transaction():
        first = db.execute(
            "INSERT INTO podium_bus_deliveries VALUES (%s, %s, %s::jsonb, %s) "
            "ON CONFLICT DO NOTHING RETURNING event",
            (key, delivery.agent, delivery.model_dump_json(), time.time()),
        ).fetchone()
        if first is not None and follow_up is not None:
            _publish(db, follow_up, follow_up_id(key, delivery.agent), subscribers)


def deliveries(storage: PostgresStorage, keys: list[str] | None = None) -> list[Delivery]:
    """The deliveries recorded (of the events ``keys``, or all), in the order they ended."""
    from podium.patterns.bus_events import Delivery

    with storage.connection() as db:
        if keys is None:
            rows = db.execute("SELECT delivery FROM podium_bus_deliveries ORDER BY at").fetchall()
        else:
            rows = db.execute(
                "SELECT delivery FROM podium_bus_deliveries WHERE event = ANY(%s) ORDER BY at",
                (keys,),
            ).fetchall()
    return [Delivery.model_validate(row[0]) for row in rows]
