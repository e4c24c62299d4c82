"""Tool selection by the offline router on BFCL: lexical vs semantic (MiniLM) scoring.

Selection only: is the tool the router would call the expected one (simple_python,
multiple), or does it call none (irrelevance)? Argument filling is not scored here (the
evals runner does full BFCL AST matching). Reads ../shared/data/bfcl; the data stays there.

    .venv/bin/python benchmarks/router_selection.py [--grid]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from podium.memory.embeddings import MiniLMEmbedder
from podium.planner.router.model import RouterChatModel, ToolCatalog

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bfcl"
CATEGORIES = ("simple_python", "multiple", "irrelevance")


def openai_tool(function: dict[str, Any]) -> dict[str, Any]:
    """BFCL's schema dialect ('dict', 'float', dotted names) as an OpenAI tool."""
    text = json.dumps(function)
    for old, new in (
        ('"dict"', '"object"'),
        ('"float"', '"number"'),
        ('"tuple"', '"array"'),
        ('"any"', '"string"'),
    ):
        text = text.replace(old, new)
    schema = json.loads(text)
    return {"type": "function", "function": {**schema, "name": schema["name"].replace(".", "_")}}


def cases(category: str) -> list[tuple[str, list[dict[str, Any]], str | None]]:
    questions = [json.loads(line) for line in (DATA / f"BFCL_v4_{category}.json").open()]
    expected: dict[str, str] = {}
    if category != "irrelevance":
        for line in (DATA / "possible_answer" / f"BFCL_v4_{category}.json").open():
            answer = json.loads(line)
            expected[answer["id"]] = next(iter(answer["ground_truth"][0])).replace(".", "_")
    return [
        (
            q["question"][0][-1]["content"],
            [openai_tool(f) for f in q["function"]],
            expected.get(q["id"]),
        )
        for q in questions
    ]


def selection(
    router: RouterChatModel, data: list[tuple[str, list[dict[str, Any]], str | None]]
) -> float:
    right = 0
    for request, tools, expected in data:
        chosen = router.choose(request, ToolCatalog.of(tools))
        right += (chosen.name if chosen else None) == expected
    return right / len(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true", help="search the semantic threshold")
    options = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"BFCL data not found at {DATA}")
    data = {c: cases(c) for c in CATEGORIES}
    embedder = MiniLMEmbedder()
    modes = {"lexical": RouterChatModel(), "semantic (MiniLM)": RouterChatModel(embedder=embedder)}
    if options.grid:
        for threshold in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
            modes[f"semantic, threshold {threshold}"] = RouterChatModel(
                embedder=embedder, semantic_threshold=threshold
            )
    print("| scoring | " + " | ".join(f"{c} (n={len(data[c])})" for c in CATEGORIES) + " |")
    print("|---|" + "---:|" * len(CATEGORIES))
    for name, router in modes.items():
        row = " | ".join(f"{selection(router, data[c]):.3f}" for c in CATEGORIES)
        print(f"| {name} | {row} |")


if __name__ == "__main__":
    main()
