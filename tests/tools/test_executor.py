from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from podium.identity import Principal
from podium.tools.executor import Executor
from podium.tools.outcomes import ToolCall
from podium.tools.registry import ToolContext, ToolRegistry, tool


def context_for(call: ToolCall) -> ToolContext:
    return ToolContext(
        call_id=call.id,
        thread_id="t",
        run_id="r",
        step=1,
        principal=Principal.local(),
        sandbox=Path("."),
    )


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fail."""
    raise RuntimeError(reason)


@tool(timeout=0.2)
async def hang() -> str:
    """Never finish."""
    await asyncio.sleep(3600)
    return "unreachable"


def executor(*tools: object) -> Executor:
    registry = ToolRegistry()
    for item in tools:
        registry.register(item)  # type: ignore[arg-type]
    return Executor(registry, default_timeout=5)


async def test_calls_of_a_round_run_concurrently_and_keep_their_order() -> None:
    first_started = asyncio.Event()
    second_started = asyncio.Event()

    @tool
    async def first() -> str:
        """Wait for the second call to start: only possible if both run at once."""
        first_started.set()
        await asyncio.wait_for(second_started.wait(), 2)
        return "first"

    @tool
    async def second() -> str:
        """Wait for the first call to start."""
        second_started.set()
        await asyncio.wait_for(first_started.wait(), 2)
        return "second"

    outcomes = await executor(first, second).run_round(
        [ToolCall("c1", "first", {}), ToolCall("c2", "second", {})], context_for, 10, 1
    )
    assert [(o["call_id"], o["status"], o["output"]) for o in outcomes] == [
        ("c1", "ok", "first"),
        ("c2", "ok", "second"),
    ]


async def test_every_failure_becomes_a_message_for_the_planner() -> None:
    outcomes = await executor(add, explode, hang).run_round(
        [
            ToolCall("1", "add", {"a": 2, "b": 3}),
            ToolCall("2", "nope", {}),
            ToolCall("3", "add", {}, parse_error="Expecting value: line 1 column 1"),
            ToolCall("4", "add", {"a": "two", "b": 3}),
            ToolCall("5", "explode", {"reason": "disk full"}),
            ToolCall("6", "hang", {}),
        ],
        context_for,
        10,
        1,
    )
    by_id = {o["call_id"]: o for o in outcomes}
    assert by_id["1"]["status"] == "ok" and by_id["1"]["output"] == "5"
    assert by_id["2"]["status"] == "unknown_tool"
    assert "no tool named 'nope'" in by_id["2"]["output"]
    assert "add, explode, hang" in by_id["2"]["output"]
    assert by_id["3"]["status"] == "invalid_arguments"
    assert "not valid JSON" in by_id["3"]["output"]
    assert by_id["4"]["status"] == "invalid_arguments" and "a:" in by_id["4"]["output"]
    assert by_id["5"]["status"] == "error"
    assert "RuntimeError: disk full" in by_id["5"]["output"]
    assert by_id["6"]["status"] == "timeout" and "0.2s" in by_id["6"]["output"]


async def test_timeout_is_bounded_by_the_time_left_in_the_run() -> None:
    (outcome,) = await executor(hang).run_round([ToolCall("1", "hang", {})], context_for, 0.05, 1)
    assert outcome["status"] == "timeout"
    import re

    bound = float(re.findall(r"within ([\d.]+)s", outcome["output"])[0])
    assert bound <= 0.05  # the run's 0.05 s left, not the tool's own 0.2 s


async def test_output_screen_can_fix_or_withhold() -> None:
    async def redact(tool_name: str, text: str) -> dict[str, object]:
        if "secret" in text:
            return {"action": "block", "text": text, "reasons": ["contains a secret"]}
        return {"action": "fix", "text": text.replace("5", "[N]"), "reasons": ["number"]}

    runner = executor(add, explode)
    runner.screen_output = redact  # type: ignore[assignment]
    (fixed,) = await runner.run_round([ToolCall("1", "add", {"a": 2, "b": 3})], context_for, 5, 1)
    assert fixed["output"] == "[N]"

    @tool
    def leak() -> str:
        """Return a secret."""
        return "the secret is 42"

    runner.registry.register(leak)
    (withheld,) = await runner.run_round([ToolCall("2", "leak", {})], context_for, 5, 1)
    assert withheld["status"] == "blocked"
    assert "42" not in withheld["output"] and "contains a secret" in withheld["output"]


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], None, 3.5])
def test_outputs_render_as_json(value: object) -> None:
    import json

    from podium.tools.outcomes import render_output

    assert json.loads(render_output(value)) == value


def recording(runner: Executor) -> list[object]:
    events: list[object] = []
    runner.emit = events.append
    runner.retry_wait = 0.001
    return events


async def test_declared_errors_are_retried_with_backoff_until_success() -> None:
    attempts: list[int] = []

    @tool(retries=3, retry_on=(ConnectionError,))
    def flaky() -> str:
        """Fail twice, then work."""
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("reset by peer")
        return "ok"

    runner = executor(flaky)
    events = recording(runner)
    (outcome,) = await runner.run_round([ToolCall("1", "flaky", {})], context_for, 10, 1)
    assert outcome["status"] == "ok" and len(attempts) == 3
    from podium.tracing.events import Retried

    retries = [e for e in events if isinstance(e, Retried)]
    assert [(r.attempt, r.error) for r in retries] == [
        (1, "ConnectionError: reset by peer"),
        (2, "ConnectionError: reset by peer"),
    ]


async def test_undeclared_errors_are_not_retried_and_retries_run_out() -> None:
    calls: list[str] = []

    @tool(retries=2, retry_on=(ConnectionError,))
    def strict(kind: str) -> str:
        """Fail as told."""
        calls.append(kind)
        raise (ValueError if kind == "value" else ConnectionError)(kind)

    runner = executor(strict)
    recording(runner)
    value, connection = await runner.run_round(
        [ToolCall("1", "strict", {"kind": "value"}), ToolCall("2", "strict", {"kind": "net"})],
        context_for,
        10,
        1,
    )
    assert calls.count("value") == 1 and calls.count("net") == 3
    assert "ValueError: value" in value["output"] and "ConnectionError: net" in connection["output"]


async def test_a_failing_tool_falls_back_to_another_with_the_same_arguments() -> None:
    @tool(fallback="backup_weather")
    def weather(city: str) -> str:
        """Weather from the main provider."""
        raise RuntimeError("provider down")

    @tool
    def backup_weather(city: str) -> str:
        """Weather from the backup provider."""
        return f"{city}: sunny"

    @tool(fallback="missing_tool")
    def lonely(city: str) -> str:
        """A tool whose fallback does not exist."""
        raise RuntimeError("down")

    runner = executor(weather, backup_weather, lonely)
    events = recording(runner)
    ok, orphan = await runner.run_round(
        [ToolCall("1", "weather", {"city": "Oslo"}), ToolCall("2", "lonely", {"city": "Oslo"})],
        context_for,
        10,
        1,
    )
    assert ok["status"] == "ok" and ok["output"] == "Oslo: sunny"
    from podium.tracing.events import FallbackUsed

    (used,) = [e for e in events if isinstance(e, FallbackUsed)]
    assert (used.name, used.fallback, used.call_id) == ("weather", "backup_weather", "1")
    assert (
        orphan["status"] == "error"
        and "fallback 'missing_tool' is not registered" in (orphan["output"])
    )


async def test_the_circuit_opens_after_repeated_failures_and_closes_after_a_success() -> None:
    from podium.tools.breaker import CircuitBreaker
    from podium.tracing.events import CircuitOpened

    healthy = {"now": False}
    calls: list[int] = []

    @tool
    def service(n: int) -> str:
        """A service that may be down."""
        calls.append(n)
        if not healthy["now"]:
            raise ConnectionError("down")
        return "up"

    runner = executor(service)
    runner.breaker = CircuitBreaker(threshold=2, cooldown=0.2)
    events = recording(runner)
    for n in range(3):
        await runner.run_round([ToolCall(str(n), "service", {"n": n})], context_for, 10, 1)
    assert calls == [0, 1]  # the third call was refused without running
    assert any(isinstance(e, CircuitOpened) for e in events)
    (refused,) = await runner.run_round([ToolCall("x", "service", {"n": 9})], context_for, 10, 1)
    assert "switched off for now" in refused["output"] and calls == [0, 1]
    await asyncio.sleep(0.25)
    healthy["now"] = True
    (trial,) = await runner.run_round([ToolCall("y", "service", {"n": 5})], context_for, 10, 1)
    assert trial["status"] == "ok" and runner.breaker.allows("service")


async def test_a_models_bad_arguments_never_switch_a_tool_off() -> None:
    # Five bad expressions from a model once switched the calculator off for 30 s, for
    # every run of the agent: bad input is the call's fault, not an outage of the tool.
    from podium.tools.breaker import CircuitBreaker
    from podium.tools.builtin import calculator

    runner = executor(calculator)
    runner.breaker = CircuitBreaker(threshold=2, cooldown=60)
    for n in range(5):
        await runner.run_round(
            [ToolCall(str(n), "calculator", {"expression": "2 +* 3"})], context_for, 10, 1
        )
    (good,) = await runner.run_round(
        [ToolCall("ok", "calculator", {"expression": "2 + 3"})], context_for, 10, 1
    )
    assert good["status"] == "ok" and good["output"] == "5"


async def test_retry_waits_follow_the_configured_base_wait() -> None:
    from podium.tracing.events import Retried

    @tool(retries=3, retry_on=(ConnectionError,))
    def down() -> str:
        """Always unreachable."""
        raise ConnectionError("down")

    runner = executor(down)
    events = recording(runner)  # base wait 1 ms
    await runner.run_round([ToolCall("1", "down", {})], context_for, 10, 1)
    waits = [e.wait_seconds for e in events if isinstance(e, Retried)]
    assert len(waits) == 3 and max(waits) < 0.01  # 1, 2, 4 ms plus at most 1 ms of jitter
