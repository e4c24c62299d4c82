"""Attacks on a started `podium serve`, over loopback HTTP, by callers holding valid tokens.

One service process for the module: a policy with several principals, bearer tokens, event
triggers, memory on, and the tools of a real MCP server (attack_tools.py) that counts every
side effect in a file of its own. Each test is an attack the service once let through.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_for_port

POLICY = """\
roles:
  releaser: {scopes: ["approve:release_version"]}
principals:
  ann: {}
  bob: {scopes: ["events:ticket"]}
  rel: {roles: [releaser]}
  ops: {scopes: ["secrets:read"]}
  hook: {scopes: ["events:report"]}
  relay: {scopes: ["events:report", "act_as:ops"]}
  mallory: {}
tools:
  release_version: {needs_approval: true}
  read_secret_plan: {scopes: ["secrets:read"]}
"""
TRIGGERS = """\
events:
  - {event: report, request: "read the secret plan", as: ops}
  - {event: ticket, request: "release version {version}", thread: "{ticket}"}
"""
NAMES = ("ann", "bob", "rel", "ops", "hook", "relay", "mallory")


@dataclass
class Service:
    url: str
    home: Path
    effects: Path

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {who}-token-0123456789"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, trust_env=False, timeout=120)

    def effects_done(self) -> list[str]:
        return self.effects.read_text().splitlines() if self.effects.exists() else []


def _serve(root: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    (root / "policy.yaml").write_text(POLICY)
    (root / "triggers.yaml").write_text(TRIGGERS)
    (root / "tokens").write_text("".join(f"{n}-token-0123456789 {n}\n" for n in NAMES))
    tools = f"{sys.executable} {Path(__file__).parent / 'attack_tools.py'} {root / 'effects'}"
    port = free_port()
    command = [sys.executable, "-m", "podium.cli", "serve", "--port", str(port)]
    command += ["--policy", str(root / "policy.yaml"), "--tokens", str(root / "tokens")]
    command += ["--triggers", str(root / "triggers.yaml"), "--mcp", tools, *extra]
    env = {**os.environ, "PODIUM_HOME": str(root / "home")}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, env=env)
    wait_for_port(port, process, seconds=60)
    return process, port


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("attacked")
    process, port = _serve(root)
    try:
        yield Service(f"http://127.0.0.1:{port}", root / "home", root / "effects")
    finally:
        process.terminate()
        process.wait(timeout=20)


# --- authorization and isolation ---------------------------------------------------------


def test_a_caller_without_the_scope_cannot_fire_an_event(service: Service) -> None:
    with service.client("mallory") as mallory:
        refused = mallory.post("/events/report", json={})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "principal 'mallory' may not fire event 'report'",
        "fix": "grant the scope events:report (or events:*) in the policy",
    }


def test_firing_an_event_that_runs_as_another_needs_act_as(service: Service) -> None:
    with service.client("hook") as hook, service.client("relay") as relay:
        refused = hook.post("/events/report", json={})
        allowed = relay.post("/events/report", json={})
    assert refused.status_code == 403 and "act_as:ops" in refused.json()["fix"]
    assert allowed.status_code == 200
    [firing] = allowed.json()
    assert firing["stop_reason"] == "answered" and firing["principal"] == "ops"


def test_a_payload_cannot_write_into_another_principals_thread(service: Service) -> None:
    with service.client("ann") as ann, service.client("bob") as bob:
        waiting = ann.post("/invoke", json={"request": "release version 1.0.0", "thread_id": "t3"})
        assert waiting.json()["stop_reason"] == "awaiting_approval"
        fired = bob.post("/events/ticket", json={"ticket": "ann:t3", "version": "6.6.6"})
        assert fired.status_code == 200
        [firing] = fired.json()
        assert firing["thread_id"] == "bob:ann:t3"  # in bob's own namespace
        assert "waits for approval" not in json.dumps(firing)
        [still] = ann.get("/threads/t3/approvals").json()
        assert still["arguments"] == {"version": "1.0.0"}
        assert bob.get("/threads/t3/approvals", params={"owner": "ann"}).status_code == 404
        theirs = bob.get("/threads/ann:t3").json()  # bob's own thread of that name
        assert theirs["owner"] == "bob" and "6.6.6" in theirs["request"]
    assert "released 6.6.6" not in service.effects_done()


def test_a_requester_cannot_approve_her_own_call_and_a_decider_can(service: Service) -> None:
    with service.client("ann") as ann, service.client("rel") as rel, service.client("bob") as bob:
        waiting = ann.post("/invoke", json={"request": "release version 2.0.0", "thread_id": "r2"})
        [pending] = waiting.json()["pending_approvals"]
        decision = {"decisions": {pending["call_id"]: True}}
        own = ann.post("/threads/r2/resume", json=decision)
        assert own.status_code == 403 and "approve:release_version" in own.json()["fix"]
        assert bob.get("/approvals").json() == []
        listed = rel.get("/approvals").json()
        assert {"owner": "ann", "thread_id": "r2", "call_id": pending["call_id"]}.items() <= {
            k: v for item in listed for k, v in item.items() if item["thread_id"] == "r2"
        }.items()
        done = rel.post("/threads/r2/resume", json={**decision, "owner": "ann"})
        assert done.status_code == 200 and done.json()["stop_reason"] == "answered"
    assert service.effects_done().count("released 2.0.0") == 1
    audit = (service.home / "audit" / "audit.jsonl").read_text()
    decided = [
        json.loads(line)["event"]
        for line in audit.splitlines()
        if '"approval_decided"' in line and pending["call_id"] in line
    ]
    assert [(d["by"], d["approved"]) for d in decided] == [("rel", True)]


def test_memory_is_not_shared_between_principals(service: Service) -> None:
    with service.client("ann") as ann, service.client("bob") as bob:
        saved = ann.post("/invoke", json={"request": "Remember that the vault code is 90210"})
        assert saved.json()["stop_reason"] == "answered"
        # The offline router answers from memory through memory_search (recall alone is
        # never an answer).
        asking = "search memory for the vault code"
        assert "90210" in ann.post("/invoke", json={"request": asking}).text
        asked = bob.post("/invoke", json={"request": asking, "events": True})
    assert "90210" not in asked.text


def test_the_docs_listings_and_details_need_the_token(service: Service) -> None:
    with service.client() as anyone, service.client("bob") as bob, service.client("relay") as relay:
        assert anyone.get("/docs").status_code == 404
        assert anyone.get("/redoc").status_code == 404
        assert anyone.get("/openapi.json").status_code == 401
        assert anyone.get("/triggers").status_code == 401
        assert anyone.get("/health").json() == {"ok": True}
        assert "/invoke" in bob.get("/openapi.json").json()["paths"]
        assert "release_version" in bob.get("/health").json()["tools"]
        relay.post("/events/report", json={})
        theirs = bob.get("/triggers").json()["history"]
    assert all("bob" in (f["principal"], f["sender"]) for f in theirs)


def test_principal_ids_that_could_collide_stop_the_service_at_start(tmp_path: Path) -> None:
    (tmp_path / "tokens").write_text("team-lead-token-0123456789 team:lead\n")
    started = subprocess.run(
        [sys.executable, "-m", "podium.cli", "serve", "--tokens", str(tmp_path / "tokens")],
        capture_output=True,
        text=True,
        env={**os.environ, "PODIUM_HOME": str(tmp_path / "home")},
        timeout=60,
    )
    assert started.returncode == 2
    assert "line 1: principal id 'team:lead' may hold only" in started.stderr
    assert "Traceback" not in started.stderr


# --- durability under clients that leave, and under load ---------------------------------


def test_a_client_leaving_a_stream_neither_stops_the_run_nor_frees_the_thread(
    service: Service,
) -> None:
    body = {"request": "brew 2 cups of coffee", "thread_id": "c1"}
    with service.client("bob") as bob:
        with bob.stream("POST", "/stream", json=body) as lines:
            first = next(lines.iter_lines())
            assert json.loads(first)["event"]["kind"] == "run_started"
        # The client is gone; the run goes on and still holds the thread.
        again = bob.post("/threads/c1/resume")
        view = bob.get("/threads/c1").json()
    assert again.status_code == 400 and "nothing to resume" in again.json()["error"]
    assert view["stop_reason"] == "answered" and not view["unfinished"]
    assert service.effects_done().count("brewed 2") == 1


@pytest.mark.slow
def test_concurrent_turns_are_all_kept(service: Service) -> None:
    headers = {"Authorization": "Bearer ann-token-0123456789"}

    async def turn(client: httpx.AsyncClient, thread: int) -> int:
        answer = await client.post(
            "/invoke", json={"request": "what is 2 + 3", "thread_id": f"load-{thread}"}
        )
        if answer.status_code == 503:
            assert answer.headers["Retry-After"]
        return answer.status_code

    async def rounds() -> list[int]:
        statuses = []
        async with httpx.AsyncClient(
            base_url=service.url, headers=headers, timeout=300, trust_env=False
        ) as client:
            for _ in range(2):  # 200 at once is the load; more rounds only take longer
                statuses += await asyncio.gather(*[turn(client, n % 20) for n in range(200)])
        return statuses

    statuses = asyncio.run(rounds())
    assert statuses.count(200) == 400, sorted(set(statuses))


# --- bad and hostile input ---------------------------------------------------------------


def test_oversized_bodies_are_refused_before_they_are_read_even_without_a_token(
    service: Service,
) -> None:
    with service.client() as anyone:
        started = time.monotonic()
        huge = anyone.post("/invoke", content=b"x" * 10_000_000)
        assert huge.status_code == 413, huge.text
        assert "larger than 1000000 bytes" in huge.json()["error"]
        assert time.monotonic() - started < 10  # a hang guard, not a timing

        def chunks() -> Iterator[bytes]:
            for _ in range(200):
                yield b"y" * 10_000

        chunked = anyone.post("/invoke", content=chunks())
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    ("headers", "content", "status", "message"),
    [
        (
            {"Authorization": "Bearer caf\u00e9-token-0123456789"},
            b'{"request": "hi"}',
            401,
            "token",
        ),
        ({}, b'{"request": NaN}', 422, "invalid request"),
        ({}, b'{"request": "hi \\udfff there"}', 422, "valid string"),
        ({}, b'{"request": "hi", "thread_id": "\\ud800"}', 422, "thread_id"),
        ({}, b"[1, 2", 422, "invalid request"),
        ({}, b'{"request": "' + b"1" * 300 + b'", "events": NaN}', 422, "events"),
    ],
)
def test_malformed_requests_get_a_clear_error_never_a_500(
    service: Service, headers: dict[str, str], content: bytes, status: int, message: str
) -> None:
    sent = {"Authorization": "Bearer bob-token-0123456789", "content-type": "application/json"}
    sent.update(headers)
    with service.client() as anyone:
        answer = anyone.post(
            "/invoke", content=content, headers={k.encode(): v.encode() for k, v in sent.items()}
        )
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error", "fix"} and message in answer.json()["error"]


def test_an_absurd_argument_leaves_the_thread_usable(service: Service) -> None:
    with service.client("ann") as ann:
        bad = ann.post(
            "/invoke",
            json={"request": "read the file notes.txt with max_chars 1e308", "thread_id": "x"},
        )
        after = ann.post("/invoke", json={"request": "what is 2 + 3", "thread_id": "x"})
    assert bad.status_code == 200 and bad.json()["tool_calls"][0]["status"] == "invalid_arguments"
    assert after.status_code == 200 and after.json()["stop_reason"] == "answered"
