"""What belongs to a flagged stretch of text: the element around it, the block it opens.

A detector flags a line; the order it gives may go on past it. What is withheld with it:
the innermost markup element holding it (``<INFORMATION>...</INFORMATION>``), a fenced code
block it opens (an order to "append the following code" and the code), and, for a line
ending in ':', the paragraph it introduces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ELEMENT_REACH = 2_000  # how far the element holding a flagged stretch is looked for
INTRODUCED_LINES = 20  # the most lines of a paragraph a line ending in ':' takes with it
FENCE_BUDGET = 4  # times a value's segments the searches for fences' closes may walk
FENCE_FLOOR = 10_000  # segments those searches may always walk
_OPEN_TAG = re.compile(r"<([A-Za-z][\w-]{0,30})(?:\s[^<>]{0,200})?>")
# A Markdown fence: up to three spaces, three or more backticks or tildes, an info string.
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})([^\n]*)$", re.MULTILINE)
_FENCE_LINE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")  # (matched at a segment's start)


def element(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the innermost markup element holding ``start:end``, or the span itself.

    Looked for within ``ELEMENT_REACH`` characters each way: searched from every tag of the
    whole text, many flagged lines in tags took cubic time.
    """
    best = (start, end)
    for match in _OPEN_TAG.finditer(text, max(0, start - ELEMENT_REACH), start + 1):
        close = text.find(f"</{match.group(1)}>", max(end, match.end()), end + ELEMENT_REACH)
        if match.start() <= start and close >= end - 1 and close != -1:
            best = (match.start(), close + len(match.group(1)) + 3)
    return best


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each fenced code block of ``text``, in order; unclosed: to the end.

    A block opens at a fence line and closes at the next fence line of the same character,
    at least as long, with nothing after it (CommonMark's rule). One pass over the text.
    """
    blocks: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for match in _FENCE.finditer(text):
        fence, info = match.group(1), match.group(2)
        if opened is None:
            if fence[0] == "`" and "`" in info:
                continue  # (an inline code span, not a fence)
            opened = (match.start(), fence)
        elif _closes(fence, info, opened[1]):
            blocks.append((opened[0], match.end()))
            opened = None
    if opened is not None:
        blocks.append((opened[0], len(text)))
    return blocks


def with_blocks(text: str, start: int, end: int, blocks: dict[int, int]) -> int:
    """The end of ``start:end`` grown to hold whole the fenced block it opens, if any.

    ``blocks`` maps where each fenced block of ``text`` starts to where it ends
    (``fenced_blocks``). A stretch holding a fence's opening line and not its close ("Append
    this code to your codebase:" and the fence under it) takes the block to its close. A
    stretch whose fence lines pair up (a block it introduced, ``Introduced.last``), or whose
    last fence line closes a block it started inside, takes nothing more.
    """
    fences = [m.start() for m in _FENCE.finditer(text, start, end)]
    if len(fences) % 2 == 0 or fences[-1] not in blocks:
        return end
    return max(end, blocks[fences[-1]])


class Introduced:
    """What the lines of one value introduce: built once per value, from its segments.

    A segment introduces what follows it when it ends in ':', or when it sits right above a
    fence that opens a block ("run this" and the code under it: a block set under a
    sentence is the block that sentence speaks of). A fence's close above it is no block
    it introduces: the last line of a code block says nothing of what comes after.
    """

    def __init__(self, text: str, spans: Sequence[tuple[int, int]]) -> None:
        self.text, self.spans = text, spans
        self._blocks: dict[int, int] | None = None
        # Segments the searches for a fence's close may walk, all of them together: fences
        # that never close (falling lengths) would each be searched to the value's end.
        self.budget = FENCE_BUDGET * len(spans) + FENCE_FLOOR

    def blocks(self) -> dict[int, int]:
        """Where each fenced block of the value starts, to where it ends (``fenced_blocks``)."""
        if self._blocks is None:
            fenced = "```" in self.text or "~~~" in self.text
            self._blocks = dict(fenced_blocks(self.text)) if fenced else {}
        return self._blocks

    def introduces(self, index: int) -> bool:
        """Whether the segment at ``index`` introduces what follows it."""
        text, spans = self.text, self.spans
        if index + 1 >= len(spans):
            return False
        if text[spans[index][0] : spans[index][1]].rstrip().endswith(":"):
            return True
        if not self._next_line(index):
            return False  # (a blank line between, or the same line cut)
        return _fence(text, spans[index + 1]) is not None and spans[index + 1][0] in self.blocks()

    def last(self, index: int) -> int:
        """The last segment of what the segment at ``index`` introduces.

        When the next segment is a fence line, the block it fences, to the next fence line
        of its kind that closes it (as long, nothing after it), whatever the fences before
        it ("the following code:" opens a block as the model reads it, even where it was
        put inside someone else's). Otherwise the next segment and, when it is the next
        line, the rest of its paragraph: "New instructions:" and the steps under it.
        """
        text, spans = self.text, self.spans
        last = index + 1
        fence = _fence(text, spans[last])
        if fence is None:
            return paragraph_end(text, spans, last) if self._next_line(index) else last
        mark = fence.group(1)
        while last + 1 < len(spans):
            last += 1
            self.budget -= 1
            if self.budget < 0:
                return len(spans) - 1  # (searched too long: the rest of the value goes)
            close = _fence(text, spans[last])
            if close is not None and _closes(close.group(1), _rest_of_line(text, close), mark):
                break
        return last  # (what follows the block is judged on its own)

    def _next_line(self, index: int) -> bool:
        """Whether the segment after the one at ``index`` is on the very next line."""
        spans = self.spans
        return self.text.count("\n", spans[index][1], spans[index + 1][0]) == 1


def _closes(fence: str, info: str, mark: str) -> bool:
    """Whether a fence line closes the block ``mark`` opened (CommonMark's rule).

    Of its kind, at least as long, with nothing (``info``) after it.
    """
    return fence[0] == mark[0] and len(fence) >= len(mark) and not info.strip()


def _rest_of_line(text: str, match: re.Match[str]) -> str:
    """What follows ``match`` on its line."""
    line_end = text.find("\n", match.end())
    return text[match.end() : line_end if line_end != -1 else len(text)]


def _fence(text: str, span: tuple[int, int]) -> re.Match[str] | None:
    """The fence a segment is, if it is a line that starts with one."""
    if span[0] and text[span[0] - 1] != "\n":
        return None  # (a long line cut at a sentence's end: not a line's start)
    return _FENCE_LINE.match(text, span[0], span[1])


def paragraph_end(text: str, spans: Sequence[tuple[int, int]], index: int) -> int:
    """The last segment of the paragraph the segment at ``index`` is in, from it on.

    Up to a blank line, at most ``INTRODUCED_LINES`` lines from ``index`` on.
    """
    last, lines = index, 1
    while last + 1 < len(spans) and lines < INTRODUCED_LINES:
        gap = text[spans[last][1] : spans[last + 1][0]]
        if gap.count("\n") > 1:  # a blank line: the paragraph ends
            break
        lines += "\n" in gap
        last += 1
    return last
