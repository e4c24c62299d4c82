"""How an injection detector's verdicts become a validator's result: withheld, named, bounded.

Both injection detectors (the rules of podium.guardrails.injection and the learned model of
podium.guardrails.classifier) judge a text as the model reads it, value by value
(podium.guardrails.reading), and fail it with a fix: the text with the flagged stretches
withheld and named (podium.guardrails.spans), so that the clean rest can still reach the
planner where the check's action is ``fix``. Evidence names each stretch by its value's path.

A text over ``MAX_SCREEN_CHARS`` is screened up to the bound; the rest is not screened, and
the fix leaves it out with a note saying so (what was not screened never reaches the planner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podium.guardrails.spans import Judge, Verdict, Withheld, note, withhold

MAX_SCREEN_CHARS = 1_000_000


@dataclass(frozen=True)
class Screened:
    """What a detector found in a text: the text to pass on, what was withheld, the evidence."""

    text: str
    withheld: list[Withheld] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    unscreened: int = 0  # characters past the bound, left out

    @property
    def clean(self) -> bool:
        """Whether nothing was withheld and everything was screened."""
        return not self.withheld and not self.unscreened

    def message(self, what: str) -> str:
        """The one-line reason (it may reach the planner: no excerpts).

        ``what`` names the detector, for a text that was only too long to screen whole.
        """
        parts = list(dict.fromkeys(w.reason for w in self.withheld))
        if self.unscreened:
            parts.append(f"{what}: {self.unscreened} characters past the screening bound")
        return "; ".join(parts)


def screen(
    text: str,
    judge: Judge,
    whole: Callable[[str], Verdict] | None = None,
    explain: Callable[[str], list[str]] | None = None,
    max_chars: int = MAX_SCREEN_CHARS,
    together: Callable[[str], Verdict] | None = None,
) -> Screened:
    """``text`` judged value by value and segment by segment, flagged stretches withheld.

    ``explain`` gives evidence lines for a withheld stretch (e.g. the rules it matched);
    ``together`` judges the values read together (default: ``whole``).
    """
    screened = text[:max_chars]
    fixed, withheld = withhold(screened, judge, whole, together)
    evidence = []
    for stretch in withheld:
        details = explain(stretch.text) if explain is not None else []
        evidence.append(stretch.describe() + (f" ({'; '.join(details)})" if details else ""))
    unscreened = len(text) - len(screened)
    if unscreened > 0:
        what = f"characters {max_chars}-{len(text)} not screened (over the {max_chars} bound)"
        fixed = f"{fixed}\n{note(what)}"
        evidence.append(what)
    return Screened(fixed, withheld, evidence, max(unscreened, 0))
