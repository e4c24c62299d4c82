"""The calculator's evaluator: every expression is computed quickly or refused, saying why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from podium.tools.arithmetic import ArithmeticRefused, evaluate

# Each took from seconds to minutes inside one C call before the limits: a timeout cannot
# interrupt that, so they must be refused before they are computed.
ATTACKS = {
    "(10**10000)**10000": "digits",
    "10**10000**10000": "digits",
    "9**9**9": "exponent",
    "(2**4000)**4000": "digits",
    "factorial(10**6)": "digits",
    "factorial(factorial(20))": "digits",
    "round(10**400, -10**7)": "places",
    "2**10000 * 2**10000 * 2**10000": "digits",
    "10.0**400": "too large for a float",
    "-" * 400 + "1": "nested",
    "1" * 600: "longer than 500",
    "0x" + "f" * 490 + " ** 9": "digits",
}


def test_attack_expressions_are_refused_fast() -> None:
    """Run them in a child process, so that a hang fails the test instead of stalling it."""
    script = (
        "import json, sys, time\n"
        "from podium.tools.builtin import calculator\n"
        "report = {}\n"
        "for expression in json.loads(sys.argv[1]):\n"
        "    started = time.perf_counter()\n"
        "    try:\n"
        "        outcome = 'computed ' + calculator.function(expression)[:40]\n"
        "    except ValueError as error:\n"
        "        outcome = str(error)\n"
        "    report[expression] = [outcome, time.perf_counter() - started]\n"
        "print(json.dumps(report))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        child = subprocess.run(
            [sys.executable, "-c", script, json.dumps(list(ATTACKS))],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the calculator hung on an attack expression")
    report = json.loads(child.stdout)
    for expression, words in ATTACKS.items():
        outcome, seconds = report[expression]
        assert words in outcome, (expression[:40], outcome)
        assert seconds < 5, (expression[:40], seconds)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2**100", 2**100),
        ("factorial(20)", 2432902008176640000),
        ("round(3.14159, 2)", 3.14),
        ("10**4000 // 10**3999", 10),
        ("+".join(["1"] * 200), 200),
        ("2**-3", 0.125),
        ("(-8) ** 2", 64),
    ],
)
def test_ordinary_arithmetic_still_works(expression: str, value: float) -> None:
    assert evaluate(expression) == value


def test_a_refusal_names_the_limit_and_what_to_do() -> None:
    with pytest.raises(ArithmeticRefused) as refused:
        evaluate("(10**10000)**10000")
    message = str(refused.value)
    assert "the power would have about 10,000 digits (limit 4,300)" in message
    assert "use smaller numbers" in message
    assert isinstance(refused.value, ValueError)  # the tool's callers catch ValueError
