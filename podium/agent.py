"""Agent: plain configuration (model, tools, memory, guards, policy) and the calls that run it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from podium import known_secrets
from podium.config import Limits, Settings
from podium.errors import ConfigError, InvalidRequest
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.inputs import principal_given, request_given, thread_given, tool_choice_for
from podium.loop import run_sync
from podium.planner.approvals import Approval, ApprovalRequest, signed
from podium.planner.binding import Bindings, asks_natively
from podium.planner.budget import (
    TokenCounter,
    encoding_for,
    price_table,
)
from podium.planner.models import context_window_of, model_name, resolve_model
from podium.planner.prompts import SYSTEM_PROMPT
from podium.results import RunResult, ThreadView
from podium.runner import (
    Session,
    first_input,
    indexed,
    lost,
    resumption,
    session,
    thread_view,
    unfinished,
)
from podium.sinks import StandardSinks
from podium.storage.fresh import new_thread
from podium.streaming import blocked
from podium.tools.breaker import CircuitBreaker
from podium.tools.registry import Tool, ToolLike, ToolRegistry
from podium.tracing.events import Event, RunStarted, Sink, Tracer
from podium.tracing.live import WATCHER, is_live, tagged

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from podium.guardrails.screens import Screens
    from podium.memory.store import MemoryStore
    from podium.planner.context import RunContext
    from podium.storage.base import IndexedRun, Storage
    from podium.tools.outcomes import DelegatedReply

DEFAULT_GUARDS = "default"
StreamMode = Literal["events", "tokens", "both"]
STREAM_MODES = ("events", "tokens", "both")


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
        tool_choice: str | None = None,
        output_type: type[BaseModel] | None = None,
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
        self.tool_choice = tool_choice or self.settings.tool_choice
        self.output_type = output_type
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
        self._home_proven: Path | None = None  # the home found writable (probed once)
        self.standard_sinks = StandardSinks(self.settings)
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
        self.prices = price_table(self.settings.prices, self.settings.openai_base_url)
        if self.limits.max_cost_usd is not None and self.model_name not in self.prices:
            raise ConfigError(
                f"a cost budget (max_cost_usd) needs the price of model {self.model_name!r}, "
                "which podium does not know",
                f"give it in config.toml ([prices.{self.model_name}] input = ... output = ...) "
                "or PODIUM_PRICES, or drop the cost budget",
            )
        self.counter = TokenCounter(encoding_for(self.model_name, self.settings.tokenizer))
        self.context_window = context_window_of(self.model, self.settings)
        self.bindings = Bindings(
            self.registry, self.settings.max_output_tokens, self.settings.structured_output
        )

    @property
    def model_name(self) -> str:
        """The name of the model that plans (pricing and reports use it)."""
        return model_name(self.model)

    @property
    def uses_router(self) -> bool:
        """Whether the offline router model is answering (no LLM configured)."""
        from podium.planner.router import RouterChatModel

        return isinstance(self.model, RouterChatModel)

    def as_tool(self, name: str, description: str, timeout: float | None = None) -> Tool:
        """This agent as a tool another agent can call; its usage adds to the caller's run.

        ``timeout`` bounds one delegation (default: the caller's tool timeout); a sub-agent
        that overruns is cancelled and the caller gets a tool message saying so.
        """
        from podium.tools.subagents import agent_tool

        async def ask(request: str, thread_id: str, principal: Principal) -> DelegatedReply:
            watcher = WATCHER.get()  # the caller's watchers see this run too, by its name
            watch = [tagged(watcher, name)] if watcher is not None else []
            result = await self.ainvoke(
                request,
                thread_id=thread_id,
                principal=principal,
                sinks=watch,
                live=watch[0] if watch else None,
            )
            return result.reply(name)

        return agent_tool(ask, name, description, timeout)

    def _context(
        self,
        principal: Principal,
        thread_id: str,
        tracer: Tracer,
        choice: str = "auto",
        live: Sink | None = None,
        output_type: type[BaseModel] | None = None,
        resumes: int = 0,
    ) -> RunContext:
        from podium.planner.context import RunContext

        steady = "none" if choice == "none" else "auto"  # after the first round: auto
        return RunContext(
            model=self.bindings.bound(self.model, steady, output_type),
            first_model=(
                self.bindings.bound(self.model, choice, output_type) if choice != steady else None
            ),
            fallback_model=(
                self.bindings.bound(self.fallback_model, steady, output_type)
                if self.fallback_model
                else None
            ),
            fallback_name=model_name(self.fallback_model) if self.fallback_model else "",
            tokenless=self._tokenless(),
            resumes=resumes,
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
            remember_answers=self.settings.remember_answers,
            prices=self.prices,
            tool_timeout=self.settings.tool_timeout,
            breaker=self.breaker,
            ledger=self._storage.ledger() if self._storage else None,
            compensate_on_failure=self.compensate_on_failure,
            live=live,
            max_output_tokens=self.settings.max_output_tokens,
            output_type=output_type,
            output_native=output_type is not None
            and asks_natively(self.model, self.settings.structured_output),
        )

    async def ainvoke(
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        sinks: Iterable[Sink] = (),
        tool_choice: str | None = None,
        live: Sink | None = None,
        output_type: type[BaseModel] | None = None,
        watchers: Iterable[Sink] = (),
        run_id: str | None = None,
    ) -> RunResult:
        """Run one request to its end; the same ``thread_id`` continues a conversation.

        ``tool_choice`` (default: the agent's) is ``auto``, ``required``, ``none`` or a
        tool's name; ``required`` and a name hold until the run's first tool round.
        ``live`` watches the run as it happens: the model's reply streamed token by token,
        corrections of what was streamed, and the events of sub-agents it asks.
        ``output_type`` (default: the agent's) makes the answer a pydantic model: the model
        is asked for its schema, the answer validated, and ``RunResult.output`` holds it.
        ``watchers`` get both: the run's events as sinks do, and what ``live`` gets (and
        each call's arguments and output as it ends, which nothing records).
        ``run_id`` names the run (default: a new id): a queue that hands the same run to
        another worker after a crash names it the same, so that it is found, not repeated.
        """
        typed = output_type or self.output_type
        shown = [*watchers, *([live] if live is not None else [])]
        result = await self._invoke(
            request, thread_id, principal, [*sinks, *watchers], tool_choice, shown, typed, run_id
        )
        return _typed(result, typed)

    async def _invoke(
        self,
        request: str,
        thread_id: str | None,
        principal: Principal | None,
        sinks: Iterable[Sink],
        tool_choice: str | None,
        shown: list[Sink],
        output_type: type[BaseModel] | None,
        run_id: str | None = None,
    ) -> RunResult:
        text = request_given(request, self.counter, self.context_window)
        choice = tool_choice_for(tool_choice or self.tool_choice, self.registry.names())
        thread = thread_given(thread_id) if thread_id is not None else uuid.uuid4().hex
        who = principal_given(principal) or Principal.local()
        storage = self._prepare()
        every = [*self.standard_sinks.all(), *self.sinks, *sinks]
        tracer = Tracer(run_id or uuid.uuid4().hex, every, shown)
        tracer.emit(
            RunStarted(
                trace_id=tracer.trace_id, thread_id=thread, model=self.model_name, request=text
            )
        )
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            if thread_id is not None:  # a thread named by the caller may have a run pending
                await _no_run_pending(runs, storage, thread)
            run = indexed(thread, tracer.trace_id, who, text)
            await asyncio.to_thread(storage.runs().begin, run)
            live = tracer.show if shown else None
            watching = WATCHER.set(live)  # a sub-agent's run reports to these watchers too
            # A thread named here has no checkpoint: its first read need not ask the store.
            saver = runs.graph.checkpointer
            fresh = new_thread(saver, thread) if thread_id is None else nullcontext()
            try:
                with fresh:
                    result = await runs.run(
                        first_input(run, who),
                        thread,
                        self._context(who, thread, tracer, choice, live, output_type),
                        self.model_name,
                        self.standard_sinks.audit,
                    )
            finally:
                WATCHER.reset(watching)
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

        ``decisions`` may decide some of the pending calls (each decider their own): the run
        waits on the rest, and the round's calls run once every one is decided. A call is
        decided once; deciding it again is refused. The time limit restarts: waiting for a
        person does not count against it. The run keeps its principal unless one is given.
        With ``decider``, each decision must be theirs to make (the policy's
        ``approve:<tool>``; asking for a call is not enough) and records them as its maker.
        A run killed before its request reached the checkpoints starts again from it.
        ``watchers`` see the run live, as for ``ainvoke``.
        """
        from langgraph.types import Command

        thread_id = thread_given(thread_id)
        storage = self._prepare()
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            config = runs.config(thread_id)
            snapshot = await runs.graph.aget_state(config)
            last = await asyncio.to_thread(storage.runs().get, thread_id)
            resumes = 0
            if last is not None and lost(last, snapshot) and not decisions:
                graph_input: Any = first_input(last, principal_given(principal))
                who = principal_given(principal) or self.policy.as_listed(
                    Principal.model_validate_json(last.principal)
                )
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
                who = principal_given(principal) or self.policy.as_listed(
                    Principal.model_validate(recorded)
                )
                run = indexed(thread_id, snapshot.values["run_id"], who, snapshot.values["request"])
                if graph_input is not None:
                    graph_input = Command(resume=graph_input)
                    # this decision, and those earlier resumes gave the same round
                    resumes = 1 + max(
                        (i.value.get("index", 0) for i in snapshot.interrupts), default=0
                    )
            watching = list(watchers)  # as for ainvoke
            tracer = Tracer(
                uuid.uuid4().hex, [*self.standard_sinks.all(), *self.sinks, *watching], watching
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
                self._context(
                    who,
                    thread_id,
                    tracer,
                    live=tracer.show if tracer.watchers else None,
                    output_type=self.output_type,
                    resumes=resumes,
                ),
                self.model_name,
                self.standard_sinks.audit,
            )
        await self._ended(storage, run, result)
        return _typed(result, self.output_type)

    async def _ended(self, storage: Storage, run: IndexedRun, result: RunResult) -> None:
        calls = [(r.call_id, r.tool) for r in result.pending_approvals]
        await asyncio.to_thread(storage.runs().end, run.thread_id, run.run_id, calls)
        if self.settings.checkpoints_keep is not None:  # growth stays bounded
            from podium.storage.pruning import prune_checkpoints

            await prune_checkpoints(storage, run.thread_id, self.settings.checkpoints_keep)

    async def athread(self, thread_id: str) -> ThreadView:
        """What a thread's checkpoints say: its owner, whether its run ended, what it waits on."""
        thread_id = thread_given(thread_id)
        storage = self._prepare()
        async with session(storage, self.limits.max_steps, self.settings.durability) as runs:
            snapshot = await runs.graph.aget_state(runs.config(thread_id))
        last = await asyncio.to_thread(storage.runs().get, thread_id)
        return thread_view(thread_id, snapshot, last)

    async def awaiting(self, thread_id: str) -> list[ApprovalRequest]:
        """The calls a thread's run waits for a decision on (empty when none waits)."""
        return (await self.athread(thread_id)).waiting

    def audit_status(self) -> dict[str, Any] | None:
        """The audit log's health (None before any run opened it): a service shows it."""
        return self.standard_sinks.audit_status()

    @property
    def storage(self) -> Storage:
        """Where this agent's threads, ledger and approvals live.

        Postgres when the settings have a database URL (``PODIUM_DATABASE_URL``), else
        SQLite files under the home directory.
        """
        if self._storage is None:
            from podium.storage import storage_for

            self._storage = storage_for(self.settings)
        return self._storage

    def _tokenless(self) -> frozenset[str]:
        """The names of this agent's models that read no tokens (the offline router).

        A turn is known by the name of the model that gave it: a name that a model reading
        tokens also has is never tokenless, so no model escapes its token budget by a name.
        """
        models = [m for m in (self.model, self.fallback_model) if m is not None]
        reading = {model_name(m) for m in models if getattr(m, "reads_tokens", True)}
        return frozenset(model_name(m) for m in models if model_name(m) not in reading)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Keep one connection to the agent's store open for this loop's runs inside the block.

        A service that runs many requests does this (``podium serve`` and the worker do):
        without it, each run opens its own connection and closes it at the end.
        """
        async with self._prepare().hold():
            yield

    def _prepare(self) -> Storage:
        storage = self.storage
        # A file written and removed to prove the home writable: once per agent and home, not
        # at every run (its stores report a home that goes away later).
        if self._home_proven != self.settings.home_dir:
            self._home_proven = self.settings.ensure_home()
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
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        tool_choice: str | None = None,
        output_type: type[BaseModel] | None = None,
    ) -> RunResult:
        """Run one request to its end (blocking); see ``ainvoke``."""
        return run_sync(
            self.ainvoke(
                request, thread_id, principal, tool_choice=tool_choice, output_type=output_type
            )
        )

    async def astream(
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        tool_choice: str | None = None,
        mode: StreamMode = "events",
    ) -> AsyncIterator[Event | RunResult]:
        """Yield the run as it happens, then its RunResult.

        ``mode``: ``events`` (what the run did: plan, calls, guards, policy...), ``tokens``
        (the model's text as it is written, and its corrections: see TokensDiscarded), or
        ``both``. A sub-agent's events and tokens come wrapped in SubagentEvent.
        """
        if mode not in STREAM_MODES:
            raise InvalidRequest(
                f"stream mode {mode!r} is not one of {', '.join(STREAM_MODES)}",
                "pass mode='events', 'tokens' or 'both'",
            )
        from podium.streaming import watched

        def start(watcher: Sink) -> Coroutine[Any, Any, RunResult]:
            def tokens_only(event: Event) -> None:
                if is_live(event):
                    watcher(event)

            recorded = [watcher] if mode != "tokens" else []
            live = watcher if mode == "both" else tokens_only if mode == "tokens" else None
            return self.ainvoke(
                request, thread_id, principal, recorded, tool_choice=tool_choice, live=live
            )

        async for item in watched(start):
            yield item

    def stream(
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        tool_choice: str | None = None,
        mode: StreamMode = "events",
    ) -> Iterator[Event | RunResult]:
        """Yield the run's events as they happen, then its RunResult (blocking)."""
        return blocked(self.astream(request, thread_id, principal, tool_choice, mode))


def _typed(result: RunResult, output_type: type[BaseModel] | None) -> RunResult:
    """The result with its output as the typed object (it travels as JSON data)."""
    if output_type is not None and isinstance(result.output, dict):
        result.output = output_type.model_validate(result.output)
    return result


async def _no_run_pending(runs: Session, storage: Storage, thread: str) -> None:
    """Refuse a new run on ``thread`` while its last one waits or was cut short.

    A thread this run named itself (a fresh id) has no past, so it is not looked up.
    """
    snapshot = await runs.graph.aget_state(runs.config(thread))
    last = await asyncio.to_thread(storage.runs().get, thread)
    if unfinished(snapshot) or lost(last, snapshot):  # it waits, or was cut short
        waiting = "waits for approval" if snapshot.interrupts else "did not finish"
        raise InvalidRequest(
            f"the last run of thread {thread} {waiting}",
            "continue it with Agent.resume(thread_id, ...), or start a new thread",
        )
