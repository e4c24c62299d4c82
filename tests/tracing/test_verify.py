"""Verifying the audit log: each way of tampering with it is named, and stays named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.tracing.records import HEAD_NAME, LOG_NAME, Head, read_head, record_line
from podium.tracing.verify import verify
from podium.tracing.views import load_runs
from tests.tracing.recorded import FORGED, TAMPERINGS, lines, rewrite, run

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.mark.parametrize("tamper", list(TAMPERINGS))
def test_tampering_is_named_and_stays_named_after_the_next_run(isolated: Path, tamper: str) -> None:
    run()
    change, problem = TAMPERINGS[tamper]
    change(isolated)
    result = verify(isolated / "audit")
    assert not result.intact
    assert any(problem in p for p in result.problems), result.problems
    shown = runner.invoke(app, ["trace", "verify"])
    assert shown.exit_code == 1 and "TAMPERED" in shown.stdout
    assert f"broken: {result.problems[0]}" in shown.stdout
    run("after the tampering")  # the writer must not paper over it
    assert not verify(isolated / "audit").intact
    assert runner.invoke(app, ["trace", "verify"]).exit_code == 1


@pytest.mark.parametrize("tamper", ["forge_line", "forge_record"])
def test_the_views_never_show_a_forged_line(isolated: Path, tamper: str) -> None:
    genuine = run()
    TAMPERINGS[tamper][0](isolated)
    assert [r.trace_id for r in load_runs(isolated / "audit")] == [genuine.trace_id]
    listed = runner.invoke(app, ["trace", "list"])
    assert listed.exit_code == 0 and "f0rged" not in listed.stdout
    assert "the audit log fails verification" in listed.stderr
    shown = runner.invoke(app, ["trace", "show", "f0rged"])
    assert shown.exit_code == 2 and "wire the money" not in shown.stdout
    assert genuine.trace_id[:12] in runner.invoke(app, ["trace", "list"]).stdout


def test_a_home_that_never_had_a_log_says_no_records_not_intact(isolated: Path) -> None:
    result = verify(isolated / "audit")
    assert result.intact and result.empty and result.records == 0
    shown = runner.invoke(app, ["trace", "verify"])
    assert shown.exit_code == 0
    assert "no records" in shown.stdout and "intact" not in shown.stdout


def test_the_last_records_of_an_intact_log_are_named_for_keeping_elsewhere(isolated: Path) -> None:
    done = run()
    result = verify(isolated / "audit")
    assert result.intact and result.newest is not None
    assert result.newest.seq == len(done.events) == result.records
    shown = runner.invoke(app, ["trace", "verify"])
    assert shown.exit_code == 0
    assert f"{len(done.events)} records checked (hashes, chain, head): intact" in shown.stdout
    assert f"newest record {result.newest}" in shown.stdout


def test_a_head_kept_elsewhere_catches_a_cut_end_with_a_rewritten_head(isolated: Path) -> None:
    run()
    kept = verify(isolated / "audit").newest
    assert kept is not None
    rewrite(isolated, lines(isolated)[:-3])  # cut the end, and put the head back in line
    last = json.loads(lines(isolated)[-1])
    size = (isolated / "audit" / LOG_NAME).stat().st_size
    (isolated / "audit" / HEAD_NAME).write_text(
        json.dumps({"seq": last["seq"], "hash": last["hash"], "size": size})
    )
    assert verify(isolated / "audit").intact  # what the directory alone cannot show
    result = verify(isolated / "audit", expect=kept)
    assert any("given by --head" in p for p in result.problems), result.problems
    shown = runner.invoke(app, ["trace", "verify", "--head", str(kept)])
    assert shown.exit_code == 1 and "TAMPERED" in shown.stdout
    shutil.rmtree(isolated / "audit")  # the whole directory
    assert runner.invoke(app, ["trace", "verify", "--head", str(kept)]).exit_code == 1
    bad = runner.invoke(app, ["trace", "verify", "--head", "seven"])
    assert bad.exit_code == 2 and "is not SEQ:HASH" in bad.stderr


def forge_chain(home: Path, key: str | None) -> None:
    """Rewrite record 4 and every record after it, with a consistent chain and head."""
    old = lines(home)
    new = old[:3]
    head = Head(3, json.loads(old[2])["hash"])
    for index, line in enumerate(old[3:]):
        event = line.split('"event": ', 1)[1][:-1]
        if index == 0:
            event = FORGED.model_dump_json()
        text, digest = record_line(head.seq + 1, head.hash, event, key)
        new.append(text[:-1])
        head = Head(head.seq + 1, digest)
    rewrite(home, new)
    size = (home / "audit" / LOG_NAME).stat().st_size
    (home / "audit" / HEAD_NAME).write_text(
        json.dumps({"seq": head.seq, "hash": head.hash, "size": size})
    )


@pytest.mark.parametrize("forger_key", [None, "a guess at the key"])
def test_with_a_key_a_rewritten_chain_is_named(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, forger_key: str | None
) -> None:
    monkeypatch.setenv("PODIUM_AUDIT_KEY", "kept in the secret store")
    genuine = run()
    signed = verify(isolated / "audit", key="kept in the secret store")
    assert signed.intact and signed.signed and signed.records == len(genuine.events)
    checked = runner.invoke(app, ["trace", "verify"]).stdout
    assert "(hashes, chain, head, signatures): intact" in checked
    forge_chain(isolated, forger_key)
    assert read_head(isolated / "audit") is not None
    result = verify(isolated / "audit", key="kept in the secret store")
    assert any("line 4 (record 4): not signed with the audit key" in p for p in result.problems)
    shown = [r.trace_id for r in load_runs(isolated / "audit", "kept in the secret store")]
    assert shown == [genuine.trace_id]  # its first records only; nothing forged
    assert runner.invoke(app, ["trace", "verify"]).exit_code == 1


def test_a_key_set_on_an_unsigned_log_names_every_record(isolated: Path) -> None:
    done = run()
    result = verify(isolated / "audit", key="set after the fact")
    assert len([p for p in result.problems if "not signed" in p]) == len(done.events)


def test_signed_records_checked_without_the_key_say_so(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_AUDIT_KEY", "kept in the secret store")
    run()
    result = verify(isolated / "audit")
    assert result.intact and not result.signed
    assert any("signatures not checked" in w for w in result.warnings)
