"""Typed output: the answer as a pydantic model, from any model, checked and retried."""

from __future__ import annotations

import json

from pydantic import BaseModel

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.openai import openai_chat_model
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from tests.planner.openai_server import completion, serve


class Stock(BaseModel):
    sku: str
    units: int


@tool
def stock_level(sku: str) -> int:
    """How many units of a product are in stock.

    Args:
        sku: The product code, like A-100.
    """
    return {"A-100": 12}.get(sku, 0)


def test_a_final_answer_call_becomes_the_typed_output() -> None:
    model = ScriptedChatModel(
        turns=[
            calls(call("stock_level", sku="A-100")),
            calls(call("final_answer", sku="A-100", units=12)),
        ]
    )
    result = Agent([stock_level], model=model, guards=None, output_type=Stock).invoke("stock?")
    assert result.stop_reason == "answered" and result.output == Stock(sku="A-100", units=12)
    assert json.loads(result.answer) == {"sku": "A-100", "units": 12}
    final = model.calls[0].tools[-1]["function"]
    assert final["name"] == "final_answer" and set(final["parameters"]["properties"]) == {
        "sku",
        "units",
    }


def test_an_answer_that_does_not_validate_goes_back_then_stops_bounded() -> None:
    fixed = ScriptedChatModel(
        turns=[
            calls(call("final_answer", sku="A-100", units="many")),
            calls(call("final_answer", sku="A-100", units=3)),
        ]
    )
    result = Agent(model=fixed, guards=None).invoke("stock?", output_type=Stock)
    assert result.output == Stock(sku="A-100", units=3)
    told = [m.content for m in fixed.calls[1].messages if m.type == "tool"]
    assert any("does not fit Stock (units: Input should be a valid integer" in str(t) for t in told)
    stubborn = ScriptedChatModel(turns=["twelve, I think"], repeat_last=True)
    stopped = Agent(model=stubborn, guards=None).invoke("stock?", output_type=Stock)
    assert stopped.stop_reason == "output_invalid" and stopped.output is None
    assert len(stubborn.calls) == 3  # the answer, then two retries


def test_the_offline_router_fills_a_simple_schema_from_the_tool_results() -> None:
    class Units(BaseModel):
        stock: int

    result = Agent([stock_level], output_type=Units).invoke(
        "How many items of product A-100 are in stock?"
    )
    assert result.stop_reason == "answered" and result.output == Units(stock=12)


def test_a_server_that_takes_a_schema_is_asked_natively() -> None:
    from podium.planner.binding import asks_natively

    openai = openai_chat_model(Settings.load(model="gpt-4o-mini", openai_api_key="sk-test"))
    assert asks_natively(openai) and not asks_natively(openai, "tool")
    with serve([(200, completion('{"sku": "A-100", "units": 12}'))]) as server:
        settings = Settings.load(model="m", openai_base_url=server.url, structured_output="native")
        assert not asks_natively(openai_chat_model(settings))  # auto: not another server
        agent = Agent([stock_level], settings=settings, guards=None)
        result = agent.invoke("stock of A-100?", output_type=Stock)
    sent = server.requests[0]
    assert sent["response_format"]["json_schema"]["name"] == "Stock"
    assert "final_answer" not in [t["function"]["name"] for t in sent["tools"]]
    assert result.output == Stock(sku="A-100", units=12)
