"""Cold start of the first commands a person types, in a fresh PODIUM_HOME each time.

Each command runs in a process of its own; wall time, CPU time (user + system) and the
largest resident set are taken from the child's rusage. Each command runs once untimed
first, so that its modules' bytecode exists (as after an install); the home is fresh for
every run. The peer, measured in the same
run, is the interpreter starting and importing the CLI's own framework (typer and rich):
the floor any Python command line pays. Memory runs use the default embedder (ONNX when
``scripts/onnx_minilm.py`` has exported its files, else torch's MiniLM).

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


def measured(command: list[str]) -> tuple[float, float, float]:
    """Wall s, CPU s and max RSS MB of one run of ``command`` in a fresh home."""
    import time

    with tempfile.TemporaryDirectory() as home:
        # Bytecode as an installed package has it: pip writes it for site-packages, and
        # Python for the sources it imports, unless PYTHONDONTWRITEBYTECODE says not to
        # (then every edited module is compiled again on every start).
        env = {**os.environ, "PODIUM_HOME": home}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, after.ru_maxrss / 1024  # the largest child so far: commands go up


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


if __name__ == "__main__":
    main()
