"""The table of SECURITY.md: podium's own attack tests, tried and got through, per area.

Runs the attack tests with pytest (slow ones included) and counts, per area, the attack
cases tried (test items) and those that got through (items that failed). An attack "gets
through" when the defence it probes does not hold; a green suite prints zeros.

    .venv/bin/python benchmarks/attack_table.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

# area -> (pytest node ids or -k expressions, what one case does)
AREAS: dict[str, tuple[list[str], str]] = {
    "authorization and isolation over HTTP": (
        [
            "tests/server/test_attacks.py::test_a_caller_without_the_scope_cannot_fire_an_event",
            "tests/server/test_attacks.py::test_firing_an_event_that_runs_as_another_needs_act_as",
            "tests/server/test_attacks.py::test_a_payload_cannot_write_into_another_principals_thread",
            "tests/server/test_attacks.py::test_a_requester_cannot_approve_her_own_call_and_a_decider_can",
            "tests/server/test_attacks.py::test_memory_is_not_shared_between_principals",
            "tests/server/test_attacks.py::test_the_docs_listings_and_details_need_the_token",
            "tests/server/test_attacks.py::test_principal_ids_that_could_collide_stop_the_service_at_start",
            "tests/server/test_app.py::test_tokens_name_the_principal_and_keep_threads_apart",
        ],
        "a caller with a valid token tries to reach what is not theirs",
    ),
    "the web page and the other doors (AG-UI, A2A, MCP)": (
        [
            "tests/server/test_browser.py::test_what_a_tool_returns_is_shown_as_text_and_never_runs",
            "tests/server/test_page.py",
            "tests/server/test_history.py",
            "tests/server/test_agui.py::test_agui_needs_the_token_and_keeps_threads_and_decisions_to_their_principal",
            "tests/server/test_a2a.py::test_a2a_needs_a_token_and_keeps_tasks_to_their_principal",
            "tests/server/test_mcp.py::test_over_http_each_token_is_its_principal",
        ],
        "hostile tool output in a real browser, paths out of the reports, others' traces and tasks",
    ),
    "policy files": (
        ["tests/guardrails/test_policy.py::test_a_bad_policy_file_names_the_line_and_the_fix"],
        "a file that would grant more than it says",
    ),
    "audit log: tampering and crashes": (
        [
            "tests/tracing/test_verify.py",
            "tests/tracing/test_recovery.py",
            "tests/tracing/test_audit.py",
        ],
        "an edit, insertion, deletion or forgery of the log; 50 writers killed with SIGKILL",
    ),
    "kill -9 and side effects": (
        ["tests/planner/test_saga.py", "tests/test_runner.py"],
        "a run killed after each write of its store, resumed; calls without ids",
    ),
    "denial of service": (
        [
            "tests/tools/test_arithmetic.py",
            "tests/planner/router/test_model.py::test_long_runs_of_digits_and_spaces_are_planned_in_linear_time",
            "tests/server/test_attacks.py::test_oversized_bodies_are_refused_before_they_are_read_even_without_a_token",
            "tests/server/test_attacks.py::test_concurrent_turns_are_all_kept",
            "tests/server/test_attacks.py::test_a_client_leaving_a_stream_neither_stops_the_run_nor_frees_the_thread",
        ],
        "huge powers, 12 KB digit runs, 10 MB bodies, 200 requests at once",
    ),
    "argument validators and the sandbox": (
        [
            "tests/guardrails/test_arguments.py",
            "tests/tools/test_builtin.py",
            "tests/tools/test_sandbox.py",
        ],
        "URLs, addresses and SQL that smuggle a second meaning; a symlink race over 20,000 reads",
    ),
    "memory poisoning and labels": (
        ["tests/planner/test_memories.py", "tests/planner/test_prompts.py"],
        "instructions planted through tools, memory_save and requests; closing tags inside data",
    ),
    "secrets in every sink": (
        ["tests/test_sinks.py", "tests/storage/test_serde.py", "tests/test_redaction.py"],
        "keys, tokens and passwords in every shape, then grep every file podium wrote",
    ),
    "hostile and malformed input": (
        [
            "tests/server/test_attacks.py::test_malformed_requests_get_a_clear_error_never_a_500",
            "tests/server/test_attacks.py::test_an_absurd_argument_leaves_the_thread_usable",
            "tests/storage/test_sqlite.py",
        ],
        "NaN, lone surrogates, non-ASCII tokens, fuzzed text, damaged databases",
    ),
}


def run(area: str, targets: list[str]) -> tuple[int, int]:
    """(tried, got through) for one area."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={report}",
                *targets,
            ],
            capture_output=True,
            check=False,
        )
        cases = ElementTree.parse(report).getroot().iter("testcase")
        tried = through = 0
        for case in cases:
            if case.find("skipped") is not None:
                continue
            tried += 1
            through += case.find("failure") is not None or case.find("error") is not None
    return tried, through


def main() -> None:
    print("| area | what one case does | tried | got through |")
    print("|---|---|---|---|")
    for area, (targets, what) in AREAS.items():
        tried, through = run(area, targets)
        print(f"| {area} | {what} | {tried} | {through} |", flush=True)


if __name__ == "__main__":
    main()
