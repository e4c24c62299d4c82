"""The ``podium`` command's entry point: a run goes to the resident process when one is up.

``podium run``, ``resume`` and ``chat`` are handed to the resident process (see
podium.cli.resident) when it is on and running; the first of them starts it and runs here.
Every other command, and every command when it is off, runs in this process. Only the
standard library is imported before that choice.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Hand the command to the resident process if it takes it; else run it here."""
    arguments = sys.argv[1:]
    from podium.cli import resident

    if resident.wanted(arguments, os.environ):
        code = resident.hand_over(arguments)
        if code is not None:
            raise SystemExit(code)
    from podium.cli.main import main as here

    here()
