"""Tools: typed functions the planner may call, their schemas, and the registry that holds them."""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_type_hints, overload

from pydantic import BaseModel
from typing_extensions import TypedDict, Unpack

from podium.errors import ToolDefinitionError

if TYPE_CHECKING:
    from podium.identity import Principal
    from podium.memory.store import MemoryStore

logger = logging.getLogger(__name__)

Risk = Literal["low", "medium", "high"]
# OpenAI's rule for function names; other providers accept a superset.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ToolContext:
    """What a running tool may know about its call; declare a parameter of this type to get it.

    The parameter is injected by podium and never appears in the tool's schema.
    """

    call_id: str
    thread_id: str
    run_id: str
    step: int
    principal: Principal
    sandbox: Path
    memory: MemoryStore | None = None
    # Screens a text before it is written to memory: the text to write, or None if refused
    # (with the reason raised as an error by the caller).
    memory_guard: Callable[[str], tuple[str | None, str]] | None = None
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    # Screens a memory before a tool shows it to the planner: the text, or None if withheld.
    recall_guard: Callable[[str], str | None] | None = None

    @property
    def idempotency_key(self) -> str:
        """A key stable across retries and resumes of this very call, and of no other.

        It names the run, the step and the call id podium made unique within the step, and
        ends with a digest of the tool and its arguments: two different calls never share
        a key, even when a model repeats or omits call ids.
        """
        return idempotency_key(
            self.thread_id, self.run_id, self.step, self.call_id, self.tool, self.arguments
        )


def idempotency_key(
    thread_id: str, run_id: str, step: int, call_id: str, tool: str, arguments: dict[str, Any]
) -> str:
    """The ledger's key of one call (``ToolContext.idempotency_key``), from its parts."""
    what = json.dumps([tool, arguments], sort_keys=True, default=str)
    digest = hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{thread_id}:{run_id}:{step}:{call_id}:{digest}"


@dataclass(frozen=True)
class Tool:
    """A callable the planner may use, with its argument model and the metadata policy reads."""

    name: str
    description: str
    function: Callable[..., Any]
    arguments: type[BaseModel]
    context_parameter: str | None = None
    risk: Risk = "low"
    scopes: frozenset[str] = frozenset()
    timeout: float | None = None
    side_effects: bool = False
    tags: frozenset[str] = frozenset()
    repeatable: bool = False
    needs_approval: bool = False
    retries: int = 0
    retry_on: tuple[type[BaseException], ...] = ()
    fallback: str | None = None
    compensate: Callable[..., Any] | None = None
    # The parameters as their author described them (an MCP server's inputSchema): shown to
    # the model as they are; ``arguments`` still validates what the model sends.
    json_schema: dict[str, Any] | None = None
    # Per argument, the sources its values may come from (podium.guardrails.provenance);
    # an argument not named accepts any. Whether this tool's output is a trusted source.
    sources: Mapping[str, frozenset[str]] = field(default_factory=dict)
    trusted_output: bool = False

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function."""
        return inspect.iscoroutinefunction(self.function)

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments (a copy: the caller may change it)."""
        return copy.deepcopy(self._schema)

    @functools.cached_property
    def _schema(self) -> dict[str, Any]:
        # pydantic builds the schema afresh on every call (about 0.7 ms); the argument
        # screens read it on every tool call, so it is built once per tool.
        if self.json_schema is not None:
            return self.json_schema
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        return schema

    def openai_schema(self) -> dict[str, Any]:
        """The tool in OpenAI's function-calling format (what chat models bind)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters_schema(),
            },
        }

    def bind(self, arguments: BaseModel, context: ToolContext) -> dict[str, Any]:
        """Keyword arguments for the function: the validated fields plus the context."""
        kwargs = {name: getattr(arguments, name) for name in type(arguments).model_fields}
        if self.context_parameter:
            kwargs[self.context_parameter] = context
        return kwargs


def _first_paragraph(doc: str) -> str:
    text = inspect.cleandoc(doc)
    return text.split("\n\n", 1)[0].replace("\n", " ").strip()


class ToolOptions(TypedDict, total=False):
    """What a tool may declare besides its function (see Tool)."""

    name: str
    description: str
    risk: Risk
    scopes: Iterable[str]
    timeout: float
    side_effects: bool
    tags: Iterable[str]
    repeatable: bool
    needs_approval: bool
    retries: int
    retry_on: tuple[type[BaseException], ...]
    fallback: str
    compensate: Callable[..., Any]
    sources: Mapping[str, Iterable[str]]
    trusted_output: bool


def make_tool(function: Callable[..., Any], **options: Unpack[ToolOptions]) -> Tool:
    """Turn a typed function into a Tool; the schema comes from its type hints and docstring."""
    from podium.tools.schema import arguments_model

    name, description = options.pop("name", None), options.pop("description", None)
    tool_name = name or function.__name__
    if not _NAME.fullmatch(tool_name):
        raise ToolDefinitionError(
            f"tool name {tool_name!r} is not valid",
            "use 1-64 letters, digits, '_' or '-' (chat APIs reject other names)",
        )
    doc = description or (function.__doc__ and _first_paragraph(function.__doc__))
    if not doc:
        raise ToolDefinitionError(
            f"tool {tool_name!r} has no description",
            "give the function a docstring or pass description=...",
        )
    try:
        hints = get_type_hints(function)
    except NameError as error:
        raise ToolDefinitionError(
            f"tool {tool_name!r} has a type hint that cannot be resolved: {error}",
            "import the types its signature uses at module level",
        ) from error
    parameters = inspect.signature(function).parameters
    missing = [p for p in parameters if p not in hints and p not in ("self", "cls")]
    if missing:
        raise ToolDefinitionError(
            f"tool {tool_name!r} has parameters without type hints: {', '.join(missing)}",
            "annotate every parameter so its schema can be derived",
        )
    context_parameter = next((p for p, h in hints.items() if h is ToolContext), None)
    try:
        arguments = arguments_model(tool_name, function, [context_parameter or ""])
    except ValueError as error:
        raise ToolDefinitionError(
            f"tool {tool_name!r}: {error}", "describe only the function's own parameters"
        ) from error
    if not issubclass(arguments, BaseModel):  # a pydantic v1 model cannot validate here
        raise ToolDefinitionError(
            f"tool {tool_name!r} uses pydantic v1 types", "use pydantic v2 models"
        )
    if options.get("retries", 0) < 0:
        raise ToolDefinitionError(f"tool {tool_name!r} has negative retries", "use 0 or more")
    metadata: dict[str, Any] = dict(options)
    if "sources" in metadata:
        from podium.tools.sources import accepted_sources

        fields = set(arguments.model_fields)
        try:
            metadata["sources"] = accepted_sources(tool_name, metadata["sources"])
        except ValueError as error:
            raise ToolDefinitionError(str(error), "fix the tool's sources=") from error
        unknown = sorted(set(metadata["sources"]) - fields)
        if unknown:
            raise ToolDefinitionError(
                f"tool {tool_name!r}: sources= names arguments it does not have: {unknown}",
                f"use some of: {', '.join(sorted(fields))}",
            )
    for key in ("scopes", "tags"):
        if key in metadata:
            metadata[key] = frozenset(metadata[key])
    return Tool(
        name=tool_name,
        description=doc,
        function=function,
        arguments=arguments,
        context_parameter=context_parameter,
        **metadata,
    )


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(**options: Unpack[ToolOptions]) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None, /, **options: Unpack[ToolOptions]
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorate a typed function (sync or async) to make it a Tool.

    Use bare (``@tool``) or with options (``@tool(risk="high", scopes=["deploy"])``):
    ``repeatable`` tools (a clock, a status poll) may be called again with the same
    arguments in one run, others get their earlier result back; ``needs_approval`` tools wait
    for a person's decision (``Agent.resume``); ``retries`` and ``retry_on`` retry the errors
    the tool declares passing, with exponential backoff and jitter; ``fallback`` names a tool
    to call with the same arguments when this one fails; ``compensate`` undoes a side
    effect when the run fails (it gets the same arguments, and ``result`` if it asks).
    """

    def decorate(f: Callable[..., Any]) -> Tool:
        return make_tool(f, **options)

    return decorate(function) if function is not None else decorate


ToolLike = Tool | Callable[..., Any] | Callable[..., Awaitable[Any]]


@dataclass
class ToolRegistry:
    """The tools one agent may call, by name."""

    _tools: dict[str, Tool] = field(default_factory=dict)

    def register(self, item: ToolLike, *, replace: bool = False) -> Tool:
        """Add a Tool (or a plain typed function, made into one); names must be unique."""
        registered = item if isinstance(item, Tool) else make_tool(item)
        if registered.name in self._tools and not replace:
            raise ToolDefinitionError(
                f"a tool named {registered.name!r} is already registered",
                "give one of them another name, or pass replace=True",
            )
        self._tools[registered.name] = registered
        return registered

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or None."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool in OpenAI's function-calling format, in registration order."""
        return [t.openai_schema() for t in self._tools.values()]

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def load_plugins(self) -> list[str]:
        """Register tools published under ``podium.tools``; return problems found.

        An entry point may name a Tool, a typed function, or a list of either. A plugin that
        fails to import or register is named in the returned problems and skipped; the rest
        still load.
        """
        from podium import plugins

        found, problems = plugins.load("tools")
        for name, loaded in found.items():
            try:
                for item in loaded if isinstance(loaded, list | tuple) else [loaded]:
                    self.register(item)
            except Exception as error:  # a broken plugin must not stop the others
                message = f"plugin {name!r} skipped: {error}"
                logger.warning(message)
                problems.append(message)
        return problems
