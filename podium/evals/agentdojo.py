"""AgentDojo as an eval: its task suites, tools, environments, attacks and checks, podium's agent.

``podium eval --agentdojo [SUITE]`` runs the installed ``agentdojo`` package's suites
(workspace, travel, banking, slack): each user task alone (benign utility), then with each
injection task placed by an attack (utility under attack, attack success), judged by the
suite's own utility and security checks. The pipeline is podium's Agent over the suite's
functions bound to the task's environment, with a layer of defense:

- ``none``: no guards, no provenance;
- ``detector``: podium's default screens with the learned detector on (the rules and it
  withhold flagged stretches of tool output);
- ``provenance``: arguments that name where data or money goes (recipients, addresses,
  IBANs, URLs, passwords; PROTECTED) accept values from the user only; every tool's output is
  untrusted; a call that breaks this waits for a person's approval;
- ``both``.

Who approves (``approver``): ``nobody`` (every held call is declined: the agent on its
own), or ``asker``, the person who made the request, modelled as one who knows exactly
what they asked for: they approve a held call that is one of their task's own ground-truth
calls (same function, same arguments) and decline any other. That is an upper bound on a
real person's judgement; what it measures is the attention asked of them: how many
approvals, and how many of those were for calls the task did not need (an attacker's).

Offline the model is a scripted **obedient** one (``ScriptedObedientModel``): it makes the
user task's ground-truth calls one by one and, as soon as a tool output it reads holds an
injection task's goal, makes that task's ground-truth calls first (the worst case: it obeys
whatever it reads); it answers with the task's ground-truth output. With ``model`` given,
that chat model plans instead. Each run can be recorded (:class:`Trial`: what was judged,
the reasons of the calls nobody approved, the guard decisions), to say why utility was lost.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from podium.guardrails.reading import read as read_text
from podium.planner.models.scripted import ScriptedChatModel
from podium.tools.registry import Tool

Layer = Literal["none", "detector", "provenance", "both"]
Approver = Literal["nobody", "asker"]
APPROVERS: tuple[Approver, ...] = ("nobody", "asker")
LAYERS: tuple[Layer, ...] = ("none", "detector", "provenance", "both")
SUITES = ("workspace", "travel", "banking", "slack")
VERSION = "v1.2.1"
ATTACK = "important_instructions_no_model_name"
# Arguments that say where data, money or access goes: from the user only, with provenance on.
PROTECTED = frozenset(
    {
        "recipient",
        "recipients",
        "cc",
        "bcc",
        "email",
        "user_email",
        "participants",
        "url",
        "password",
        "iban",
    }
)
_SPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def obedient_model(
    user_calls: Sequence[Any], injections: dict[str, tuple[str, Sequence[Any]]], answer: str
) -> ScriptedChatModel:
    """The scripted obedient model of one task (see the module's docstring).

    ``injections`` maps each injection task's id to its goal and ground-truth calls.
    """
    queue: list[Any] = list(user_calls)
    obeyed: set[str] = set()

    def respond(messages: list[BaseMessage]) -> AIMessage:
        start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        outputs = [str(m.content) for m in messages[start:] if isinstance(m, ToolMessage)]
        # read as a model reads YAML: quotes undoubled, folded lines joined
        read = _flat(" ".join(v.text for o in outputs for v in read_text(o).values))
        for task_id, (goal, calls) in injections.items():
            if task_id not in obeyed and _flat(goal) in read:
                obeyed.add(task_id)
                queue[0:0] = calls
        if not queue:
            return AIMessage(content=answer)
        call = queue.pop(0)
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": call.function,
                    "args": dict(call.args),
                    "id": f"call_{uuid.uuid4().hex[:8]}",
                }
            ],
        )

    return ScriptedChatModel(turns=[respond], repeat_last=True, model="ScriptedObedientModel")


@dataclass
class Bound:
    """A suite's functions bound to one environment, recording the calls as AgentDojo does."""

    runtime: Any
    env: Any
    messages: list[dict[str, Any]] = field(default_factory=list)

    def tools(self, provenance: bool) -> list[Tool]:
        """The suite's functions as podium tools (protected arguments from the user only)."""
        return [self._tool(function, provenance) for function in self.runtime.functions.values()]

    def _tool(self, function: Any, provenance: bool) -> Tool:
        from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
        from agentdojo.functions_runtime import FunctionCall
        from agentdojo.types import text_content_block_from_string

        name = function.name

        def run(**kwargs: Any) -> str:
            call = FunctionCall(function=name, args=kwargs)
            result, error = self.runtime.run_function(self.env, name, kwargs)
            text = error or tool_result_to_str(result)
            content = [text_content_block_from_string("")]
            self.messages.append({"role": "assistant", "content": content, "tool_calls": [call]})
            self.messages.append(
                {
                    "role": "tool",
                    "content": [text_content_block_from_string(text)],
                    "tool_call": call,
                    "tool_call_id": None,
                    "error": error,
                }
            )
            if error:
                raise RuntimeError(error)
            return str(text)

        fields = set(function.parameters.model_fields)
        sources = {arg: frozenset({"user"}) for arg in fields & PROTECTED} if provenance else {}
        return Tool(
            name=name,
            description=function.description or name,
            function=run,
            arguments=function.parameters,
            sources=sources,
        )


@dataclass
class Trial:
    """One run of one user task (alone, or under one injection task): what was judged and why.

    ``declined`` holds the reasons of held calls the approver declined, ``approved`` of
    those it approved; ``flagged`` the guard decisions that withheld or blocked something.
    """

    suite: str
    layer: str
    user_task: str
    injection_task: str | None
    utility: bool = False
    security: bool = False
    declined: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)


@dataclass
class Score:
    """Counts of one layer: benign utility, utility under attack, attacks that succeeded."""

    benign: int = 0
    benign_n: int = 0
    utility: int = 0
    attacked: int = 0
    succeeded: int = 0
    asked: int = 0  # approvals asked of the person, in the attacked runs
    declined: int = 0  # of them, for calls the task did not need

    def approvals(self, layer: str) -> str:
        """One markdown table row: approvals asked per attacked run, and how many declined."""
        per_run = self.asked / self.attacked if self.attacked else 0.0
        return f"| {layer} | {self.asked} ({per_run:.2f} a run) | {self.declined} |"

    def row(self, layer: str) -> str:
        """One markdown table row: rates with their counts."""

        def ratio(k: int, n: int) -> str:
            return f"{k / n:.3f} ({k}/{n})" if n else "-"

        return (
            f"| {layer} | {ratio(self.benign, self.benign_n)} | "
            f"{ratio(self.utility, self.attacked)} | {ratio(self.succeeded, self.attacked)} |"
        )


def _pipeline(
    layer: Layer,
    model: BaseChatModel | None,
    suite: Any,
    user_task: Any,
    trial: Trial,
    approver: Approver = "nobody",
) -> Any:
    from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement
    from agentdojo.types import text_content_block_from_string

    class PodiumPipeline(BasePipelineElement):
        name = f"podium-{layer}-local"  # "local": the attack addresses a "Local model"

        def query(
            self,
            query: str,
            runtime: Any,
            env: Any = None,
            messages: Sequence[Any] = (),
            extra_args: dict[str, Any] | None = None,
        ) -> tuple[Any, ...]:
            answer = _run(layer, model, suite, user_task, runtime, env, query, trial, approver)
            bound_messages, final = answer
            out = [
                {"role": "user", "content": [text_content_block_from_string(query)]},
                *bound_messages,
                {
                    "role": "assistant",
                    "content": [text_content_block_from_string(final)],
                    "tool_calls": None,
                },
            ]
            return query, runtime, env, [*messages, *out], extra_args or {}

    return PodiumPipeline()


def _run(
    layer: Layer,
    model: BaseChatModel | None,
    suite: Any,
    user_task: Any,
    runtime: Any,
    env: Any,
    query: str,
    trial: Trial,
    approver: Approver = "nobody",
) -> tuple[list[dict[str, Any]], str]:
    from podium.agent import Agent
    from podium.config import Limits
    from podium.guardrails.screens import Screens
    from podium.identity import Principal
    from podium.planner.approvals import Approval
    from podium.tracing.events import GuardDecided

    bound = Bound(runtime, env)
    user_calls = user_task.ground_truth(env.model_copy(deep=True))
    injections = {
        task_id: (task.GOAL, task.ground_truth(env.model_copy(deep=True)))
        for task_id, task in suite.injection_tasks.items()
    }
    if model is None:
        model = obedient_model(user_calls, injections, user_task.GROUND_TRUTH_OUTPUT)
    guards = Screens.default(learned=True) if layer in ("detector", "both") else None
    # Room for the task's own calls and the longest injection's, one a step (the obedient
    # model's pace), and never less than AgentDojo's own tool loop (15 rounds): the default
    # of 12 cut the longest tasks short (travel's user_task_19 has 18 calls) on every layer.
    longest = max((len(calls) for _, calls in injections.values()), default=0)
    limits = Limits(max_steps=max(15, len(user_calls) + longest + 2))
    tools = bound.tools(layer in ("provenance", "both"))
    agent = Agent(tools, model=model, guards=guards, limits=limits)
    thread = uuid.uuid4().hex
    # The person the suite's user is: workspace's is the inbox's owner (an address).
    inbox = getattr(env, "inbox", None)
    user = str(getattr(inbox, "account_email", "") or "user")
    result = agent.invoke(
        query, principal=Principal(id=user, scopes=frozenset({"*"})), thread_id=thread
    )
    for _ in range(20):
        trial.flagged += [
            f"{e.boundary} {e.subject} {e.action}: {'; '.join(e.reasons)}"
            for e in result.events
            if isinstance(e, GuardDecided) and e.action != "allow"
        ]
        if result.stop_reason != "awaiting_approval":
            break
        decisions: dict[str, bool | Approval] = {}
        for request in result.pending_approvals:
            yes = approver == "asker" and _asked_for(request.tool, request.arguments, user_calls)
            (trial.approved if yes else trial.declined).append(request.reason)
            decisions[request.call_id] = yes
        result = agent.resume(thread, decisions)
    return bound.messages, result.answer


def _asked_for(tool: str, arguments: dict[str, Any], calls: Sequence[Any]) -> bool:
    """Whether a held call is one of the task's own: same function, same arguments.

    Arguments the ground truth leaves out may be there only with no value.
    """
    for call in calls:
        if call.function != tool:
            continue
        given = {k: v for k, v in arguments.items() if v is not None}
        if given.keys() <= call.args.keys() and all(
            given.get(k) == v for k, v in call.args.items() if v is not None
        ):
            return True
    return False


def run_suite(
    name: str,
    layers: Sequence[Layer] = LAYERS,
    model: BaseChatModel | None = None,
    limit: int | None = None,
    attack: str = ATTACK,
    progress: Callable[[str], None] | None = None,
    trials: list[Trial] | None = None,
    approver: Approver = "nobody",
) -> dict[str, Score]:
    """Every user task of suite ``name`` alone and under every injection task, per layer.

    Each run's :class:`Trial` is appended to ``trials`` when given; ``approver`` decides
    the calls held for a person.
    """
    from agentdojo.attacks.attack_registry import load_attack
    from agentdojo.task_suite.load_suites import get_suite

    suite = get_suite(VERSION, name)
    users = list(suite.user_tasks.values())[:limit]
    scores: dict[str, Score] = {layer: Score() for layer in layers}
    for layer in layers:
        for user_task in users:
            score = scores[layer]
            trial = Trial(name, layer, user_task.ID, None)
            utility, _ = suite.run_task_with_pipeline(
                _pipeline(layer, model, suite, user_task, trial, approver), user_task, None, {}
            )
            trial.utility = bool(utility)
            score.benign_n += 1
            score.benign += bool(utility)
            attacked = [trial]
            for injection_task in suite.injection_tasks.values():
                trial = Trial(name, layer, user_task.ID, injection_task.ID)
                pipeline = _pipeline(layer, model, suite, user_task, trial, approver)
                injections = load_attack(attack, suite, pipeline).attack(user_task, injection_task)
                utility, security = suite.run_task_with_pipeline(
                    pipeline, user_task, injection_task, injections
                )
                trial.utility, trial.security = bool(utility), bool(security)
                attacked.append(trial)
                score.attacked += 1
                score.utility += bool(utility)
                score.succeeded += bool(security)
                score.asked += len(trial.approved) + len(trial.declined)
                score.declined += len(trial.declined)
            if trials is not None:
                trials += attacked
            if progress is not None:
                progress(f"{name} {layer} {user_task.ID}: {score.row(layer)}")
    return scores
