"""Patterns for personal data and secrets, and redaction with them.

Plain regular expressions, importable without guardrails-ai: the validators use them, and so
does the tracer, so that no sink ever receives them in clear.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
# Not part of a longer run of digit groups (a card number, an account number).
PHONE = re.compile(
    r"(?<![\w-])(?<!\d )\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![\w-])(?! ?\d)"
)
# Published key formats of the major providers, private key blocks, and bearer tokens.
SECRET = re.compile(
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}\b"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)


def luhn_ok(digits: str) -> bool:
    """Whether a card number passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


# Every pattern above needs one of these; text without any is left as it is, unscanned.
_MAYBE = re.compile(r"[@\d]|sk-|BEGIN|AKIA|ASIA|gh[pousr]_|xox|AIza|eyJ")
PATTERNS = {"secret": SECRET, "email": EMAIL, "card": CARD, "ssn": SSN, "phone": PHONE}
PERSONAL = ("email", "card", "ssn", "phone")


def redact(text: str, kinds: tuple[str, ...] = tuple(PATTERNS)) -> tuple[str, list[str]]:
    """``text`` with each of ``kinds`` replaced by [KIND]; the kinds found, once per match."""
    found: list[str] = []
    if not _MAYBE.search(text):
        return text, found

    def replacer(kind: str) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            if kind == "card" and not luhn_ok(re.sub(r"\D", "", match.group())):
                return match.group()
            found.append(kind)
            return f"[{kind.upper()}]"

        return replace

    for kind in kinds:  # secrets first: a key may contain digit runs that look like cards
        text = PATTERNS[kind].sub(replacer(kind), text)
    return text, found
