"""Whether the calls a model made match the expected ones, by BFCL's AST-matching rules.

An expected call names a function and, per parameter, the values allowed. A call matches
when its name is the expected one, it passes no parameter the function lacks, every
parameter it passes has an allowed value, and every parameter it leaves out is optional
("" among the allowed values). Values compare with BFCL's coercions: an int where a float
is allowed, strings without case, spaces and punctuation, lists and dicts element by
element. Parallel calls match in any order, one call to one expectation.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_PUNCTUATION = re.compile(r"[ ,./\-_*^]")


class ExpectedCall(BaseModel):
    """A call the model should make: the function and the values allowed per parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    arguments: dict[str, list[Any]] = {}

    @field_validator("arguments", mode="before")
    @classmethod
    def _one_value_is_a_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    def describe(self) -> str:
        """The call in words, for reports: ``f(x=1 or 2, unit='cm' or omitted)``."""
        parts = []
        for parameter, allowed in self.arguments.items():
            options = [repr(value) for value in allowed if value != ""]
            if "" in allowed:
                options.append("omitted")
            parts.append(f"{parameter}={' or '.join(options)}")
        return f"{self.name}({', '.join(parts)})"


def _standard(text: str) -> str:
    return _PUNCTUATION.sub("", text.replace("'", '"')).lower()


def same_value(got: Any, allowed: Any) -> bool:
    """Whether ``got`` equals one allowed value under BFCL's coercions."""
    if isinstance(allowed, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(allowed, bool) and got == allowed
    if isinstance(allowed, int | float) and isinstance(got, int | float):
        return float(got) == float(allowed)
    if isinstance(allowed, str) and isinstance(got, str):
        return _standard(got) == _standard(allowed)
    if isinstance(allowed, list | tuple) and isinstance(got, list | tuple):
        return len(got) == len(allowed) and all(
            same_value(g, a) for g, a in zip(got, allowed, strict=True)
        )
    if isinstance(allowed, dict) and isinstance(got, dict):
        return set(got) <= set(allowed) and all(
            any(same_value(got[key], option) for option in _options(allowed[key]))
            if key in got
            else "" in _options(allowed[key])
            for key in allowed
        )
    return bool(got == allowed)


def _options(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def call_problem(name: str, arguments: dict[str, Any], expected: ExpectedCall) -> str | None:
    """Why a call does not match ``expected``, or None when it does."""
    if name != expected.name:
        return f"called {name}, expected {expected.name}"
    extra = sorted(set(arguments) - set(expected.arguments))
    if extra:
        return f"{name}: unexpected argument {extra[0]!r}"
    for parameter, allowed in expected.arguments.items():
        if parameter not in arguments:
            if "" not in allowed:
                return f"{name}: missing argument {parameter!r}"
            continue
        if not any(same_value(arguments[parameter], option) for option in allowed if option != ""):
            return f"{name}: {parameter}={arguments[parameter]!r} is not one of {allowed!r}"
    return None


Made = list[tuple[str, dict[str, Any]]]


def greedy_match(made: Made, expected: list[ExpectedCall]) -> tuple[int, Made]:
    """How many expected calls the calls made match, and the calls that matched none.

    Each call made takes the first expected call it matches that is still free.
    """
    remaining = list(expected)
    unmatched: Made = []
    for name, arguments in made:
        hit = next((w for w in remaining if call_problem(name, arguments, w) is None), None)
        if hit is None:
            unmatched.append((name, arguments))
        else:
            remaining.remove(hit)
    return len(expected) - len(remaining), unmatched


def calls_problem(
    made: list[tuple[str, dict[str, Any]]], expected: list[ExpectedCall], ordered: bool = False
) -> str | None:
    """Why the calls made do not match the expected ones (order-free unless ``ordered``)."""
    if len(made) != len(expected):
        return f"made {len(made)} call(s), expected {len(expected)}"
    if ordered or len(made) == 1:
        for (name, arguments), want in zip(made, expected, strict=True):
            problem = call_problem(name, arguments, want)
            if problem:
                return problem
        return None
    if len(made) > 8:  # permutations grow fast; greedy matching is enough for long lists
        unmatched = greedy_match(made, expected)[1]
        if unmatched:
            name, arguments = unmatched[0]
            return f"{name}({arguments}) matches no expected call"
        return None
    first = None
    for order in itertools.permutations(expected):
        problems = [call_problem(n, a, w) for (n, a), w in zip(made, order, strict=True)]
        found = next((p for p in problems if p), None)
        if found is None:
            return None
        first = first or found
    return first
