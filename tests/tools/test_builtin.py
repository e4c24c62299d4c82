from __future__ import annotations

from pathlib import Path

import pytest

from podium.identity import Principal
from podium.tools.builtin import calculator, current_time, list_files, read_file
from podium.tools.registry import ToolContext


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("17 * (3 + 4)", "119"),
        ("2**10", "1024"),
        ("2^3", "8"),
        ("sqrt(16) + pi*0", "4"),
        ("7 / 2", "3.5"),
        ("-3 + 10 % 4", "-1"),
        ("6 × 7", "42"),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, value: str) -> None:
    assert calculator.function(expression) == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "x + 1",
        "(1).__class__",
        "9**999999",
        "[1, 2]",
        "lambda: 1",
    ],
)
def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ValueError):
        calculator.function(expression)


def test_current_time_knows_time_zones() -> None:
    assert current_time.function("Europe/Paris")[-6:] in ("+01:00", "+02:00")
    with pytest.raises(ValueError, match="unknown time zone"):
        current_time.function("Mars/Olympus")


def context(sandbox: Path) -> ToolContext:
    return ToolContext(
        call_id="c", thread_id="t", run_id="r", step=1, principal=Principal.local(), sandbox=sandbox
    )


def test_files_are_read_only_inside_the_sandbox(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    (sandbox / "notes").mkdir(parents=True)
    (sandbox / "notes" / "todo.txt").write_text("ship it")
    (tmp_path / "secret.txt").write_text("top secret")
    assert read_file.function("notes/todo.txt", context(sandbox)) == "ship it"
    assert list_files.function(context(sandbox), "notes") == ["notes/todo.txt"]
    for escape in ("../secret.txt", "/etc/passwd", "notes/../../secret.txt"):
        with pytest.raises(PermissionError, match="outside the sandbox"):
            read_file.function(escape, context(sandbox))
