"""Agent: plain configuration (model, tools, memory, guards, policy) and the calls that run it."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from podium.config import Settings
from podium.errors import ConfigError, InvalidRequest
from podium.guardrails.policy import Policy, Principal
from podium.planner.budget import Limits, TokenCounter, context_window, encoding_for
from podium.planner.models import model_name, resolve_model
from podium.planner.prompts import SYSTEM_PROMPT
from podium.tools.executor import CallOutcome
from podium.tools.registry import ToolLike, ToolRegistry
from podium.tracing import AnyEvent, Event, NodeFinished, RunFinished, RunStarted, Sink, Tracer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from podium.audit import AuditLog
    from podium.guardrails.screens import Screens
    from podium.memory.store import MemoryStore
    from podium.otel import OTelSink
    from podium.planner.context import RunContext
    from podium.planner.state import RunState

DEFAULT_GUARDS = "default"


class RunUsage(BaseModel):
    """What one run consumed."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    model_calls: int
    steps: int
    latency_ms: float


class RunResult(BaseModel):
    """The outcome of one run: the answer, why it stopped, the calls made, usage, trace."""

    answer: str
    stop_reason: str
    tool_calls: list[CallOutcome]
    usage: RunUsage
    trace_id: str
    thread_id: str
    model: str
    events: list[AnyEvent]
    warnings: list[str] = []

    @property
    def ok(self) -> bool:
        """Whether the run ended with an answer (not a limit, a block or an error)."""
        return self.stop_reason == "answered"


class Agent:
    """An orchestration agent: its model plans, its tools act, its guards and policy screen."""

    def __init__(
        self,
        tools: Iterable[ToolLike] = (),
        *,
        model: BaseChatModel | None = None,
        memory: MemoryStore | None = None,
        guards: Screens | str | None = DEFAULT_GUARDS,
        policy: Policy | None = None,
        settings: Settings | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        builtins: bool = False,
        limits: Limits | None = None,
        sandbox: Path | None = None,
        sinks: Iterable[Sink] = (),
    ) -> None:
        self.settings = settings or Settings.load()
        self.model = model or resolve_model(self.settings)
        self.model_name = model_name(self.model)
        self.memory = memory
        if guards == DEFAULT_GUARDS:
            from podium.guardrails.screens import Screens

            guards = Screens.default()
        elif isinstance(guards, str):
            raise ConfigError(f"unknown guards {guards!r}", "pass a Screens, 'default' or None")
        self.screens: Screens | None = guards
        self.policy = policy or Policy()
        self.system_prompt = system_prompt
        self.limits = limits or Limits(self.settings.max_steps, self.settings.max_seconds)
        self.sandbox = sandbox or self.settings.home_dir / "sandbox"
        self.sinks = list(sinks)
        self._audit: AuditLog | None = None
        self._otel: OTelSink | None = None
        self.registry = ToolRegistry()
        if builtins:
            from podium.tools.builtin import builtin_tools

            for builtin in builtin_tools(memory=memory is not None):
                self.registry.register(builtin)
        for item in tools:
            self.registry.register(item)
        self.counter = TokenCounter(encoding_for(self.model_name, self.settings.tokenizer))
        self.context_window = context_window(self.model_name, self.settings.context_window)
        self._bound: tuple[tuple[str, ...], Runnable[Any, BaseMessage]] | None = None

    @property
    def uses_router(self) -> bool:
        """Whether the offline router model is answering (no LLM configured)."""
        from podium.planner.models.router import RouterChatModel

        return isinstance(self.model, RouterChatModel)

    def _bound_model(self) -> Runnable[Any, BaseMessage]:
        names = tuple(self.registry.names())
        if self._bound is None or self._bound[0] != names:
            if not names:
                self._bound = (names, self.model)
            else:
                try:
                    self._bound = (names, self.model.bind_tools(self.registry.schemas()))
                except NotImplementedError as error:
                    raise ConfigError(
                        f"model {self.model_name!r} does not support tool calling",
                        "use a chat model that implements bind_tools",
                    ) from error
        return self._bound[1]

    def _check(self, request: object) -> str:
        if not isinstance(request, str):
            raise InvalidRequest(
                f"the request must be text, not {type(request).__name__}",
                "pass the request as a string",
            )
        if not request.strip():
            raise InvalidRequest("the request is empty", "say what you want done")
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
            model=self._bound_model(),
            model_name=self.model_name,
            registry=self.registry,
            policy=self.policy,
            counter=self.counter,
            limits=self.limits,
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
        )

    async def ainvoke(
        self,
        request: str,
        thread_id: str | None = None,
        principal: Principal | None = None,
        sinks: Iterable[Sink] = (),
    ) -> RunResult:
        """Run one request to its end; the same ``thread_id`` continues a conversation."""
        from langchain_core.messages import HumanMessage
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        from podium.planner.graph import build_graph, recursion_limit
        from podium.planner.state import zero_usage

        text = self._check(request)
        home = self.settings.ensure_home()
        self.sandbox.mkdir(parents=True, exist_ok=True)
        thread = thread_id or uuid.uuid4().hex
        who = principal or Principal.local()
        tracer = Tracer(uuid.uuid4().hex, [*self._standard_sinks(home), *self.sinks, *sinks])
        dropped_before = self._audit.dropped if self._audit else 0
        tracer.emit(
            RunStarted(
                trace_id=tracer.trace_id, thread_id=thread, model=self.model_name, request=text
            )
        )
        context = self._context(who, thread, tracer)
        started = time.perf_counter()
        inputs: RunState = {
            "messages": [HumanMessage(content=text)],
            "run_id": tracer.trace_id,
            "request": text,
            "started_at": time.time(),
            "step": 0,
            "memories": [],
            "pending": [],
            "outcomes": None,  # type: ignore[typeddict-item]  # the reducer's reset signal
            "usage": zero_usage(),
            "stop_reason": None,
            "answer": None,
        }
        config: Any = {
            "configurable": {"thread_id": thread},
            "recursion_limit": recursion_limit(self.limits.max_steps),
        }
        final: dict[str, Any] = {}
        async with AsyncSqliteSaver.from_conn_string(str(home / "threads.sqlite")) as saver:
            graph = build_graph().compile(checkpointer=saver)
            mark = time.perf_counter()
            async for mode, chunk in graph.astream(
                inputs,
                config,
                context=context,
                stream_mode=["updates", "values"],
                durability=self.settings.durability,
            ):
                if mode == "values":
                    if isinstance(chunk, dict):
                        final = chunk
                    continue
                now = time.perf_counter()
                for node in chunk:
                    tracer.emit(
                        NodeFinished(
                            trace_id=tracer.trace_id,
                            node=node,
                            duration_ms=round((now - mark) * 1000, 3),
                        )
                    )
                mark = now
        result = self._result(final, thread, tracer, started)
        if self._audit is not None:
            await asyncio.to_thread(self._audit.flush)
            lost = self._audit.dropped - dropped_before
            if lost:
                result.warnings.append(
                    f"audit log {self._audit.path}: {self._audit.failure}; "
                    f"{lost} event(s) of this run not recorded"
                )
        return result

    def _standard_sinks(self, home: Path) -> list[Sink]:
        """The audit log (on by default) and OpenTelemetry export (when configured)."""
        sinks: list[Sink] = []
        if self.settings.audit:
            if self._audit is None:
                from podium.audit import audit_log

                self._audit = audit_log(home / "audit")
            sinks.append(self._audit.write)
        if self.settings.otlp_endpoint:
            if self._otel is None:
                from podium.otel import OTelSink

                self._otel = OTelSink.to_endpoint(self.settings.otlp_endpoint)
            sinks.append(self._otel)
        return sinks

    def _result(
        self, state: dict[str, Any], thread: str, tracer: Tracer, started: float
    ) -> RunResult:
        usage = state.get("usage") or {}
        answer = state.get("answer") or ""
        stop_reason = state.get("stop_reason") or "error"
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        tracer.emit(
            RunFinished(
                trace_id=tracer.trace_id,
                stop_reason=stop_reason,
                steps=state.get("step", 0),
                answer=answer,
                model=self.model_name,
                duration_ms=latency_ms,
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cost_usd=round(usage.get("cost_usd", 0.0), 8),
            )
        )
        return RunResult(
            answer=answer,
            stop_reason=stop_reason,
            tool_calls=state.get("outcomes") or [],
            usage=RunUsage(
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cost_usd=round(usage.get("cost_usd", 0.0), 8),
                model_calls=usage.get("model_calls", 0),
                steps=state.get("step", 0),
                latency_ms=latency_ms,
            ),
            trace_id=tracer.trace_id,
            thread_id=thread,
            model=self.model_name,
            events=tracer.events,
        )

    def invoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> RunResult:
        """Run one request to its end (blocking); see ``ainvoke``."""
        coroutine = self.ainvoke(request, thread_id, principal)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coroutine)
        # Called from inside an event loop (a notebook, a server): run on a worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    async def astream(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> AsyncIterator[Event | RunResult]:
        """Yield the run's events as they happen, then its RunResult."""
        events: asyncio.Queue[Event] = asyncio.Queue()
        task = asyncio.create_task(
            self.ainvoke(request, thread_id, principal, sinks=[events.put_nowait])
        )
        while not (task.done() and events.empty()):
            getter = asyncio.ensure_future(events.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()
        yield task.result()

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
