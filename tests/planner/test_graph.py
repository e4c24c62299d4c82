"""Graph paths, driven by ScriptedChatModel (a stand-in for an LLM with a known plan)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from podium.agent import Agent
from podium.config import Limits, Settings
from podium.errors import HomeNotWritable, InvalidRequest
from podium.identity import Principal
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.events import NodeFinished, RunFinished


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def explode() -> str:
    """Always fail."""
    raise RuntimeError("disk full")


@tool
async def hang() -> str:
    """Never finish."""
    await asyncio.sleep(3600)
    return "unreachable"


def agent(model: ScriptedChatModel, *tools: object, **options: object) -> Agent:
    options.setdefault("guards", None)
    return Agent(list(tools) or [add], model=model, **options)  # type: ignore[arg-type]


def last_tool_results(messages: list[BaseMessage]) -> list[str]:
    results: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        results.insert(0, str(message.content))
    return results


def answer_with_results(messages: list[BaseMessage]) -> AIMessage:
    return AIMessage(content="results: " + " | ".join(last_tool_results(messages)))


def test_direct_answer() -> None:
    model = ScriptedChatModel(turns=["Hello there."])
    result = agent(model).invoke("hi")
    assert (result.answer, result.stop_reason, result.tool_calls) == (
        "Hello there.",
        "answered",
        [],
    )
    assert result.usage.steps == 1 and result.usage.input_tokens > 0
    model.assert_complete()


def test_one_tool_then_answer() -> None:
    model = ScriptedChatModel(turns=[calls(call("add", "c1", a=2, b=3)), answer_with_results])
    result = agent(model).invoke("add 2 and 3")
    assert result.answer == "results: 5"
    assert [(c["call_id"], c["name"], c["status"], c["output"]) for c in result.tool_calls] == [
        ("c1", "add", "ok", "5")
    ]
    seen = model.calls[1].messages[-1]
    assert isinstance(seen, ToolMessage) and seen.tool_call_id == "c1"
    assert [t["function"]["name"] for t in model.calls[0].tools] == ["add"]


def test_parallel_calls_run_concurrently_and_return_in_call_order() -> None:
    started = {"left": asyncio.Event(), "right": asyncio.Event()}

    def side(mine: str, other: str) -> object:
        async def run() -> str:
            started[mine].set()
            await asyncio.wait_for(started[other].wait(), 2)  # only if both run at once
            return mine

        run.__doc__ = f"Return {mine!r} once the other call has started."
        run.__name__ = mine
        return tool(run)

    model = ScriptedChatModel(
        turns=[calls(call("right", "c1"), call("left", "c2")), answer_with_results]
    )
    result = agent(model, side("left", "right"), side("right", "left")).invoke("both")
    assert [c["call_id"] for c in result.tool_calls] == ["c1", "c2"]
    assert result.answer == "results: right | left"


def test_tool_error_is_read_and_recovered_from() -> None:
    model = ScriptedChatModel(
        turns=[
            calls(call("explode")),
            calls(call("add", a=1, b=1)),
            answer_with_results,
        ]
    )
    result = agent(model, add, explode).invoke("try")
    assert "RuntimeError: disk full" in last_tool_results(model.calls[1].messages)[0]
    assert [c["status"] for c in result.tool_calls] == ["error", "ok"]
    assert result.answer == "results: 2" and result.ok


def test_invalid_arguments_are_read_and_corrected() -> None:
    model = ScriptedChatModel(
        turns=[
            calls(call("add", a="two", b=3)),
            calls(call("add", a=2, b=3)),
            answer_with_results,
        ]
    )
    result = agent(model).invoke("add")
    feedback = last_tool_results(model.calls[1].messages)[0]
    assert "invalid arguments for 'add'" in feedback and "a:" in feedback
    assert [c["status"] for c in result.tool_calls] == ["invalid_arguments", "ok"]
    assert result.answer == "results: 5"


def test_malformed_json_and_unknown_tool_are_recovered_from() -> None:
    broken = AIMessage(
        content="",
        tool_calls=[call("adder", "c1", a=1)],
        invalid_tool_calls=[
            {
                "name": "add",
                "args": '{"a": 1,',
                "id": "c2",
                "error": "Expecting value",
                "type": "invalid_tool_call",
            }
        ],
    )
    model = ScriptedChatModel(turns=[broken, calls(call("add", a=1, b=2)), answer_with_results])
    result = agent(model).invoke("add")
    feedback = last_tool_results(model.calls[1].messages)
    assert "no tool named 'adder'" in feedback[0] and "Available tools: add" in feedback[0]
    assert "not valid JSON" in feedback[1]
    assert result.answer == "results: 3"


def test_step_limit_ends_the_run_with_a_partial_answer() -> None:
    model = ScriptedChatModel(turns=[calls(call("add", a=1, b=1))], repeat_last=True)
    result = agent(model, limits=Limits(max_steps=3)).invoke("loop forever")
    assert result.stop_reason == "step_limit"
    assert "step limit (3)" in result.answer and "Done so far" in result.answer
    assert len(result.tool_calls) == 3 and len(model.calls) == 3


def test_time_limit_ends_a_hanging_tool_and_the_run() -> None:
    model = ScriptedChatModel(turns=[calls(call("hang"))], repeat_last=True)
    started = time.perf_counter()
    result = agent(model, hang, limits=Limits(max_seconds=0.5)).invoke("wait")
    assert result.stop_reason == "time_limit" and "time limit (0.5s)" in result.answer
    assert result.tool_calls[0]["status"] == "timeout"
    assert time.perf_counter() - started < 5


def test_time_limit_while_the_model_answers() -> None:
    model = ScriptedChatModel(turns=["late"], latency=5)
    result = agent(model, limits=Limits(max_seconds=0.3)).invoke("hurry")
    assert result.stop_reason == "time_limit" and "while the model was answering" in result.answer


def test_a_new_agent_continues_a_thread_from_disk() -> None:
    first = ScriptedChatModel(turns=["Nice to meet you, Ada."])
    agent(first).invoke("My name is Ada.", thread_id="thread-1")
    second = ScriptedChatModel(turns=["Your name is Ada."])
    result = agent(second).invoke("What is my name?", thread_id="thread-1")
    history = [str(m.content) for m in second.calls[0].messages if not m.type == "system"]
    assert history == ["My name is Ada.", "Nice to meet you, Ada.", "What is my name?"]
    assert result.thread_id == "thread-1" and result.usage.steps == 1


def test_policy_denies_a_call_without_the_scope_and_never_runs_it() -> None:
    ran: list[str] = []

    @tool(scopes=["deploy"], risk="high")
    def deploy(version: str) -> str:
        """Deploy a version."""
        ran.append(version)
        return "deployed"

    def script() -> ScriptedChatModel:
        return ScriptedChatModel(turns=[calls(call("deploy", version="1.2")), answer_with_results])

    denied = agent(script(), deploy).invoke("deploy 1.2")
    assert denied.tool_calls[0]["status"] == "denied"
    assert denied.answer == "results: permission denied: needs scope deploy"
    assert ran == []
    releaser = Principal(id="ci", scopes=frozenset({"deploy"}))
    allowed = agent(script(), deploy).invoke("deploy 1.2", principal=releaser)
    assert allowed.answer == "results: deployed" and ran == ["1.2"]


def test_stream_yields_node_events_then_the_result() -> None:
    model = ScriptedChatModel(turns=[calls(call("add", a=1, b=2)), "three"])
    items = list(agent(model).stream("add"))
    assert isinstance(items[-1], RunResult) and items[-1].answer == "three"
    nodes = [e.node for e in items if isinstance(e, NodeFinished)]
    assert nodes == [
        "begin",  # the request's checks and recall in one node
        "plan",
        "act",  # authorized, run and the next round planned: one checkpoint per tool step
        "finish",  # the answer's checks, then remembering or undoing, in one node
    ]
    assert isinstance(items[-2], RunFinished)


async def test_ainvoke_and_sync_invoke_inside_a_running_loop() -> None:
    model = ScriptedChatModel(turns=["async", "sync"])
    runner = agent(model)
    assert (await runner.ainvoke("a")).answer == "async"
    assert runner.invoke("b").answer == "sync"  # from inside this test's event loop


def test_bad_requests_are_refused_and_the_thread_stays_usable() -> None:
    model = ScriptedChatModel(turns=["still here"])
    runner = agent(model, settings=Settings.load(context_window=400))
    with pytest.raises(InvalidRequest, match="the request is empty"):
        runner.invoke("   ", thread_id="t")
    with pytest.raises(InvalidRequest, match="context window"):
        runner.invoke("word " * 1000, thread_id="t")
    assert runner.invoke("hello", thread_id="t").answer == "still here"


def test_unreachable_model_server_ends_the_run_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    monkeypatch.setenv("PODIUM_MODEL_RETRIES", "0")
    monkeypatch.setenv("PODIUM_MODEL", "local-model")
    result = Agent([add], guards=None).invoke("add 1 and 2", thread_id="t")
    assert result.stop_reason == "model_error"
    assert "ConnectionError: Connection error" in result.answer
    assert "fix: check that OPENAI_BASE_URL points at a running server" in result.answer
    follow_up = agent(ScriptedChatModel(turns=["recovered"])).invoke("again", thread_id="t")
    assert follow_up.answer == "recovered"


def test_unwritable_home_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PODIUM_HOME", str(blocker / "home"))
    with pytest.raises(HomeNotWritable, match="not writable"):
        agent(ScriptedChatModel(turns=["x"])).invoke("hi")


def test_router_is_the_default_model_and_answers_offline() -> None:
    from podium.tools.builtin import calculator

    runner = Agent([calculator], guards=None)
    assert runner.uses_router
    result = runner.invoke("what is 6 * 7")
    assert result.answer == 'calculator(expression="6 * 7") → 42' and result.model == "router"


def test_human_message_is_the_request() -> None:
    model = ScriptedChatModel(turns=["ok"])
    agent(model).invoke("exact words")
    assert isinstance(model.calls[0].messages[-1], HumanMessage)
    assert model.calls[0].messages[-1].content == "exact words"


def test_a_hanging_sync_tool_does_not_hold_up_the_caller() -> None:
    import threading

    release = threading.Event()

    @tool(timeout=0.2)
    def stuck() -> str:
        """Block until released."""
        release.wait(30)
        return "late"

    model = ScriptedChatModel(turns=[calls(call("stuck")), answer_with_results])
    started = time.perf_counter()
    result = agent(model, stuck).invoke("go")
    elapsed = time.perf_counter() - started
    release.set()
    assert result.tool_calls[0]["status"] == "timeout"
    assert elapsed < 10, f"invoke waited {elapsed:.1f}s for an abandoned tool thread"


def test_old_turns_are_trimmed_to_fit_the_context_window() -> None:
    settings = Settings.load(context_window=2000)  # 1024 of it reserved for the reply
    first, second = "alpha " * 600, "omega " * 600
    agent(ScriptedChatModel(turns=["ok"]), settings=settings).invoke(first, thread_id="t")
    model = ScriptedChatModel(turns=["ok"])
    agent(model, settings=settings).invoke(second, thread_id="t")
    sent = [m.content for m in model.calls[0].messages if m.type != "system"]
    assert sent == [second]


def test_a_long_tool_output_is_scanned_for_secrets_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from podium import known_secrets

    key = "graph-test-key-7Hq2"
    known_secrets.add([key])
    scanned_on: list[str] = []
    spans = known_secrets.spans

    def watched(text: str) -> list[tuple[int, int]]:
        if key in text:
            scanned_on.append(threading.current_thread().name)
        return spans(text)

    monkeypatch.setattr(known_secrets, "spans", watched)

    @tool
    def dump() -> str:
        """Return a long log."""
        return "line of log\n" * 1_000 + f"key={key}\n"

    model = ScriptedChatModel(turns=[calls(call("dump", "c1")), "done"])
    result = agent(model, dump).invoke("show the log")
    assert key not in result.tool_calls[0]["output"]
    assert scanned_on and "podium-loop" not in scanned_on and "MainThread" not in scanned_on
