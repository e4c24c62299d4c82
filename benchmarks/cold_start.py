"""Cold start of the first commands a person types, in a fresh PODIUM_HOME each time.

Each command runs in a process of its own; wall time, CPU time (user + system) and the
largest resident set are taken from the child's rusage. Each command runs once untimed
first, so that its modules' bytecode exists (as after an install); the home is fresh for
every run. The peer, measured in the same
run, is the interpreter starting and importing the CLI's own framework (typer and rich):
the floor any Python command line pays. Memory runs use the default embedder (ONNX when
``scripts/onnx_minilm.py`` has exported its files, else torch's MiniLM). The last rows are
the same runs handed to a resident process already up (podium.cli.resident); every other
row runs with it off.

    python benchmarks/cold_start.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = [sys.executable, "-c", "import typer, rich.console"]
# The console script, as a person runs it (``python -m`` would compile the CLI's main
# module from source on every start: a __main__ module has no cached bytecode).
SCRIPT = Path(sys.executable).parent / "podium"
PODIUM = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "podium.cli.main"]
COMMANDS = {  # in order of size: the RSS column is the largest child so far
    "podium tools": [*PODIUM, "tools"],
    'podium run --policy missing.yaml "..." (refused)': [
        *PODIUM,
        "run",
        "--policy",
        "missing.yaml",
        "what is 2 + 2",
    ],
    'podium run --no-memory "what is 2 + 2"': [*PODIUM, "run", "--no-memory", "what is 2 + 2"],
    'podium run "what is 2 + 2" (memory on)': [*PODIUM, "run", "what is 2 + 2"],
}


RESIDENT = {  # the same runs, handed to a resident process that is already up
    'podium run --no-memory "what is 2 + 2" (resident up)': COMMANDS[
        'podium run --no-memory "what is 2 + 2"'
    ],
    'podium run "what is 2 + 2" (memory on, resident up)': COMMANDS[
        'podium run "what is 2 + 2" (memory on)'
    ],
}


def measured(
    command: list[str], resident: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Wall s, CPU s and max RSS MB of one run of ``command`` in a fresh home.

    With ``resident`` (its environment), the command goes to the resident process: the CPU
    is the caller's and its forked child's, the RSS the child's (which counts the pages it
    shares with the resident process), as that process reports them.
    """
    import time

    with tempfile.TemporaryDirectory() as home:
        # Bytecode as an installed package has it: pip writes it for site-packages, and
        # Python for the sources it imports, unless PYTHONDONTWRITEBYTECODE says not to
        # (then every edited module is compiled again on every start).
        env = {**_environment(resident), "PODIUM_HOME": home}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if resident is not None:
        last = _resident_status(resident)["last"]
        return wall, cpu + last["cpu_seconds"], last["max_rss_mb"]
    return wall, cpu, after.ru_maxrss / 1024  # the largest child so far: commands go up


def _environment(resident: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, "PODIUM_RESIDENT": "0", **(resident or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # (also part of a resident process's name)
    return env


def _resident_status(resident: dict[str, str]) -> dict:
    import json

    done = subprocess.run(
        [*PODIUM, "resident", "status", "--json"],
        env=_environment(resident),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _resident_up() -> dict[str, str]:
    """A resident process of this benchmark's own, up and serving; its environment."""
    import time

    folder = tempfile.mkdtemp(prefix="podium-bench-")
    os.chmod(folder, 0o700)
    resident = {"PODIUM_RESIDENT": "1", "PODIUM_RESIDENT_DIR": folder}
    subprocess.run(
        [*PODIUM, "run", "--no-memory", "what is 2 + 2"],
        env=_environment(resident),
        capture_output=True,
        check=False,
    )
    deadline = time.monotonic() + 120
    while "server" not in _resident_status(resident) and time.monotonic() < deadline:
        time.sleep(0.2)
    return resident


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    peer = [measured(PEER) for _ in range(repeat)]
    peer_cpu = statistics.median(p[1] for p in peer)
    print(
        f"peer (python + typer + rich): cpu {peer_cpu:.2f} s, wall "
        f"{statistics.median(p[0] for p in peer):.2f} s"
    )
    print("| command | wall s | CPU s | × peer CPU | max RSS MB |")
    print("|---|---|---|---|---|")
    for name, command in COMMANDS.items():
        measured(command)  # writes the bytecode of what it imports; not timed
        runs = [measured(command) for _ in range(repeat)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs)
        print(f"| `{name}` | {wall:.2f} | {cpu:.2f} | {cpu / peer_cpu:.1f} | {rss:.0f} |")
    resident = _resident_up()
    try:
        for name, command in RESIDENT.items():
            measured(command, resident)
            runs = [measured(command, resident) for _ in range(repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            print(f"| `{name}` | {wall:.2f} | {cpu:.2f} | {cpu / peer_cpu:.1f} | {rss:.0f} |")
        own = _resident_status(resident)["max_rss_mb"]
        print(f"(the resident process itself: {own:.0f} MB, shared with each child it forks)")
    finally:
        subprocess.run([*PODIUM, "resident", "stop"], env=_environment(resident), check=False)


if __name__ == "__main__":
    main()
