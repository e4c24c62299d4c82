"""Real chromadb on disk with the real all-MiniLM-L6-v2 embedder (loads torch: slow)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from podium.agent import Agent
from podium.errors import MemoryUnavailable
from podium.guardrails.policy import Principal
from podium.memory.store import MemoryStore
from podium.planner.models.scripted import ScriptedChatModel
from podium.planner.prompts import MEMORY_HEADER
from podium.tracing import MemoryUsed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> MemoryStore:
    return MemoryStore(tmp_path_factory.mktemp("memory"))


def test_recall_finds_the_related_memory_first(store: MemoryStore) -> None:
    for text in (
        "The deploy window is Friday at 16:00 UTC.",
        "Ana prefers invoices by email.",
        "The staging database runs PostgreSQL 16.",
    ):
        store.remember(text, "acme")
    found = store.recall("when can we deploy?", "acme", limit=3)
    assert found[0].text == "The deploy window is Friday at 16:00 UTC."
    assert found[0].similarity > found[1].similarity


def test_recall_never_crosses_namespaces(store: MemoryStore) -> None:
    tenants = [f"tenant-{i}" for i in range(12)]
    for tenant in tenants:
        store.remember(f"The secret project code name for {tenant} is Bluebird.", tenant)
    for tenant in tenants:
        found = store.recall("what is the secret project code name?", tenant, limit=10)
        assert [m.text for m in found] == [
            f"The secret project code name for {tenant} is Bluebird."
        ]


def test_memories_survive_a_new_store_on_the_same_directory(tmp_path: Path) -> None:
    MemoryStore(tmp_path).remember("Backups run nightly at 02:00.", "ops")
    found = MemoryStore(tmp_path).recall("when do backups run", "ops")
    assert [m.text for m in found] == ["Backups run nightly at 02:00."]


class OtherEmbedder:
    name = "other-embedder"
    dimension = 3

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0, 0.0] for t in texts]


def test_a_collection_refuses_another_embedder(tmp_path: Path) -> None:
    MemoryStore(tmp_path).remember("hello", "ns")
    with pytest.raises(MemoryUnavailable, match="built with embedder 'all-MiniLM-L6-v2'"):
        MemoryStore(tmp_path, OtherEmbedder()).recall("hello", "ns")


def test_forget_removes_a_memory(tmp_path: Path) -> None:
    memories = MemoryStore(tmp_path)
    memory_id = memories.remember("temporary note", "ns")
    memories.forget(memory_id, "ns")
    assert memories.recall("temporary note", "ns") == []


def test_the_planner_recalls_what_an_earlier_run_learned(tmp_path: Path) -> None:
    memories = MemoryStore(tmp_path / "memory")
    acme = Principal(id="ana", tenant="acme")
    first = ScriptedChatModel(turns=["Noted: the deploy window is Friday."])
    Agent([], model=first, memory=memories, guards=None).invoke(
        "Remember: our deploy window is Friday afternoon.", principal=acme
    )
    second = ScriptedChatModel(turns=["Friday."])
    result = Agent([], model=second, memory=memories, guards=None).invoke(
        "When is the deploy window?", principal=acme
    )
    system = str(second.calls[0].messages[0].content)
    assert MEMORY_HEADER in system and "deploy window is Friday afternoon" in system
    assert any(
        isinstance(e, MemoryUsed) and e.operation == "recall" and e.count >= 1
        for e in result.events
    )
    other = ScriptedChatModel(turns=["?"])
    Agent([], model=other, memory=memories, guards=None).invoke(
        "When is the deploy window?", principal=Principal(id="bo", tenant="globex")
    )
    assert MEMORY_HEADER not in str(other.calls[0].messages[0].content)


def test_a_broken_memory_does_not_stop_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    model = ScriptedChatModel(turns=["answered anyway"])
    result = Agent([], model=model, memory=MemoryStore(blocker / "memory"), guards=None).invoke(
        "hi"
    )
    assert result.answer == "answered anyway"
    failures = [
        e for e in result.events if isinstance(e, MemoryUsed) and e.operation == "unavailable"
    ]
    assert failures and "cannot be opened" in failures[0].detail


def test_router_with_the_embedder_rejects_what_only_shares_words() -> None:
    from podium.memory.embeddings import MiniLMEmbedder
    from podium.planner.models.router import RouterChatModel
    from podium.tools.builtin import calculator, current_time
    from podium.tools.registry import tool

    @tool
    def city_population(city: str) -> int:
        """Get the number of people living in a city.

        Args:
            city: The city name.
        """
        return 1

    schemas = [t.openai_schema() for t in (city_population, calculator, current_time)]
    lexical, semantic = RouterChatModel(), RouterChatModel(embedder=MiniLMEmbedder())

    def routed(model: RouterChatModel, request: str) -> list[str]:
        return [c["name"] for c in model.plan(request, schemas).tool_calls]

    for off_topic in (
        "What time does the city council meet?",
        "Tell me about the history of the city of Rome",
    ):
        assert routed(lexical, off_topic) != []  # shared words fool the lexical score
        assert routed(semantic, off_topic) == []
    on_topic = "How many inhabitants does the city of Lyon have?"
    assert routed(semantic, on_topic) == routed(lexical, on_topic) == ["city_population"]
    # a value only one tool's parameter takes still decides, as in the lexical mode
    arithmetic = "What is 17 * (3 + 4)? Then what time is it in Europe/Paris?"
    assert routed(semantic, arithmetic) == routed(lexical, arithmetic)
    assert routed(semantic, arithmetic) == ["calculator", "current_time"]
