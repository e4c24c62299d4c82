"""Agent: plain configuration (model, tools, memory, guards, policy) and the calls that run it."""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from podium import known_secrets
from podium.config import Limits, Settings
from podium.errors import ConfigError, InvalidRequest
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.planner.approvals import Approval, ApprovalRequest, signed
from podium.planner.budget import TokenCounter, context_window, encoding_for
from podium.planner.models import model_name, resolve_model
from podium.planner.prompts import SYSTEM_PROMPT
from podium.results import RunResult, ThreadView
from podium.runner import (
    first_input,
    indexed,
    lost,
    resumption,
    session,
    thread_view,
    unfinished,
)
from podium.tools.breaker import CircuitBreaker
from podium.tools.registry import Tool, ToolLike, ToolRegistry
from podium.tracing.events import Event, RunStarted, Sink, Tracer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from podium.guardrails.screens import Screens
    from podium.memory.store import MemoryStore
    from podium.planner.context import RunContext
    from podium.storage.base import IndexedRun, Storage
    from podium.tools.outcomes import DelegatedReply
    from podium.tracing.audit import AuditLog
    from podium.tracing.otel import OTelSink

DEFAULT_GUARDS = "default"
T = TypeVar("T")


class Agent:
    """An orchestration agent: its model plans, its tools act, its guards and policy screen."""

    def __init__(
        self,
        tools: Iterable[ToolLike] = (),
        *,
        model: BaseChatModel | None = None,
        fallback_model: BaseChatModel | None = None,
        memory: MemoryStore | None = None,
        guards: Screens | str | None = DEFAULT_GUARDS,
        policy: Policy | str | Path | None = None,
        settings: Settings | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        builtins: bool = False,
        limits: Limits | None = None,
        sandbox: Path | None = None,
        sinks: Iterable[Sink] = (),
        compensate_on_failure: bool = True,
        storage: Storage | None = None,
    ) -> None:
        self.settings = settings or Settings.load()
        self.model = model or resolve_model(self.settings)
        if fallback_model is None and self.settings.fallback_model and not self.uses_router:
            from podium.planner.models.openai import openai_chat_model

            fallback_model = openai_chat_model(self.settings, self.settings.fallback_model)
        self.fallback_model = fallback_model
        # Every key podium was given is redacted by value from events, errors, answers,
        # checkpoints and memory, whatever its shape (a custom server's key has none).
        known_secrets.add(
            [
                *known_secrets.of(self.settings),
                *known_secrets.of(self.model),
                *known_secrets.of(fallback_model),
            ]
        )
        self.memory = memory
        if guards == DEFAULT_GUARDS:
            from podium.guardrails.screens import Screens

            guards = Screens.default()
        elif isinstance(guards, str):
            raise ConfigError(f"unknown guards {guards!r}", "pass a Screens, 'default' or None")
        self.screens: Screens | None = guards
        if policy is None and self.settings.policy is not None:
            policy = self.settings.policy
        self.policy = policy if isinstance(policy, Policy) else Policy()
        self.system_prompt = system_prompt
        self.limits = limits or Limits(
            max_steps=self.settings.max_steps,
            max_seconds=self.settings.max_seconds,
            max_tool_calls=self.settings.max_tool_calls,
            max_tokens=self.settings.max_tokens,
            max_cost_usd=self.settings.max_cost_usd,
        )
        self.sandbox = sandbox or self.settings.home_dir / "sandbox"
        self.sinks = list(sinks)
        self.breaker = CircuitBreaker()
        self.compensate_on_failure = compensate_on_failure
        self._storage: Storage | None = storage
        self._audit: AuditLog | None = None
        self._otel: OTelSink | None = None
        self._plugin_sinks: list[Sink] | None = None
        self.registry = ToolRegistry()
        if builtins:
            from podium.tools.builtin import builtin_tools

            for builtin in builtin_tools(memory=memory is not None):
                self.registry.register(builtin)
        for item in tools:
            self.registry.register(item)
        if isinstance(policy, str | Path):
            self.policy = Policy.load(Path(policy).expanduser())
        self.policy.check(self.registry)
        self.counter = TokenCounter(encoding_for(self.model_name, self.settings.tokenizer))
        self.context_window = context_window(self.model_name, self.settings.context_window)
        self._bound: dict[
            tuple[int, tuple[str, ...]], tuple[BaseChatModel, Runnable[Any, BaseMessage]]
        ] = {}

    @property
    def model_name(self) -> str:
        """The name of the model that plans (pricing and reports use it)."""
        return model_name(self.model)

    @property
    def uses_router(self) -> bool:
        """Whether the offline router model is answering (no LLM configured)."""
        from podium.planner.router import RouterChatModel

        return isinstance(self.model, RouterChatModel)

    def _bound_model(self, model: BaseChatModel) -> Runnable[Any, BaseMessage]:
        """``model`` with the registry's tools bound, cached until the registry changes."""
        names = tuple(self.registry.names())
        key = (id(model), names)
        cached = self._bound.get(key)
        if cached is not None and cached[0] is model:  # an id can be reused after a model dies
            return cached[1]
        bound: Runnable[Any, BaseMessage] = model
        if names:
            try:
                bound = model.bind_tools(self.registry.schemas())
            except NotImplementedError as error:
                raise ConfigError(
                    f"model {model_name(model)!r} does not support tool calling",
                    "use a chat model that implements bind_tools",
                ) from error
        self._bound[key] = (model, bound)
        return bound

    def as_tool(self, name: str, description: str, timeout: float | None = None) -> Tool:
        """This agent as a tool another agent can call; its usage adds to the caller's run.

        ``timeout`` bounds one delegation (default: the caller's tool timeout); a sub-agent
        that overruns is cancelled and the caller gets a tool message saying so.
        """
        from podium.tools.subagents import agent_tool

        async def ask(request: str, thread_id: str, principal: Principal) -> DelegatedReply:
            result = await self.ainvoke(request, thread_id=thread_id, principal=principal)
            return result.reply(name)

        return agent_tool(ask, name, description, timeout)

    def _check(self, request: object) -> str:
        if not isinstance(request, str):
            raise InvalidRequest(
                f"the request must be text, not {type(request).__name__}",
                "pass the request as a string",
            )
        if not request.strip():
            raise InvalidRequest("the request is empty", "say what you want done")
        _check_text(request, "the request")
        tokens = self.counter.count(request)
        room = self.context_window // 2
        if tokens > room:
            raise InvalidRequest(
                f"the request is {tokens} tokens, more than half of the model's context window "
                f"({self.context_window} tokens)",
                "shorten it, put long material in a file the agent can read, or use a model "
                "with a larger window",
            )
        return request

    def _context(self, principal: Principal, thread_id: str, tracer: Tracer) -> RunContext:
        from podium.planner.context import RunContext

        return RunContext(
            model=self._bound_model(self.model),
            fallback_model=(
                self._bound_model(self.fallback_model) if self.fallback_model else None
            ),
            fallback_name=model_name(self.fallback_model) if self.fallback_model else "",
            model_retries=self.settings.model_retries,
            model_retry_wait=self.settings.model_retry_wait,
            model_name=self.model_name,
            registry=self.registry,
            policy=self.policy,
            counter=self.counter,
            limits=self.policy.limits_for(principal, self.limits),
            context_window=self.context_window,
            tracer=tracer,
            principal=principal,
            thread_id=thread_id,
            sandbox=self.sandbox,
            system_prompt=self.system_prompt,
            screens=self.screens,
            memory=self.memory,
            prices=self.settings.prices,
            tool_timeout=self.settings.tool_timeout,
            breaker=self.breaker,
            ledger=self._storage.ledger() if self._storage else None,
            compensate_on_failure=self.compensate_on_failure,
        )

    async def ainvoke(
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        sinks: Iterable[Sink] = (),
        watchers: Iterable[Sink] = (),
    ) -> RunResult:
        """Run one request to its end; the same ``thread_id`` continues a conversation.

        ``sinks`` get the run's events as every sink does; ``watchers`` get them too, and
        besides what is never recorded (each call's arguments and output as it ends).
        """
        text = self._check(request)
        thread = _thread(thread_id) if thread_id is not None else uuid.uuid4().hex
        who = _principal(principal) or Principal.local()
        storage = self._prepare()
        watching = list(watchers)
        tracer = Tracer(
            uuid.uuid4().hex, [*self._standard_sinks(), *self.sinks, *sinks, *watching], watching
        )
        tracer.emit(
            RunStarted(
                trace_id=tracer.trace_id, thread_id=thread, model=self.model_name, request=text
            )
        )
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            snapshot = await runs.graph.aget_state(runs.config(thread))
            last = await asyncio.to_thread(storage.runs().get, thread)
            if unfinished(snapshot) or lost(last, snapshot):  # it waits, or was cut short
                waiting = "waits for approval" if snapshot.interrupts else "did not finish"
                raise InvalidRequest(
                    f"the last run of thread {thread} {waiting}",
                    "continue it with Agent.resume(thread_id, ...), or start a new thread",
                )
            run = indexed(thread, tracer.trace_id, who, text)
            await asyncio.to_thread(storage.runs().begin, run)
            result = await runs.run(
                first_input(run, who),
                thread,
                self._context(who, thread, tracer),
                self.model_name,
                self._audit,
            )
        await self._ended(storage, run, result)
        return result

    async def aresume(
        self,
        thread_id: str,
        decisions: dict[str, bool | Approval] | None = None,
        principal: Principal | None = None,
        decider: Principal | None = None,
        watchers: Iterable[Sink] = (),
    ) -> RunResult:
        """Continue a thread's run: with decisions on the calls it waits for, or after a crash.

        All pending approvals are decided together. The time limit restarts: waiting for a
        person does not count against it. The run keeps its principal unless one is given.
        With ``decider``, each decision must be theirs to make (the policy's
        ``approve:<tool>``; asking for a call is not enough) and records them as its maker.
        A run killed before its request reached the checkpoints starts again from it.
        ``watchers`` see the run live, as for ``ainvoke``.
        """
        from langgraph.types import Command

        thread_id = _thread(thread_id)
        storage = self._prepare()
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            config = runs.config(thread_id)
            snapshot = await runs.graph.aget_state(config)
            last = await asyncio.to_thread(storage.runs().get, thread_id)
            if last is not None and lost(last, snapshot) and not decisions:
                graph_input: Any = first_input(last, _principal(principal))
                who = _principal(principal) or Principal.model_validate_json(last.principal)
                run = last
            else:
                if decider is not None and decisions is not None:
                    decisions = signed(decisions, decider, snapshot, self.policy)
                graph_input = resumption(snapshot, thread_id, decisions)
                recorded = snapshot.values.get("principal")
                if principal is None and recorded is None:
                    raise InvalidRequest(
                        f"thread {thread_id} did not record who its run acts for",
                        "pass principal= to resume it",
                    )
                who = _principal(principal) or Principal.model_validate(recorded)
                run = indexed(thread_id, snapshot.values["run_id"], who, snapshot.values["request"])
                if graph_input is not None:
                    graph_input = Command(resume=graph_input)
            watching = list(watchers)  # as for ainvoke
            tracer = Tracer(
                uuid.uuid4().hex, [*self._standard_sinks(), *self.sinks, *watching], watching
            )
            tracer.emit(
                RunStarted(
                    trace_id=tracer.trace_id,
                    thread_id=thread_id,
                    model=self.model_name,
                    request=run.request,
                )
            )
            await asyncio.to_thread(storage.runs().begin, run)
            result = await runs.run(
                graph_input,
                thread_id,
                self._context(who, thread_id, tracer),
                self.model_name,
                self._audit,
            )
        await self._ended(storage, run, result)
        return result

    async def _ended(self, storage: Storage, run: IndexedRun, result: RunResult) -> None:
        calls = [(r.call_id, r.tool) for r in result.pending_approvals]
        await asyncio.to_thread(storage.runs().end, run.thread_id, run.run_id, calls)

    async def athread(self, thread_id: str) -> ThreadView:
        """What a thread's checkpoints say: its owner, whether its run ended, what it waits on."""
        thread_id = _thread(thread_id)
        storage = self._prepare()
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            snapshot = await runs.graph.aget_state(runs.config(thread_id))
        last = await asyncio.to_thread(storage.runs().get, thread_id)
        return thread_view(thread_id, snapshot, last)

    async def awaiting(self, thread_id: str) -> list[ApprovalRequest]:
        """The calls a thread's run waits for a decision on (empty when none waits)."""
        return (await self.athread(thread_id)).waiting

    def _standard_sinks(self) -> list[Sink]:
        """The audit log (on by default) and OpenTelemetry export (when configured)."""
        sinks: list[Sink] = []
        if self.settings.audit:
            if self._audit is None:
                from podium.tracing.audit import audit_log

                key = self.settings.audit_key
                self._audit = audit_log(
                    self.settings.home_dir / "audit", key.get_secret_value() if key else None
                )
            sinks.append(self._audit.write)
        if self.settings.otlp_endpoint:
            if self._otel is None:
                from podium.tracing.otel import OTelSink

                self._otel = OTelSink.to_endpoint(self.settings.otlp_endpoint)
            sinks.append(self._otel)
        if self.settings.sinks:
            if self._plugin_sinks is None:
                from podium import plugins

                self._plugin_sinks = plugins.sinks(self.settings.sinks, self.settings)
            sinks += self._plugin_sinks
        return sinks

    def audit_status(self) -> dict[str, Any] | None:
        """The audit log's health (None before any run opened it): a service shows it."""
        if self._audit is None:
            return None
        return dataclasses.asdict(self._audit.status())

    @property
    def storage(self) -> Storage:
        """Where this agent's threads, ledger and approvals live (SQLite under the home)."""
        if self._storage is None:
            from podium.storage.sqlite import SqliteStorage

            self._storage = SqliteStorage(self.settings.ensure_home())
        return self._storage

    def _prepare(self) -> Storage:
        storage = self.storage
        self.settings.ensure_home()
        self.sandbox.mkdir(parents=True, exist_ok=True)
        return storage

    def resume(
        self,
        thread_id: str,
        decisions: dict[str, bool | Approval] | None = None,
        principal: Principal | None = None,
        decider: Principal | None = None,
    ) -> RunResult:
        """Continue a thread's run (blocking); see ``aresume``."""
        return run_sync(self.aresume(thread_id, decisions, principal, decider))

    def invoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> RunResult:
        """Run one request to its end (blocking); see ``ainvoke``."""
        return run_sync(self.ainvoke(request, thread_id, principal))

    async def astream(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> AsyncIterator[Event | RunResult]:
        """Yield the run's events as they happen, then its RunResult."""
        from podium.streaming import watched

        async for item in watched(
            lambda watcher: self.ainvoke(request, thread_id, principal, watchers=[watcher])
        ):
            yield item

    def stream(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> Iterator[Event | RunResult]:
        """Yield the run's events as they happen, then its RunResult (blocking)."""
        items: queue.Queue[Event | RunResult | BaseException] = queue.Queue()

        async def pump() -> None:
            try:
                async for item in self.astream(request, thread_id, principal):
                    items.put(item)
            except BaseException as error:
                items.put(error)

        worker = threading.Thread(target=lambda: asyncio.run(pump()), daemon=True)
        worker.start()
        while True:
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, RunResult):
                break
        worker.join()


def _check_text(text: str, what: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate): no store could keep it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRequest(
            f"{what} holds a character that is not valid Unicode at position {error.start}",
            "send UTF-8 text (a lone surrogate such as \\udfff is not a character)",
        ) from None


def _thread(thread_id: object) -> str:
    """A thread id as given, checked: text of 1 to 512 characters."""
    if not isinstance(thread_id, str) or not 0 < len(thread_id) <= 512:
        shown = type(thread_id).__name__ if not isinstance(thread_id, str) else "empty or long"
        raise InvalidRequest(
            f"a thread id must be text of 1 to 512 characters (got {shown})",
            "pass thread_id as a short string, or leave it out for a new thread",
        )
    _check_text(thread_id, "the thread id")
    return thread_id


def _principal(principal: object) -> Principal | None:
    if principal is None or isinstance(principal, Principal):
        return principal
    raise InvalidRequest(
        f"principal must be a Principal, not {type(principal).__name__}",
        "pass principal=Principal(id=...) or agent.policy.principal(name)",
    )


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, even when an event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from inside an event loop (a notebook, a server): run on a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
