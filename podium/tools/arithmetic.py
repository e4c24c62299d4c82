"""Safe arithmetic for the calculator tool: a small evaluator whose every step is bounded.

Python's own operators have no bounds: ``(10**10000)**10000`` or ``factorial(10**7)``
computes for minutes inside one C call, where no timeout can interrupt it. So each
operation's result size is estimated (with logarithms) before it is computed, and an
expression that would exceed a limit is refused with a message naming the limit.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

Number = int | float | complex

MAX_EXPRESSION = 500  # characters
MAX_DEPTH = 200  # nesting of operations and calls (a sum of n terms nests n deep)
MAX_POWER = 10_000  # largest exponent
# The largest integer a result may be: Python refuses to print more digits than this
# anyway (sys.int_info.default_max_str_digits).
MAX_DIGITS = 4_300
MAX_ARGUMENTS = 20
_LOG10_2 = math.log10(2)


class ArithmeticRefused(ValueError):
    """An expression the calculator will not evaluate; the message says which limit."""


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # people write 2^3 for a power
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "factorial": math.factorial,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def digits(value: int) -> int:
    """About how many decimal digits ``value`` has (from its bit length: no conversion)."""
    return int(abs(value).bit_length() * _LOG10_2) + 1


def _too_many_digits(estimate: float, what: str) -> ArithmeticRefused:
    return ArithmeticRefused(
        f"{what} would have about {estimate:,.0f} digits (limit {MAX_DIGITS:,}); "
        "use smaller numbers, or a float (e.g. 10.0**400) for an approximate value"
    )


def _bounded(value: Any, what: str = "the result") -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float | complex):
        raise ArithmeticRefused(f"{what} is not a number")
    if isinstance(value, int) and digits(value) > MAX_DIGITS:
        raise _too_many_digits(digits(value), what)
    return value


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse a power whose exponent or integer result would be too large, before computing."""
    if isinstance(exponent, complex) or isinstance(base, complex):
        return  # complex powers are floating point: fast, and they overflow rather than grow
    if abs(exponent) > MAX_POWER:
        raise ArithmeticRefused(
            f"exponent {exponent:g} is too large (limit {MAX_POWER:,}); use a smaller one"
        )
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        estimate = exponent * math.log10(abs(base))
        if estimate > MAX_DIGITS:
            raise _too_many_digits(estimate, "the power")


def _check_call(name: str, arguments: list[Number]) -> None:
    """Refuse calls whose result or work would be too large, before computing."""
    if len(arguments) > MAX_ARGUMENTS:
        raise ArithmeticRefused(
            f"{name}() takes at most {MAX_ARGUMENTS} arguments here; pass fewer"
        )
    if name == "factorial" and arguments:
        n = arguments[0]
        if isinstance(n, int | float) and n > 0:
            estimate = math.lgamma(float(n) + 1) / math.log(10)
            if estimate > MAX_DIGITS:
                raise _too_many_digits(estimate, f"factorial({n:g})")
    if name == "round" and len(arguments) > 1:
        places = arguments[1]
        if isinstance(places, int) and abs(places) > MAX_DIGITS:
            raise ArithmeticRefused(
                f"round() to {places:,} places is out of range (limit {MAX_DIGITS:,}); "
                "round to fewer places"
            )


def _apply(function: Callable[..., Any], *arguments: Any) -> Any:
    try:
        return function(*arguments)
    except OverflowError as error:
        raise ArithmeticRefused(
            f"the result is too large for a float ({error}); use smaller numbers"
        ) from error


def _evaluate(node: ast.AST, depth: int = 0) -> Number:
    if depth > MAX_DEPTH:
        raise ArithmeticRefused(
            f"the expression is nested more than {MAX_DEPTH} levels deep; simplify it"
        )
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, depth)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | complex):
        if isinstance(node.value, bool):
            raise ArithmeticRefused("booleans are not numbers here; write 1 or 0")
        return _bounded(node.value, f"the number {str(node.value)[:20]}...")
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left, depth + 1), _evaluate(node.right, depth + 1)
        if type(node.op) in (ast.Pow, ast.BitXor):
            _check_power(left, right)
        return _bounded(_apply(_BINARY[type(node.op)], left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _bounded(_apply(_UNARY[type(node.op)], _evaluate(node.operand, depth + 1)))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        arguments = [_evaluate(a, depth + 1) for a in node.args]
        _check_call(node.func.id, arguments)
        return _bounded(_apply(_FUNCTIONS[node.func.id], *arguments))
    raise ValueError(f"unsupported element in expression: {ast.dump(node)[:60]}")


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, or ValueError saying why it is refused."""
    if len(expression) > MAX_EXPRESSION:
        raise ArithmeticRefused(
            f"expression longer than {MAX_EXPRESSION} characters ({len(expression):,}); "
            "split it into smaller calculations"
        )
    try:
        tree = ast.parse(expression.replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"not an arithmetic expression: {error.msg}") from error
    except (ValueError, RecursionError, MemoryError) as error:  # e.g. a literal too long
        raise ArithmeticRefused(f"the expression cannot be read: {error}") from error
    return _evaluate(tree)
