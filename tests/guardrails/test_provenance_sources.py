"""Provenance of values recalled from memory or returned by a sub-agent, and the block option.

A consequential argument (an IBAN, an address) whose value the planner got only from a
recalled memory or a sub-agent's answer is held like one from an untrusted tool's output,
unless the argument accepts that source. A policy file can make such a call blocked instead
of waiting for a person. Real chromadb (with a fast bag-of-words embedder), real agents.
"""

from __future__ import annotations

from pathlib import Path

from podium.agent import Agent
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.memory.store import MemoryStore
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from podium.tracing.events import PolicyDecided, ToolCalled
from tests.memory.words import WordsEmbedder

SHOP = Principal(id="ana", tenant="shop")
REMEMBERED_IBAN = "FR76 3000 6000 0112 3456 7890 189"
sent: list[str] = []


@tool(side_effects=True, sources={"iban": ["user", "trusted_tool"]})
def pay(iban: str, amount: float) -> str:
    """Send money to an IBAN."""
    sent.append(iban)
    return "sent"


@tool(side_effects=True, sources={"iban": ["user", "memory"]})
def pay_saved_payee(iban: str, amount: float) -> str:
    """Send money to an IBAN the user saved before."""
    sent.append(iban)
    return "sent"


def remembered(tmp_path: Path) -> MemoryStore:
    memory = MemoryStore(tmp_path / "memory", WordsEmbedder())
    memory.remember(f"The plumber's invoice is paid to IBAN {REMEMBERED_IBAN}.", "shop")
    return memory


def paying(tool_name: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        turns=[calls(call(tool_name, "c1", iban=REMEMBERED_IBAN, amount=120)), "done"]
    )


def test_an_iban_recalled_from_memory_waits_for_a_person(tmp_path: Path) -> None:
    sent.clear()
    agent = Agent([pay], model=paying("pay"), memory=remembered(tmp_path), guards=None)
    result = agent.invoke("pay the plumber's invoice", principal=SHOP, thread_id="m1")
    [waiting] = result.pending_approvals
    assert waiting.call_id == "c1" and sent == []
    assert "argument 'iban' of 'pay'" in waiting.reason
    assert "appears only in a recalled memory" in waiting.reason
    assert "accepts values from trusted_tool or user only" in waiting.reason


def test_an_argument_that_accepts_memory_takes_the_recalled_iban(tmp_path: Path) -> None:
    sent.clear()
    model = paying("pay_saved_payee")
    agent = Agent([pay_saved_payee], model=model, memory=remembered(tmp_path), guards=None)
    result = agent.invoke("pay the plumber's invoice", principal=SHOP)
    assert result.pending_approvals == [] and result.answer == "done"
    assert sent == [REMEMBERED_IBAN]


def directory_agent() -> Agent:
    model = ScriptedChatModel(turns=["Bruno's address is bruno@partner.example."])
    return Agent([], model=model, guards=None)


@tool(side_effects=True, sources={"to": ["user", "trusted_tool"]})
def send_email(to: str, body: str) -> str:
    """Send an e-mail."""
    sent.append(to)
    return "sent"


@tool(side_effects=True, sources={"to": ["user", "subagent"]})
def send_email_to_colleague(to: str, body: str) -> str:
    """Send an e-mail to a colleague the directory agent found."""
    sent.append(to)
    return "sent"


def mailing(tool_name: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        turns=[
            calls(call("directory", "c1", request="Bruno's e-mail address?")),
            calls(call(tool_name, "c2", to="bruno@partner.example", body="Hello")),
            "done",
        ]
    )


def test_an_address_returned_by_a_sub_agent_waits_for_a_person() -> None:
    sent.clear()
    directory = directory_agent().as_tool("directory", "Finds colleagues' addresses.")
    agent = Agent([directory, send_email], model=mailing("send_email"), guards=None)
    result = agent.invoke("write to Bruno", thread_id="s1")
    [waiting] = result.pending_approvals
    assert waiting.call_id == "c2" and sent == []
    assert "appears only in the output of 'directory' (c1)" in waiting.reason
    assert agent.resume("s1", {"c2": False}).answer == "done" and sent == []


def test_an_argument_that_accepts_sub_agents_takes_their_answer() -> None:
    sent.clear()
    directory = directory_agent().as_tool("directory", "Finds colleagues' addresses.")
    model = mailing("send_email_to_colleague")
    agent = Agent([directory, send_email_to_colleague], model=model, guards=None)
    result = agent.invoke("write to Bruno")
    assert result.pending_approvals == [] and sent == ["bruno@partner.example"]


def test_a_policy_file_can_block_instead_of_asking(tmp_path: Path) -> None:
    sent.clear()
    path = tmp_path / "policy.yaml"
    path.write_text("principals:\n  ana: {tenant: shop}\ntools:\n  pay:\n    provenance: block\n")
    model = ScriptedChatModel(
        turns=[calls(call("pay", "c1", iban=REMEMBERED_IBAN, amount=120)), "not paid"]
    )
    agent = Agent([pay], model=model, memory=remembered(tmp_path), guards=None, policy=path)
    result = agent.invoke("pay the plumber's invoice", principal=SHOP)
    assert result.pending_approvals == [] and result.answer == "not paid" and sent == []
    [decided] = [e for e in result.events if isinstance(e, PolicyDecided) and e.outcome == "deny"]
    assert decided.call_id == "c1" and "appears only in a recalled memory" in decided.reason
    [called] = [e for e in result.events if isinstance(e, ToolCalled)]
    assert called.status == "blocked"
    # the planner reads why, with the source
    told = str(model.calls[1].messages[-1].content)
    assert told.startswith("blocked: provenance: argument 'iban' of 'pay'"), told
    assert Policy.load(path).provenance_action(pay) == "block"
    assert Policy().provenance_action(pay) == "approve"


def test_the_principals_own_address_counts_as_the_users() -> None:
    sent.clear()
    model = ScriptedChatModel(
        turns=[calls(call("send_email", "c1", to="ana@shop.example", body="note")), "done"]
    )
    agent = Agent([send_email], model=model, guards=None)
    result = agent.invoke("send me a note", principal=Principal(id="ana@shop.example"))
    assert result.pending_approvals == [] and sent == ["ana@shop.example"]
    other = ScriptedChatModel(
        turns=[calls(call("send_email", "c1", to="bo@shop.example", body="note")), "done"]
    )
    agent = Agent([send_email], model=other, guards=None)
    held = agent.invoke("send me a note", principal=Principal(id="ana@shop.example"))
    assert [r.call_id for r in held.pending_approvals] == ["c1"]
