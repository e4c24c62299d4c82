"""The web page's files, its security headers and the eval reports it shows (over HTTP)."""

from __future__ import annotations

import os
from pathlib import Path

from podium.agent import Agent
from podium.server.app import create_app
from podium.server.page import WEB
from tests.server.test_app import order_status, running
from tests.server.web_agent import TOKENS, web_agent

ANN = {"Authorization": "Bearer ann-token-0123456789"}


def test_the_page_is_served_from_the_package_with_a_strict_policy() -> None:
    with running(create_app(Agent([order_status]))) as client:
        page = client.get("/")
        script = client.get("/web/app.js")
        missing = client.get("/web/nothing.js")
        escape = client.get("/web/..%2Fapp.py")
        error = client.post("/invoke", json={})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/app.js"></script>' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    for response in (page, script, missing, error):
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    assert missing.status_code == 404 and escape.status_code == 404


def test_the_page_holds_no_inline_script_and_loads_nothing_from_elsewhere() -> None:
    for path in WEB.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text, path
        if path.suffix == ".html":
            assert "<script>" not in text and " on" not in text.replace(" only", ""), path
        if path.suffix == ".js":
            assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path
            assert "eval(" not in text and "console.log" not in text, path


def test_reports_are_listed_and_read_only_inside_their_directory(
    tmp_path: Path, isolated: Path
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "smoke.html").write_text("<h1>smoke</h1><table><tr><td>90%</td></tr></table>")
    (reports / "notes.txt").write_text("not a report")
    (reports / ".hidden.html").write_text("hidden")
    (tmp_path / "outside.html").write_text("secret outside")
    os.symlink(tmp_path / "outside.html", reports / "link.html")
    app = create_app(web_agent(isolated), tokens=TOKENS, reports=reports)
    with running(app) as client:
        anonymous = client.get("/reports")
        listing = client.get("/reports", headers=ANN).json()
        report = client.get("/reports/smoke.html", headers=ANN)
        refused = [
            client.get(f"/reports/{name}", headers=ANN)
            for name in ("notes.txt", ".hidden.html", "link.html", "..%2Foutside.html", "none.html")
        ]
        written = client.post("/reports/smoke.html", headers=ANN)
    assert anonymous.status_code == 401
    assert [r["name"] for r in listing["reports"]] == ["smoke.html"] and listing["configured"]
    assert report.status_code == 200 and "<h1>smoke</h1>" in report.text
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert "sandbox" in report.headers["content-security-policy"]
    for response in refused:
        assert response.status_code == 404 and "secret outside" not in response.text
    assert written.status_code == 405


def test_without_a_reports_directory_the_page_says_so() -> None:
    with running(create_app(Agent([order_status]))) as client:
        assert client.get("/reports").json() == {"configured": False, "reports": []}
        assert client.get("/reports/smoke.html").status_code == 404
