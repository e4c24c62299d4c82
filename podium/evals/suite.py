"""Eval suites: cases with a request, the tools, and what must be true of the run.

A suite is a YAML file (one document) or JSONL (a header line with the suite's fields, then
one case per line), validated with pydantic; a problem names the line and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from podium.errors import ConfigError
from podium.evals.matching import ExpectedCall
from podium.located import Located, read_yaml

Threshold = Annotated[float, Field(ge=0, le=1)]  # the share of trials that must pass


def check_threshold(value: float, where: str = "--threshold") -> float:
    """``value`` if it is a pass rate a suite accepts (0 to 1); a ConfigError otherwise."""
    try:
        return TypeAdapter(Threshold).validate_python(value)
    except ValidationError as error:
        raise ConfigError(
            f"{where} {value:g} is outside 0..1 ({error.errors()[0]['msg'].lower()}): "
            "the threshold is the share of trials that must pass",
            "give a share from 0 to 1, like 0.9 for 90%",
        ) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerCheck(_Strict):
    """What the final answer must hold; every check given must pass."""

    contains: list[str] = []
    regex: str | None = None
    number: float | None = None
    tolerance: float = 1e-6
    python: str | None = Field(
        default=None, description="'module:function', called with the answer, returns a bool"
    )

    def problem(self, answer: str) -> str | None:
        """Why ``answer`` fails, or None."""
        for text in self.contains:
            if text.lower() not in answer.lower():
                return f"answer lacks {text!r}"
        if self.regex is not None and not re.search(self.regex, answer):
            return f"answer does not match /{self.regex}/"
        if self.number is not None:
            numbers = [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*\.?\d*", answer)]
            if not any(abs(n - self.number) <= self.tolerance for n in numbers):
                return f"answer has no number within {self.tolerance} of {self.number}"
        if self.python is not None:
            import importlib

            module, _, name = self.python.partition(":")
            if not getattr(importlib.import_module(module), name)(answer):
                return f"answer fails {self.python}"
        return None

    def describe(self) -> str:
        """What the answer must hold, in words, for reports."""
        parts = [f"answer contains {text!r}" for text in self.contains]
        if self.regex is not None:
            parts.append(f"answer matches /{self.regex}/")
        if self.number is not None:
            parts.append(f"answer has the number {self.number:g} (within {self.tolerance:g})")
        if self.python is not None:
            parts.append(f"answer passes {self.python}")
        return "; ".join(parts)


class InlineTool(_Strict):
    """A tool given by its JSON schema, answering with a set result."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = {"type": "object", "properties": {}}
    result: Any = "done"
    error: str | None = None  # the tool fails with this message instead of answering
    scopes: list[str] = []


class Case(_Strict):
    """One request (after any earlier turns of the conversation) and its checks."""

    id: str = Field(min_length=1)
    request: str = Field(min_length=1)
    conversation: list[str] = []  # earlier user turns, run first in the same thread
    tools: list[InlineTool] = []
    expect_calls: list[ExpectedCall] | None = None
    ordered: bool = False
    calls_from: Literal["run", "first_round"] = "run"
    expect_no_call: bool = False
    forbid_calls: list[str] = []
    answer: AnswerCheck | None = None
    max_steps: int | None = Field(default=None, gt=0)
    scopes: list[str] = []  # the principal's; tools declaring others are denied
    attack: bool = False  # an attack case: failing it means the attack succeeded
    tags: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.expect_no_call and self.expect_calls:
            raise ValueError("expect_no_call and expect_calls contradict each other")
        return self

    def expectation(self) -> str:
        """What must hold of the run, in words, for reports."""
        parts = []
        if self.expect_calls is not None:
            listed = ", ".join(c.describe() for c in self.expect_calls) or "nothing"
            where = " in the first round" if self.calls_from == "first_round" else ""
            parts.append(f"calls {listed}{' in this order' if self.ordered else ''}{where}")
        if self.expect_no_call:
            parts.append("no call")
        if self.forbid_calls:
            parts.append(f"never calls {', '.join(self.forbid_calls)}")
        if self.answer is not None:
            parts.append(self.answer.describe())
        return "; ".join(part for part in parts if part) or "an answer"


class Suite(_Strict):
    """A named set of cases, the registry tools they may use, and the pass threshold."""

    name: str = Field(min_length=1)
    description: str = ""
    threshold: Threshold = 1.0
    tools: list[str] = []  # names of built-in or plugin tools
    inline_tools: list[InlineTool] = []
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"two cases have the id {case.id!r}")
            seen.add(case.id)
        return self


def _problem(error: ValidationError) -> tuple[tuple[str | int, ...], str]:
    """The first problem to tell: an unknown key before the missing one it was meant to be."""
    errors = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    key = tuple(first["loc"])
    field = ".".join(str(part) for part in key) or "suite"
    if first["type"] == "extra_forbidden":
        return key, f"{field}: unknown field"
    return key, f"{field}: {first['msg']}"


def load_suite(path: Path) -> Suite:
    """The suite in ``path`` (.yaml, .yml or .jsonl); a ConfigError names the line."""
    if not path.is_file():
        raise ConfigError(f"suite file {path} does not exist", "check the path")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return _load_jsonl(path, text)
    data, lines = read_yaml(path, text)
    try:
        return Suite.model_validate(data or {})
    except ValidationError as error:
        key, problem = _problem(error)
        where = Located(path, lines, text).where(key)
        raise ConfigError(f"{where}: {problem}", "see the suite format in the README") from None


def _load_jsonl(path: Path, text: str) -> Suite:
    header: dict[str, Any] = {}
    cases: list[Case] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path}, line {number}: not valid JSON: {error.msg}", "fix it"
            ) from None
        if number == 1 and "cases" not in row and "request" not in row:
            header = row
            continue
        try:
            cases.append(Case.model_validate(row))
        except ValidationError as error:
            _, problem = _problem(error)
            raise ConfigError(f"{path}, line {number}: {problem}", "fix the case") from None
    try:
        return Suite.model_validate({"name": path.stem, **header, "cases": cases})
    except ValidationError as error:
        _, problem = _problem(error)
        raise ConfigError(f"{path}, line 1: {problem}", "fix the header line") from None
