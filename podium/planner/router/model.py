"""RouterChatModel: the offline, deterministic model that answers when no LLM is configured.

It picks tools by matching each clause of the request against the tools' names and
descriptions, fills their arguments from the text by JSON-schema type, calls no tool when
nothing fits, and composes its answer from the tool results. It cannot reason: it shows what
podium's loop does without an LLM, and gives evals a floor to compare models against.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from podium.planner.output import FINAL_ANSWER
from podium.planner.prompts import unspotlight
from podium.planner.router.args import Filled, fill_arguments
from podium.planner.router.earlier import unresolved_answer, with_previous_result
from podium.planner.router.output import fill_output
from podium.planner.router.spread import consistent, settled, variants
from podium.planner.router.text import ToolProfile, idf, score, words
from podium.tools.plain_math import symbolic

ROUTER_NAME = "router"
NOTICE = "offline router model: no LLM configured"
MAX_PARTS = 24
NEIGHBOURS = 2  # sentences on each side that may complete a call
# Linear time: no split is tried from inside a run of spaces (the run's start gives the
# same one), and possessive runs give nothing back; 12 KB of spaces took 20 s before.
_STRONG_SPLIT = re.compile(
    r"(?<=[.?!;])\s++|(?!(?<=\s)\s)\s*+\b(?:and then|then|and also|also|after that)\b\s*+",
    re.IGNORECASE,
)
_WEAK_SPLIT = re.compile(r"(?!(?<=\s)\s),?\s++and\s++|,\s++", re.IGNORECASE)
_COMMA_SPLIT = re.compile(r",\s+(?:and\s+)?", re.IGNORECASE)
_TOPIC = re.compile(r"\b(?:for|about|regarding|named|called|on|that)\s+(.+)$", re.IGNORECASE)


def _new_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


class RouterChatModel(BaseChatModel):
    """Offline deterministic chat model that routes requests to tools by similarity.

    Lexical by default. Given an embedder (the memory's), it adds the cosine similarity
    between the clause and each tool's name and description, and uses ``semantic_threshold``:
    chosen on BFCL simple_python and irrelevance, checked on BFCL multiple (BENCHMARKS.md).
    """

    # No language model: it reads no tokens, so its turns cost none (and no tokenizer loads).
    reads_tokens: ClassVar[bool] = False
    threshold: float = 0.25
    evidence_weight: float = 0.3
    embedder: Any = Field(default=None, exclude=True)
    semantic_threshold: float = 0.85
    semantic_evidence_weight: float = 0.7
    _vectors: dict[str, list[float]] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "podium-router"

    @property
    def model_name(self) -> str:
        """The name podium reports for this model."""
        return ROUTER_NAME

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tool schemas (any format LangChain understands)."""
        bound = self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)
        return cast("Runnable[LanguageModelInput, AIMessage]", bound)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        bound: list[dict[str, Any]] = kwargs.get("tools") or []
        tools = [t for t in bound if t.get("function", {}).get("name") != FINAL_ANSWER]
        final = next((t for t in bound if t not in tools), None)
        request, results, asked_at = _tail(messages)
        pointer = None
        if not results:
            request, pointer = with_previous_result(request, messages, asked_at)
        if pointer is not None:
            message = AIMessage(content=unresolved_answer(pointer))
        elif results:
            message = self.follow_up(request, tools, results) or _answer(final, results)
        else:
            message = self.plan(request, tools)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def plan(self, request: str, tools: list[dict[str, Any]]) -> AIMessage:
        """The calls for ``request``: one per clause that matches a tool, or a direct answer."""
        catalog = ToolCatalog.of(tools)
        tool_calls: list[dict[str, Any]] = []
        unfilled: list[str] = []
        clauses = [self.read(clause, catalog) for clause in _clauses(request)]
        matched = [self._matches(clause, catalog) for clause in clauses]
        complete = [all(m is not None and not m[1].missing for _, m in ms) for ms in matched]
        for index, parts in enumerate(matched):
            for said, match in parts:  # said: the text the arguments come from
                if match is None:
                    continue
                name, filled = match
                if filled.missing and len(clauses) > 1:
                    # A value may sit in a sentence of its own ("... Liverpool F.C. Include
                    # its statistics."): the neighbouring sentences that make no call of
                    # their own are evidence too (the nearest few: a long text stays linear).
                    near = range(max(0, index - NEIGHBOURS), index + NEIGHBOURS + 1)
                    rest = " ".join(
                        clauses[i]
                        for i in near
                        if i != index and i < len(clauses) and not complete[i]
                    )
                    if rest:
                        joined = said if said.endswith((".", "?", "!")) else f"{said}."
                        said = f"{joined} {rest}"
                        filled = _fill(catalog.profile(name), said, catalog)
                if filled.missing:
                    unfilled.append(f"{name} needs {', '.join(filled.missing)}")
                    continue
                spread = _spread(catalog.profile(name), said, filled, catalog)
                tool_calls += [
                    {"name": name, "args": each.arguments, "id": _new_id(), "type": "tool_call"}
                    for each in spread or [filled]
                ]
        if tool_calls:
            return AIMessage(content="", tool_calls=tool_calls)
        return AIMessage(content=_no_tool_answer(request, unfilled))

    def follow_up(
        self,
        request: str,
        tools: list[dict[str, Any]],
        results: list[tuple[str, dict[str, Any], str]],
    ) -> AIMessage | None:
        """Calls the results make possible: re-planning after a round.

        A clause whose tool lacked a value ("then list the orders of that customer") is
        tried again with the tool outputs so far as more evidence ("customer C-17"). A call
        already made is not made again, so the rounds end.
        """
        catalog = ToolCatalog.of(tools)
        evidence = " ".join(output for _, _, output in results)
        made = {(name, _key(args)) for name, args, _ in results}
        tool_calls: list[dict[str, Any]] = []
        for clause in (self.read(c, catalog) for c in _clauses(request)):
            for _, match in self._matches(clause, catalog):
                if match is None or not match[1].missing:
                    continue
                name = match[0]
                filled = _fill(catalog.profile(name), f"{clause} {evidence}", catalog, topic=False)
                key = (name, _key(filled.arguments))
                if filled.missing or key in made:
                    continue
                made.add(key)
                tool_calls.append(
                    {"name": name, "args": filled.arguments, "id": _new_id(), "type": "tool_call"}
                )
        return AIMessage(content="", tool_calls=tool_calls) if tool_calls else None

    def read(self, clause: str, catalog: ToolCatalog) -> str:
        """The clause, or its arithmetic when it is arithmetic said in words and that fits.

        "What is 1,234 + 5,678?" is read as 1234 + 5678 (not the 234 + 5 a span of it
        holds), "square root of 144" as 144 ** 0.5: the call shows how it was read. A tool
        its words name ("Multiply 12 and 7" for a multiply tool) keeps the words.
        """
        said = symbolic(clause)
        if said is None or said == clause:
            return clause
        read = self._match(said, catalog)
        if read is None or read[1].missing:
            return clause
        original = self._match(clause, catalog)
        if original is None or original[1].missing or original[0] == read[0]:
            return said
        return clause

    def choose(self, text: str, catalog: ToolCatalog) -> ToolProfile | None:
        """The tool that best matches ``text``, if it scores above the threshold.

        The score adds the word match, a credit when the text holds values only this tool's
        parameters take (an expression, an email...), and with an embedder the cosine
        similarity; the credit and the threshold are set per mode (BENCHMARKS.md).
        """
        semantic = self.embedder is not None
        credit = self.semantic_evidence_weight if semantic else self.evidence_weight
        request_words = words(text)
        scores = [
            score(request_words, p, catalog.weights)
            + (credit if _has_evidence(text, p, catalog) else 0.0)
            for p in catalog.profiles
        ]
        if not scores:
            return None
        if semantic:
            similarities = self._similarities(
                text, [catalog.schemas[p.name] for p in catalog.profiles]
            )
            scores = [s + sim for s, sim in zip(scores, similarities, strict=True)]
        threshold = self.semantic_threshold if semantic else self.threshold
        # On a tie, the tool listed first wins.
        best_score, _, best = max(
            zip(scores, range(0, -len(scores), -1), catalog.profiles, strict=True),
            key=lambda item: (item[0], item[1]),
        )
        return best if best_score >= threshold else None

    def _vector(self, text: str) -> list[float]:
        if text not in self._vectors:
            if len(self._vectors) > 4096:  # bounded: tool texts recur, requests do not
                self._vectors.clear()
            self._vectors[text] = self.embedder.embed([text])[0]
        return self._vectors[text]

    def _similarities(self, text: str, functions: list[dict[str, Any]]) -> list[float]:
        query = self._vector(text)
        similarities = []
        for function in functions:
            name = function["name"].replace("_", " ").replace("-", " ")
            tool = self._vector(f"{name}: {function.get('description', '')}")
            similarities.append(sum(a * b for a, b in zip(query, tool, strict=True)))
        return similarities

    def _match(self, text: str, catalog: ToolCatalog) -> tuple[str, Filled] | None:
        """The best tool for ``text`` and the arguments found for it, or None."""
        best = self.choose(text, catalog)
        if best is None:
            return None
        return best.name, _fill(best, text, catalog)

    def _matches(
        self, clause: str, catalog: ToolCatalog
    ) -> list[tuple[str, tuple[str, Filled] | None]]:
        """Each part of ``clause`` with its match: its ","/" and " parts when each fills a call."""
        whole = self._match(clause, catalog)
        # Commas part a clause before "and" does: "the GCD of 96 and 128, and the LCM of 15
        # and 25" is two requests, each with an "and" of its own.
        tried: list[list[str]] = []
        for splitter in (_COMMA_SPLIT, _WEAK_SPLIT):
            parts = [p for p in splitter.split(clause) if p.strip()]
            # Parts beyond a few dozen are a list of values, not of requests (and each part
            # is scored against every tool).
            if not 1 < len(parts) <= MAX_PARTS or parts in tried:
                continue
            tried.append(parts)
            matches = [self._match(p, catalog) for p in parts]
            # Parts make calls of their own when each is complete; parts of one call ("a
            # pressure of 1 atm and a gauge pressure of 2 atm") each fill less than the whole.
            if all(m is not None and not m[1].missing for m in matches) and not (
                whole is not None
                and not whole[1].missing
                and len({m[0] for m in matches if m}) == 1
                and (
                    any(len(m[1].arguments) < len(whole[1].arguments) for m in matches if m)
                    or any(isinstance(v, list) for v in whole[1].arguments.values())
                )
            ):
                return list(zip(parts, matches, strict=True))
        return [(clause, whole)]


@dataclass(frozen=True)
class ToolCatalog:
    """The tools of one request as the router scores them: profiles, word weights, schemas."""

    profiles: list[ToolProfile]
    weights: dict[str, float]
    schemas: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, tools: list[dict[str, Any]]) -> ToolCatalog:
        """Build the catalog from OpenAI-format tool schemas."""
        profiles = [ToolProfile.of(t) for t in tools]
        schemas = {p.name: t.get("function", t) for p, t in zip(profiles, tools, strict=True)}
        return cls(profiles, idf(profiles), schemas)

    def profile(self, name: str) -> ToolProfile:
        """The profile of the tool called ``name``."""
        return next(p for p in self.profiles if p.name == name)


def _fill(profile: ToolProfile, text: str, catalog: ToolCatalog, topic: bool = True) -> Filled:
    """The arguments ``text`` gives the tool; with ``topic``, free text falls back to it."""
    parameters = catalog.schemas[profile.name].get("parameters", {})
    fallback = _topic(text, profile) if topic else None
    return fill_arguments(parameters, text, fallback, profile.own_words)


def _spread(profile: ToolProfile, text: str, filled: Filled, catalog: ToolCatalog) -> list[Filled]:
    """One call per item of a list the call's arguments took (spread.py), else none.

    Every item must make a call of its own that differs from the original in the listed
    arguments alone, each call different, or the call stays one.
    """
    found = variants(text, filled.arguments)
    each = [(v, _fill(profile, v.text, catalog)) for v in found]
    if len(each) < 2 or not all(consistent(v, filled.arguments, f.arguments) for v, f in each):
        return []
    calls = [Filled(settled(v, f.arguments), [], f.strong) for v, f in each]
    if len({_key(c.arguments) for c in calls}) < len(calls):
        return []
    return calls


def _key(arguments: dict[str, Any]) -> str:
    """Arguments as one comparable string: calls with equal arguments have equal keys."""
    return json.dumps(arguments, sort_keys=True, default=str)


def _has_evidence(text: str, profile: ToolProfile, catalog: ToolCatalog) -> bool:
    """Whether the text holds values only this tool's parameters take, filling them all."""
    filled = _fill(profile, text, catalog, topic=False)
    return bool(filled.strong) and not filled.missing


def _clauses(request: str) -> list[str]:
    return [c.strip(" ,") for c in _STRONG_SPLIT.split(request) if c and c.strip(" ,.?!;")]


def _topic(clause: str, profile: ToolProfile) -> str | None:
    if ":" in clause:  # "save a note: <text>" - what follows the colon is the text
        after = clause.split(":", 1)[1].strip(" ?.!")
        if after:
            return after
    match = _TOPIC.search(clause)
    if match:
        return match.group(1).strip(" ?.!")
    remaining = [w for w in clause.split() if not set(words(w)) & profile.name_words]
    return " ".join(remaining).strip(" ?.!") or None


def _tail(
    messages: list[BaseMessage],
) -> tuple[str, list[tuple[str, dict[str, Any], str]], int]:
    """The latest user request, the tool results that came after it, and its index."""
    # The latest request from the person; a guard's note (name "guard") asks for a new answer
    # and is not a request.
    last_human = max(
        (i for i, m in enumerate(messages) if isinstance(m, HumanMessage) and m.name != "guard"),
        default=-1,
    )
    request = str(messages[last_human].content) if last_human >= 0 else ""
    asked: dict[str, tuple[str, dict[str, Any]]] = {}
    results = []
    for message in messages[last_human + 1 :]:
        if isinstance(message, AIMessage):
            for c in message.tool_calls:
                asked[c["id"] or ""] = (c["name"], c["args"])
        elif isinstance(message, ToolMessage):
            name, args = asked.get(message.tool_call_id, (message.name or "tool", {}))
            results.append((name, args, unspotlight(str(message.content))))
    return request, results, max(last_human, 0)


def _answer(
    final: dict[str, Any] | None, results: list[tuple[str, dict[str, Any], str]]
) -> AIMessage:
    """The answer: the results composed, or the final-answer call when typed output is asked."""
    if final is not None:
        filled = fill_output(final["function"].get("parameters") or {}, results)
        if filled is not None:
            call = {"name": FINAL_ANSWER, "args": filled, "id": _new_id(), "type": "tool_call"}
            return AIMessage(content="", tool_calls=[call])
    return AIMessage(content=_compose(results))


def _compose(results: list[tuple[str, dict[str, Any], str]]) -> str:
    lines = []
    for name, args, output in results:
        shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in args.items())
        lines.append(f"{name}({shown}) → {output}")
    if len(lines) == 1:
        return lines[0]
    return "Results:\n" + "\n".join(f"- {line}" for line in lines)


def _no_tool_answer(request: str, unfilled: list[str]) -> str:
    """What the router says when it makes no call: what it could not fill, or that it cannot.

    Recalled memories are not an answer: a memory near the request may be about another
    thing ("what is 2+2" recalled for "square root of 144"), and the router cannot tell.
    """
    if unfilled:
        return (
            f"I could not find every value this needs ({'; '.join(unfilled)}). "
            "Please say them explicitly."
        )
    if not request.strip():
        return "There is no request to answer."
    return (
        "No tool fits this request, and the offline router model cannot answer free-form "
        "questions. Configure an LLM (OPENAI_API_KEY or OPENAI_BASE_URL, and PODIUM_MODEL)."
    )
