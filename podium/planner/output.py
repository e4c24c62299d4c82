"""Typed output: the run's answer as a pydantic model, asked for and checked.

A model is asked for the schema in the way it supports: OpenAI's own models natively
(``response_format`` with the JSON schema: the final reply is that JSON), every other model
through a final-answer tool whose parameters are the schema. Either way the answer is
validated with pydantic; an answer that does not validate goes back to the model with the
errors, at most ``OUTPUT_RETRIES`` times, then the run stops with ``output_invalid``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

FINAL_ANSWER = "final_answer"
OUTPUT_RETRIES = 2


def answer_tool(output_type: type[BaseModel]) -> dict[str, Any]:
    """The final-answer tool: its parameters are the output's JSON schema (from pydantic)."""
    return {
        "type": "function",
        "function": {
            "name": FINAL_ANSWER,
            "description": (
                f"Give the final answer as a {output_type.__name__}. Call it once, last, "
                "when the answer is known; do not answer in text."
            ),
            "parameters": output_type.model_json_schema(),
        },
    }


def native_format(output_type: type[BaseModel]) -> dict[str, Any]:
    """OpenAI's ``response_format`` that asks for the output's JSON schema."""
    return {
        "type": "json_schema",
        "json_schema": {"name": output_type.__name__, "schema": output_type.model_json_schema()},
    }


def checked(output_type: type[BaseModel], data: Any) -> tuple[dict[str, Any] | None, str]:
    """The validated output as JSON data, or None and the errors to show the model."""
    if isinstance(data, str):
        try:
            data = json.loads(_unfenced(data))
        except ValueError:
            return None, "the answer is not JSON"
    try:
        value = output_type.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()
        )
        return None, problems
    return value.model_dump(mode="json"), ""


def _unfenced(text: str) -> str:
    """JSON out of a ```json fence, which models like to add."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def retry_note(output_type: type[BaseModel], problems: str, native: bool) -> str:
    """What the model is told when its answer did not fit the output's schema."""
    how = "Reply with JSON only" if native else f"Call {FINAL_ANSWER} again"
    return (
        f"error: the answer does not fit {output_type.__name__} ({problems}). {how}, "
        "matching its schema."
    )
