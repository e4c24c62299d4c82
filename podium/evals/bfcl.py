"""The Berkeley Function Calling Leaderboard's format as podium suites.

Question files (``BFCL_v4_<category>.json``, one JSON object a line: id, question, function)
and possible-answer files (``possible_answer/BFCL_v4_<category>.json``: id, ground_truth).
Each question becomes a case whose tools are its functions and whose expected calls are its
ground truth, scored on the first round of calls by BFCL's AST-matching rules
(podium.evals.matching). Irrelevance cases pass when the model calls nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.errors import ConfigError
from podium.evals.matching import ExpectedCall
from podium.evals.schema_tools import tool_name
from podium.evals.suite import Case, InlineTool, Suite

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ConfigError(f"{path}, line {number}: not valid JSON: {error.msg}") from None
    return rows


def _request(question: Any) -> str:
    turn = question[0] if question and isinstance(question[0], list) else question
    users = [m["content"] for m in turn if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def load_bfcl(data: Path, category: str, limit: int | None = None) -> Suite:
    """The BFCL ``category`` under ``data`` as a suite (the first ``limit`` questions)."""
    if category not in CATEGORIES:
        raise ConfigError(
            f"unknown BFCL category {category!r}", f"use one of: {', '.join(CATEGORIES)}"
        )
    questions_file = data / f"BFCL_v4_{category}.json"
    if not questions_file.is_file():
        raise ConfigError(
            f"BFCL data not found: {questions_file}",
            "pass --data with the folder holding BFCL_v4_*.json and possible_answer/",
        )
    answers: dict[str, list[dict[str, Any]]] = {}
    if category != "irrelevance":
        answers = {
            row["id"]: row["ground_truth"]
            for row in _rows(data / "possible_answer" / questions_file.name)
        }
    cases = []
    for row in _rows(questions_file)[:limit]:
        tools = [
            InlineTool(
                name=tool_name(f["name"]),
                description=f.get("description", ""),
                parameters=f.get("parameters", {}),
            )
            for f in row["function"]
        ]
        truth = answers.get(row["id"])
        expected = (
            [
                ExpectedCall(name=tool_name(name), arguments=arguments)
                for call in truth
                for name, arguments in call.items()
            ]
            if truth is not None
            else None
        )
        cases.append(
            Case(
                id=row["id"],
                request=_request(row["question"]),
                tools=tools,
                expect_calls=expected,
                expect_no_call=category == "irrelevance",
                calls_from="first_round",
                tags=[category],
            )
        )
    return Suite(name=f"bfcl:{category}", threshold=0.0, cases=cases)
