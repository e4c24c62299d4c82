"""Text as a terminal may show it: what a tool, a model or a caller wrote cannot drive it.

An escape sequence in a request, an answer or a memory (ESC [ 1 A moves the cursor up, ESC
[ 2 K erases the line) would let that text rewrite what a person reads in ``threads show``
or ``trace list``: print a forged line over a real one. Control characters and the Unicode
marks that reorder text on screen are shown as their codes instead.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls; bidirectional overrides and isolates.
_UNSHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters and reordering marks written as their codes."""
    return _UNSHOWN.sub(
        lambda found: (
            f"\\x{ord(found.group()):02x}"
            if ord(found.group()) < 256
            else f"\\u{ord(found.group()):04x}"
        ),
        text,
    )


def one_line(text: str) -> str:
    """``text`` on one line (runs of whitespace as one space), printable."""
    return printable(" ".join(text.split()))
