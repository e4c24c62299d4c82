"""Fan-out and join: one request to several agents at once (LangGraph ``Send``), then a join.

Each branch is one sub-agent run in a thread of its own under the caller's. A branch that
raises, times out or stops without an answer is recorded as failed; the others go on and
the join sees every branch. Usage of all branches adds up in the result.
"""

from __future__ import annotations

import asyncio
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from pydantic import BaseModel
from typing_extensions import TypedDict

from podium.errors import ConfigError
from podium.identity import Principal
from podium.tools.outcomes import DelegatedReply
from podium.tools.registry import Tool, ToolContext, make_tool
from podium.tools.subagents import SUBAGENT_TAG

if TYPE_CHECKING:
    from podium.agent import Agent


class Branch(BaseModel):
    """How one branch went."""

    name: str
    ok: bool
    answer: str
    stop_reason: str
    trace_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    seconds: float = 0.0


class FanOutResult(BaseModel):
    """Every branch, and the joined answer."""

    answer: str
    branches: list[Branch]

    @property
    def failed(self) -> list[str]:
        """Names of the branches that did not answer."""
        return [b.name for b in self.branches if not b.ok]


Join = Callable[[str, list[Branch]], str]


def join_answers(request: str, branches: list[Branch]) -> str:
    """The default join: each branch's answer under its name; failures say why."""
    lines = [
        f"{b.name}: {b.answer}" if b.ok else f"{b.name}: no answer ({b.stop_reason}: {b.answer})"
        for b in sorted(branches, key=lambda b: b.name)
    ]
    return "\n".join(lines)


class _State(TypedDict):
    request: str
    thread: str
    principal: Principal | None
    branches: Annotated[list[Branch], operator.add]  # each Send branch adds its own
    answer: str


class _Job(TypedDict):
    name: str
    request: str
    thread: str
    principal: Principal | None


@dataclass
class FanOut:
    """Ask several agents the same request at once, then join their answers.

    ``requests`` may give a branch its own wording: a template with ``{request}``.
    """

    agents: dict[str, Agent]
    join: Join = join_answers
    timeout: float | None = 120.0
    requests: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.agents:
            raise ConfigError("a fan-out needs at least one agent", "pass agents={name: Agent}")
        unknown = sorted(set(self.requests or {}) - set(self.agents))
        if unknown:
            raise ConfigError(
                f"requests name unknown branches: {', '.join(unknown)}",
                f"the branches are: {', '.join(sorted(self.agents))}",
            )
        self._graph = self._build()

    def _build(self) -> Any:
        def dispatch(state: _State) -> list[Send]:
            templates = self.requests or {}
            return [
                Send(
                    "branch",
                    _Job(
                        name=name,
                        request=templates.get(name, "{request}").replace(
                            "{request}", state["request"]
                        ),
                        thread=f"{state['thread']}/{name}",
                        principal=state["principal"],
                    ),
                )
                for name in self.agents
            ]

        async def branch(state: _Job) -> dict[str, list[Branch]]:
            return {"branches": [await self._run(state)]}

        def join(state: _State) -> dict[str, str]:
            return {"answer": self.join(state["request"], state["branches"])}

        graph = StateGraph(_State)
        graph.add_node("branch", branch)
        graph.add_node("join", join)
        graph.add_conditional_edges(START, dispatch, ["branch"])
        graph.add_edge("branch", "join")  # join runs once, after every branch
        graph.add_edge("join", END)
        return graph.compile()

    async def _run(self, job: _Job) -> Branch:
        import time

        agent = self.agents[job["name"]]
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(
                agent.ainvoke(job["request"], thread_id=job["thread"], principal=job["principal"]),
                self.timeout,
            )
        except Exception as error:  # one branch failing must not sink the others
            late = isinstance(error, TimeoutError)
            return Branch(
                name=job["name"],
                ok=False,
                answer=f"no answer within {self.timeout} s"
                if late
                else f"{type(error).__name__}: {error}",
                stop_reason="timeout" if late else "error",
                seconds=time.perf_counter() - started,
            )
        usage = result.usage
        return Branch(
            name=job["name"],
            ok=result.ok,
            answer=result.answer,
            stop_reason=result.stop_reason,
            trace_id=result.trace_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            model_calls=usage.model_calls,
            seconds=time.perf_counter() - started,
        )

    async def ainvoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> FanOutResult:
        """Run every branch on ``request`` at once (as ``principal``), then the join."""
        state = await self._graph.ainvoke(
            {
                "request": request,
                "thread": thread_id or uuid.uuid4().hex,
                "principal": principal,
                "branches": [],
            }
        )
        return FanOutResult(answer=state["answer"], branches=state["branches"])

    def invoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> FanOutResult:
        """Run every branch on ``request`` at once, then the join (blocking)."""
        from podium.loop import run_sync

        return run_sync(self.ainvoke(request, thread_id, principal))

    def as_tool(self, name: str, description: str) -> Tool:
        """The fan-out as one tool of a parent agent; usage of every branch rolls up."""

        async def ask_all(request: str, context: ToolContext) -> DelegatedReply:
            result = await self.ainvoke(request, f"{context.thread_id}/{name}", context.principal)
            return DelegatedReply(
                answer=result.answer,
                input_tokens=sum(b.input_tokens for b in result.branches),
                output_tokens=sum(b.output_tokens for b in result.branches),
                cost_usd=sum(b.cost_usd for b in result.branches),
                model_calls=sum(b.model_calls for b in result.branches),
                trace_id=next((b.trace_id for b in result.branches if b.trace_id), ""),
            )

        ask_all.__doc__ = f"{description}\n\nArgs:\n    request: What to ask every agent.\n"
        return make_tool(ask_all, name=name, description=description, tags=[SUBAGENT_TAG])
