"""Runs that start without a person: on a schedule (cron) or when an event arrives.

A ``Triggers`` set holds schedules and event rules for one agent. ``fire(event, payload)``
starts the runs an event asks for (a webhook calls it, so does ``podium serve``), and
``run_schedules()`` is the loop that starts scheduled runs when they are due. Each firing is
recorded (trigger, time, trace id, how it stopped) so a service can show what ran.

Event payloads are untrusted: they fill a request template by plain field names only
(``{order_id}``), and the request then passes the input screen like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from podium.errors import ConfigError, InvalidRequest, PermissionDenied
from podium.identity import THREAD_ID, Principal, namespaced, valid
from podium.patterns.templates import fill

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.results import RunResult
    from podium.server.queue import RunQueue

HISTORY = 200


class Schedule(BaseModel):
    """A request run on a cron schedule (5 fields, or 6 with seconds last)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    cron: str
    request: str
    thread: str | None = Field(None, description="Continue this thread each time (else new).")
    principal: str | None = Field(None, alias="as", description="Act as this principal.")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression (five fields: minute hour day month "
                "weekday, e.g. '*/15 * * * *'; a sixth field is seconds)"
            )
        return value

    def next_after(self, moment: float) -> float:
        """The first time after ``moment`` (epoch seconds) this schedule fires."""
        from croniter import croniter

        return float(croniter(self.cron, moment).get_next(float))


class EventRule(BaseModel):
    """A request run when an event of this type arrives; ``{field}`` takes payload values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event: str = Field(pattern=r"^[\w.:-]{1,100}$")
    request: str
    thread: str | None = Field(None, description="A thread template, e.g. 'ticket-{id}'.")
    principal: str | None = Field(None, alias="as")


class TriggerFile(BaseModel):
    """The triggers file: schedules and events."""

    model_config = ConfigDict(extra="forbid")

    schedules: list[Schedule] = []
    events: list[EventRule] = []


class Firing(BaseModel):
    """One run a trigger started: who fired it, and who it acted as."""

    trigger: str
    kind: Literal["schedule", "event"]
    at: float
    principal: str | None = None  # whom the run acted as
    sender: str | None = None  # who fired the event (None: a schedule, or the program)
    thread_id: str | None = None
    trace_id: str | None = None
    stop_reason: str | None = None
    error: str | None = None


def iso(moment: float) -> str:
    """A time as the API shows it: ISO 8601 in UTC, to the second."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def fired_line(firing: Firing) -> str:
    """One line for the service's log: what fired, as whom, and how it went."""
    outcome = firing.error or firing.stop_reason or "queued"
    return (
        f"{firing.kind} {firing.trigger} fired at {iso(firing.at)} as {firing.principal}: "
        f"thread {firing.thread_id}, {outcome}"
    )


def shown(firing: Firing) -> dict[str, Any]:
    """A firing as the API shows it (its time in ISO 8601)."""
    return {**firing.model_dump(mode="json"), "at": iso(firing.at)}


class Triggers:
    """Schedules and event rules that start runs of one agent."""

    def __init__(
        self,
        agent: Agent,
        schedules: list[Schedule] | None = None,
        events: list[EventRule] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.agent = agent
        self.schedules = list(schedules or [])
        self.events = list(events or [])
        self.clock = clock
        self.history: deque[Firing] = deque(maxlen=HISTORY)  # the last firings of all
        # Each principal's own last firings (started or ran as): many firings of another
        # principal's do not push theirs out of what /triggers shows them.
        self._theirs: dict[str, deque[Firing]] = {}
        self._busy: set[str] = set()  # threads with a triggered run going on
        names = [s.name for s in self.schedules]
        if len(names) != len(set(names)):
            raise ConfigError("two schedules share a name", "give each schedule its own name")
        for name in [s.principal for s in self.schedules] + [e.principal for e in self.events]:
            if name is not None:
                agent.policy.principal(name)  # an unknown name fails here, not later

    @classmethod
    def load(cls, agent: Agent, path: Path, clock: Callable[[], float] = time.time) -> Triggers:
        """Triggers from a YAML file; a problem is named with its line."""
        from podium.located import Located, read_yaml, suggest

        if not path.is_file():
            raise ConfigError(f"triggers file {path} does not exist", "check the path")
        text = path.read_text(encoding="utf-8")
        data, lines = read_yaml(path, text)
        located = Located(path, lines, text)
        try:
            parsed = TriggerFile.model_validate(data or {})
        except ValidationError as error:
            # A misspelt key explains the missing one it was meant to be: report it first.
            first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
            key = tuple(first["loc"])
            fix = "correct the value (see podium.server.triggers for the format)"
            if first["type"] == "extra_forbidden":
                model = Schedule if key[0] == "schedules" else EventRule
                known = {f.alias or n for n, f in model.model_fields.items()}
                fix = suggest(str(key[-1]), known)
            raise ConfigError(
                f"{located.where(key)}: {'.'.join(map(str, key))}: {first['msg']}", fix
            ) from None
        return cls(agent, parsed.schedules, parsed.events, clock)

    async def _start(
        self,
        trigger: str,
        kind: Literal["schedule", "event"],
        request: str,
        thread: str | None,
        principal: Principal | None,
        sender: Principal | None = None,
    ) -> Firing:
        who = principal or Principal.local()
        # A thread named by the rule (or filled from the payload) lives in the namespace of
        # the principal the run acts as: a payload cannot reach another principal's thread.
        thread = namespaced(who.id, thread) if thread is not None else None
        firing = Firing(
            trigger=trigger,
            kind=kind,
            at=self.clock(),
            principal=who.id,
            sender=sender.id if sender else None,
            thread_id=thread,
        )
        if thread is not None and thread in self._busy:
            firing.error = f"skipped: the last run of thread {thread} is still going"
            self._record(firing)
            return firing
        if thread is not None:
            self._busy.add(thread)
        try:
            result: RunResult = await self.agent.ainvoke(request, thread_id=thread, principal=who)
        except Exception as error:  # one failed run must not stop the others or the loop
            firing.error = str(error)
        else:
            firing.thread_id, firing.trace_id = result.thread_id, result.trace_id
            firing.stop_reason = result.stop_reason
        finally:
            self._busy.discard(thread or "")
        self._record(firing)
        log.info("%s", fired_line(firing))
        return firing

    def _record(self, firing: Firing) -> None:
        self.history.append(firing)
        for who in {firing.principal, firing.sender} - {None}:
            self._theirs.setdefault(str(who), deque(maxlen=HISTORY)).append(firing)

    def history_of(self, principal_id: str) -> list[Firing]:
        """The last firings ``principal_id`` started or ran as, oldest first."""
        return list(self._theirs.get(principal_id, ()))

    def _principal(self, name: str | None, default: Principal | None = None) -> Principal | None:
        return self.agent.policy.principal(name) if name else default

    def _allowed(self, event: str, rules: list[EventRule], sender: Principal) -> None:
        """Refuse a sender who may not fire ``event`` or act as a rule's principal."""
        policy = self.agent.policy
        if not policy.may_fire(sender, event):
            raise PermissionDenied(
                f"principal {sender.id!r} may not fire event {event!r}",
                f"grant the scope events:{event} (or events:*) in the policy",
            )
        for rule in rules:
            if rule.principal and not policy.may_act_as(sender, rule.principal):
                raise PermissionDenied(
                    f"event {event!r} runs as {rule.principal!r}, which principal "
                    f"{sender.id!r} may not act as",
                    f"grant {sender.id!r} the scope act_as:{rule.principal} in the policy, "
                    "or drop 'as:' from the rule so that it runs as its sender",
                )

    async def fire(
        self, event: str, payload: dict[str, Any], sender: Principal | None = None
    ) -> list[Firing]:
        """Start every run ``event`` asks for, at once; return how each went.

        A rule's runs act as its own principal (``as:``), else as the ``sender``. A sender
        (a caller over HTTP) needs the policy's ``events:<event>``, and ``act_as:<p>`` to
        start runs that act as another principal ``p``; ``sender=None`` is the program
        itself. Nothing starts unless every rule's run may.
        """
        filled = [  # every rule's run made first: a payload one rule cannot take starts none
            (
                fill(rule.request, payload, f"event {event!r}"),
                _thread(rule, payload, event),
                self._principal(rule.principal, sender),
            )
            for rule in self._rules(event, sender)
        ]
        starts = [
            self._start(event, "event", request, thread, who, sender)
            for request, thread, who in filled
        ]
        return list(await asyncio.gather(*starts))

    def schedule_thread(self, schedule: Schedule) -> str:
        """The thread a schedule continues (its own ``thread``), in its principal's namespace."""
        who = self._principal(schedule.principal) or Principal.local()
        return namespaced(who.id, schedule.thread or schedule.name)

    async def fire_schedule(self, name: str, slot: int, queue: RunQueue) -> Firing:
        """Queue the run of schedule ``name`` for the slot ``slot`` (epoch seconds), once.

        The run's id comes from the slot, so a periodic job retried after its worker died
        finds the run it queued instead of queueing a second one.
        """
        import uuid

        from podium.server.queue import RunJob

        schedule = next(s for s in self.schedules if s.name == name)
        who = self._principal(schedule.principal) or Principal.local()
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"podium-schedule:{name}:{slot}").hex
        thread = (
            self.schedule_thread(schedule)
            if schedule.thread
            else namespaced(who.id, f"{name}-{slot}")
        )
        firing = Firing(
            trigger=name,
            kind="schedule",
            at=float(slot),
            principal=who.id,
            thread_id=thread,
            trace_id=run_id,
        )
        if await asyncio.to_thread(queue.thread_of, run_id) is None:
            job = RunJob(
                run_id=run_id,
                thread=thread,
                request=schedule.request,
                principal=who.model_dump_json(),
            )
            await asyncio.to_thread(queue.submit, job)
            await asyncio.to_thread(queue.storage.firings().add, firing.model_dump(mode="json"))
            log.info("%s", fired_line(firing))
        return firing

    async def fire_queued(
        self, event: str, payload: dict[str, Any], queue: RunQueue, sender: Principal | None
    ) -> list[Firing]:
        """As ``fire``, but each run goes to the job queue (a worker takes it); none is lost."""
        from podium.server.queue import RunJob, new_run_id

        jobs = []  # every rule's job made first: a payload one rule cannot take queues none
        for rule in self._rules(event, sender):
            who = self._principal(rule.principal, sender) or Principal.local()
            request = fill(rule.request, payload, f"event {event!r}")
            named = _thread(rule, payload, event)
            run_id = new_run_id()
            thread = namespaced(who.id, named or run_id)
            job = RunJob(
                run_id=run_id, thread=thread, request=request, principal=who.model_dump_json()
            )
            jobs.append((who, thread, job))
        firings = []
        for who, thread, job in jobs:
            await asyncio.to_thread(queue.submit, job)
            firing = Firing(
                trigger=event,
                kind="event",
                at=self.clock(),
                principal=who.id,
                sender=sender.id if sender else None,
                thread_id=thread,
                trace_id=job.run_id,
            )
            await asyncio.to_thread(queue.storage.firings().add, firing.model_dump(mode="json"))
            log.info("%s", fired_line(firing))
            firings.append(firing)
        return firings

    def _rules(self, event: str, sender: Principal | None) -> list[EventRule]:
        rules = [r for r in self.events if r.event == event]
        if not rules:
            known = ", ".join(sorted({r.event for r in self.events})) or "none"
            raise InvalidRequest(f"no trigger listens for event {event!r}", f"known: {known}")
        if sender is not None:
            self._allowed(event, rules, sender)
        return rules

    def next_runs(self) -> dict[str, float]:
        """When each schedule fires next."""
        now = self.clock()
        return {s.name: s.next_after(now) for s in self.schedules}

    async def run_schedules(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        """Start scheduled runs when due, until ``stop`` is set.

        Runs overlap; the loop waits for none of them. A schedule missed while the machine
        was busy fires once, not once for every missed slot.
        """
        due = self.next_runs()
        running: set[asyncio.Task[Firing]] = set()
        while not stop.is_set():
            now = self.clock()
            for schedule in self.schedules:
                if due[schedule.name] <= now:
                    task = asyncio.create_task(
                        self._start(
                            schedule.name,
                            "schedule",
                            schedule.request,
                            schedule.thread,
                            self._principal(schedule.principal),
                        )
                    )
                    running.add(task)
                    task.add_done_callback(running.discard)
                    due[schedule.name] = schedule.next_after(now)
            wake = min(due.values(), default=now + tick) - self.clock()
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.01, min(tick, wake)))
            except TimeoutError:
                pass
        if running:
            await asyncio.gather(*running, return_exceptions=True)


def _thread(rule: EventRule, payload: dict[str, Any], event: str) -> str | None:
    """The thread a rule's template names for ``payload``, checked as a caller's would be.

    A payload's values fill the name; one that no route could name (a space, a quote)
    would leave a thread nobody can look at, nor decide the calls it waits on.
    """
    if not rule.thread:
        return None
    named = fill(rule.thread, payload, f"event {event!r}")
    if not valid(named, THREAD_ID):
        raise InvalidRequest(
            f"event {event!r}: its thread would be {named[:80]!r}, which is no thread id",
            "thread ids hold letters, digits and . : / - (at most 200): send values that "
            f"fit the rule's thread {rule.thread!r}",
        )
    return named
