"""Checkpoints are serialized without secrets, and read back as they were stored."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Interrupt

from podium import known_secrets
from podium.storage.serde import RedactingSerializer

KEY = "serde-test-key-1f0c9a7e"


def test_every_text_of_a_checkpoint_is_redacted_before_it_is_written() -> None:
    known_secrets.add([KEY])
    state = {
        "messages": [
            HumanMessage(content="connect with password=hunter2"),
            AIMessage(
                content=f"the server said my key is {KEY}",
                tool_calls=[
                    {"name": "fetch", "args": {"url": "https://x.io/?token=t0k3n"}, "id": "c1"}
                ],
            ),
            ToolMessage(content="Authorization: Bearer abc123def456ghi", tool_call_id="c1"),
        ],
        "outcomes": [{"call_id": "c1", "output": '{"api_key": "q8ZxLm2Pw9Rt4Yk7"}'}],
        "answer": f"401 Unauthorized: invalid key {KEY}",
        "__interrupt__": [Interrupt(value={"approvals": [{"reason": f"uses {KEY}"}]}, id="i1")],
    }
    serializer = RedactingSerializer()
    kind, data = serializer.dumps_typed(state)
    for secret in (KEY, "hunter2", "t0k3n", "abc123def456ghi", "q8ZxLm2Pw9Rt4Yk7"):
        assert secret.encode() not in data, secret
    stored = serializer.loads_typed((kind, data))
    assert stored["messages"][0].content == "connect with password=[SECRET]"
    assert stored["messages"][1].tool_calls[0]["args"] == {"url": "https://x.io/?token=[SECRET]"}
    assert stored["answer"] == "401 Unauthorized: invalid key [SECRET]"
    assert stored["__interrupt__"][0].value == {"approvals": [{"reason": "uses [SECRET]"}]}
    assert state["answer"] == f"401 Unauthorized: invalid key {KEY}"  # the state is untouched


def test_what_holds_no_secret_is_stored_exactly_as_langgraph_would() -> None:
    state = {"messages": [HumanMessage(content="what is 2 + 3?", id="m1")], "step": 2}
    assert RedactingSerializer().dumps_typed(state) == JsonPlusSerializer().dumps_typed(state)


def test_the_msgpack_allow_list_keeps_the_redaction() -> None:
    derived = RedactingSerializer(allowed_msgpack_modules=None).with_msgpack_allowlist(
        [("podium.planner.state", "Usage")]
    )
    assert isinstance(derived, RedactingSerializer)
    assert b"hunter2" not in derived.dumps_typed({"answer": "password: hunter2"})[1]


def test_a_checkpoint_is_redacted_in_what_the_run_put_there_and_kept_in_its_bookkeeping() -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"answer": f"the key is {KEY}"}
    checkpoint["channel_versions"] = {"answer": "00000000000000000000000000000002.0.5"}
    checkpoint["versions_seen"] = {"plan": {"answer": "00000000000000000000000000000001.0.4"}}
    known_secrets.add([KEY])
    serializer = RedactingSerializer()
    stored = serializer.loads_typed(serializer.dumps_typed(checkpoint))
    assert stored["channel_values"] == {"answer": "the key is [SECRET]"}
    assert {k: stored[k] for k in ("id", "ts", "channel_versions", "versions_seen")} == {
        k: checkpoint[k] for k in ("id", "ts", "channel_versions", "versions_seen")
    }
    clean = empty_checkpoint()
    clean["channel_values"] = {"answer": "nothing to hide"}
    assert serializer.dumps_typed(clean) == JsonPlusSerializer().dumps_typed(clean)
