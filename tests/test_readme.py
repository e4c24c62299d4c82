"""The README's Python snippets run as written, so the README cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def _snippets(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def test_python_snippets_run() -> None:
    """Each snippet outside the tutorial stands alone."""
    text = README.read_text()
    tutorial = text.split("## Tutorial", 1)[1].split("\n## ", 1)[0]
    snippets = _snippets(text.replace(tutorial, ""))
    assert snippets
    for snippet in snippets:
        exec(compile(snippet, str(README), "exec"), {"__name__": "readme"})


def test_tutorial_steps_run_in_order() -> None:
    """The tutorial's steps build on each other: one namespace, in order."""
    tutorial = README.read_text().split("## Tutorial", 1)[1].split("\n## ", 1)[0]
    steps = _snippets(tutorial)
    assert len(steps) == 5
    namespace: dict[str, object] = {"__name__": "readme"}
    for step in steps:
        exec(compile(step, str(README), "exec"), namespace)
