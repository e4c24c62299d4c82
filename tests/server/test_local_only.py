"""An open service (no tokens) answers the local machine's own pages, not any site's."""

from __future__ import annotations

from pathlib import Path

from podium.agent import Agent
from podium.server.app import create_app
from podium.server.triggers import EventRule, Triggers
from tests.server.test_app import order_status, running


def test_another_site_or_a_rebound_host_name_cannot_drive_an_open_service(
    isolated: Path,
) -> None:
    agent = Agent([order_status])
    triggers = Triggers(agent, events=[EventRule(event="nightly", request="status of order N-1?")])
    with running(create_app(agent, triggers)) as client:
        cross_site = [  # what a page of another site makes the browser send, unasked
            client.post("/events/nightly", content=b"", headers={"origin": origin})
            for origin in ("https://evil.example", "null")
        ]
        form = client.post(
            "/events/nightly",
            content=b"",
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "sec-fetch-site": "cross-site",
            },
        )
        rebound = client.post(  # a name of the attacker's resolved to 127.0.0.1
            "/invoke",
            json={"request": "status of order R-9?"},
            headers={"host": "evil.example:8000", "origin": "http://evil.example:8000"},
        )
        own_page = client.post(
            "/invoke",
            json={"request": "status of order A-1?"},
            headers={"origin": str(client.base_url), "sec-fetch-site": "same-origin"},
        )
        history = client.get("/triggers").json()["history"]
    assert [answer.status_code for answer in (*cross_site, form, rebound)] == [403] * 4
    assert "not a page of 'https://evil.example'" in cross_site[0].json()["error"]
    assert "not host 'evil.example:8000'" in rebound.json()["error"]
    assert "--tokens" in rebound.json()["fix"]
    assert own_page.status_code == 200 and "A-1" in own_page.text
    assert history == []  # no event fired


def test_a_service_with_tokens_serves_any_host_name(isolated: Path) -> None:
    isolated.mkdir(parents=True, exist_ok=True)
    (isolated / "policy.yaml").write_text("principals:\n  ann: {}\n")
    agent = Agent([order_status], policy=isolated / "policy.yaml")
    with running(create_app(agent, tokens={"ann-token-0123456789": "ann"})) as client:
        answer = client.post(
            "/invoke",
            json={"request": "status of order A-1?"},
            headers={"host": "agents.example.com", "authorization": "Bearer ann-token-0123456789"},
        )
    assert answer.status_code == 200
