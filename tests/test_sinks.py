"""Every sink a run writes to, searched byte for byte for the secrets the run came across.

A custom model server (on loopback) is configured with a key of no known shape; a tool's
output and a tool's error hold secrets in each shape they are written in; the model echoes
the key, saves a note with the secrets, answers with them, and in a second run the server
refuses the key, quoting it in its 401. The audit log, threads.sqlite, the ledger, the
memory store's files and the RunResults must hold none of them, with or without guards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.agent import Agent
from podium.config import Settings
from podium.guardrails.screens import Screens
from podium.memory.store import MemoryStore
from podium.tools.builtin import memory_save
from podium.tools.registry import tool
from tests.memory.words import WordsEmbedder
from tests.planner.openai_server import completion, serve

KEY = "local-llm-key-7Q2x9Lm4Wv"  # a custom server's key: no provider's format
SECRETS = {
    "Authorization: Bearer {}": "b3arerT0kenQ9x7Zk2",
    "password={}": "hunter2x",
    "api_key={}": "0123456789abcdef0123456789abcdef",
    "password: {}": "swordfish9",
    '{{"api_key": "{}"}}': "jsonKey7Hq2Lm9",
    "https://shop.example.com/cb?token={}&page=2": "urlTok3n8Yp",
}
LEAK = "; ".join(shape.format(value) for shape, value in SECRETS.items()) + f"; key {KEY}"


@tool
def fetch_config() -> str:
    """Fetch the service's configuration."""
    return f"config: {LEAK}"


@tool
def log_in() -> str:
    """Log in to the service."""
    raise PermissionError(f"login refused: {LEAK}")


def _refused() -> tuple[int, dict[str, object]]:
    message = f"Incorrect API key provided: {KEY}. You can find your API key in your account."
    return 401, {"error": {"message": message, "type": "invalid_request_error", "code": "bad"}}


def _found_in(files: list[Path], where: str) -> list[str]:
    found = []
    for file in files:
        data = file.read_bytes()
        found += [
            f"{s} in {where} {file.name}" for s in [KEY, *SECRETS.values()] if s.encode() in data
        ]
    return found


@pytest.mark.parametrize("guards", ["none", "default"])
def test_no_sink_holds_a_secret(isolated: Path, tmp_path: Path, guards: str) -> None:
    script = [
        (
            200,
            completion(
                f"The server told me my key: {KEY}",
                tool_calls=[
                    ("c1", "fetch_config", "{}"),
                    ("c2", "memory_save", json.dumps({"text": f"service notes: {LEAK}"})),
                ],
            ),
        ),
        (200, completion(f"The configuration is {LEAK}")),
        (200, completion(tool_calls=[("c3", "fetch_config", "{}"), ("c4", "log_in", "{}")])),
        _refused(),
    ]
    memory = MemoryStore(tmp_path / "memory", WordsEmbedder())
    with serve(script) as server:
        settings = Settings.load(
            model="local-llama", openai_api_key=KEY, openai_base_url=server.url, model_retries=0
        )
        agent = Agent(
            [fetch_config, log_in, memory_save],
            settings=settings,
            memory=memory,
            guards=None if guards == "none" else Screens.default(),
        )
        answered = agent.invoke("What is the service's configuration?", thread_id="t-1")
        failed = agent.invoke("Log in to the service", thread_id="t-2")
    assert answered.stop_reason == "answered" and failed.stop_reason == "model_error"
    assert [c["status"] for c in failed.tool_calls] == ["ok", "error"]
    assert "Incorrect API key provided: [SECRET]" in failed.answer
    assert sum(memory.stats().values()) == 2  # the note and the episode, both redacted
    home = [f for f in isolated.rglob("*") if f.is_file()]
    assert any(f.name == "threads.sqlite" for f in home) and any(f.suffix == ".jsonl" for f in home)
    leaks = _found_in(home, "the home directory")
    leaks += _found_in([f for f in (tmp_path / "memory").rglob("*") if f.is_file()], "memory")
    for result in (answered, failed):
        text = result.model_dump_json()
        leaks += [f"{s} in a RunResult" for s in [KEY, *SECRETS.values()] if s in text]
    assert leaks == [], leaks


def test_a_chat_models_own_key_is_redacted_by_value() -> None:
    from langchain_openai import ChatOpenAI

    from podium.redaction import redact_secrets

    key = "own-model-key-3c9d81aa"
    model = ChatOpenAI(model="m", api_key=key, base_url="http://127.0.0.1:1/v1")
    Agent([], model=model, guards=None)
    assert redact_secrets(f"the server echoed {key}") == "the server echoed [SECRET]"
