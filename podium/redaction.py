"""Finds personal data and secrets in text, and redacts them.

Plain regular expressions with checksums where the format has one (Luhn for cards, mod 97
for IBANs), importable without guardrails-ai: the guard validators use them, and so does the
tracer, so that no sink ever receives them in clear.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable

# Parts bounded by the RFC lengths: unbounded ones backtrack quadratically on long runs.
EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[A-Za-z]{2,24}\b")
CARD = re.compile(r"(?<![\w+-])(?:\d[ -]?){11,18}\d(?![\w-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}[ ]?(?:[A-Z0-9]{4}[ ]?){2,7}[A-Z0-9]{1,4}\b")
SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# A run of digits with the separators phone numbers use; checked afterwards (digit count, not
# a date, not introduced as an order or reference number).
PHONE = re.compile(
    r"(?<![\w.+/-])(?:\+|00)?(?:\(\d{1,5}\)[ .-]?)?\d[\d ().-]{5,18}\d"
    r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w/-]|\.\d)"
)
# Published key formats of the major providers, private key blocks, bearer tokens, and long
# random-looking strings next to a word that names a secret.
SECRET = re.compile(
    r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}\b"
    r"|\b(?:sk|rk|pk)_live_[A-Za-z0-9]{20,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}|\bhf_[A-Za-z]{30,}\b|\bnpm_[A-Za-z0-9]{36}\b"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<=[=:] )[\"']?(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{24,}"
    r"(?=[\"']?(?:\s|$))(?<=\S)"
)
_SECRET_CONTEXT = re.compile(
    r"(?:key|token|secret|password|passwd|pwd|credential|auth)\w*\W{0,3}[=:] \S*$", re.IGNORECASE
)
_NOT_PHONE_BEFORE = re.compile(
    r"(?:order|invoice|ticket|ref(?:erence)?|tracking|sku|id|no\.?|number|#|version|v)\W{0,3}$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def luhn_ok(digits: str) -> bool:
    """Whether a card number passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """Whether an IBAN passes its ISO 13616 mod-97 checksum."""
    compact = iban.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _before(match: re.Match[str]) -> str:
    """The few characters before a match, where a word like "order" or "version" would be."""
    return match.string[max(0, match.start() - 24) : match.start()]


def _card(match: re.Match[str]) -> bool:
    groups = [len(group) for group in re.split(r"[ -]", match.group())]
    # Printed card numbers group by four (Amex and Diners: 4-6-5 and 4-6-4), or not at all.
    shaped = len(groups) == 1 or groups[:2] == [4, 6] or all(g == 4 for g in groups[:-1])
    return shaped and luhn_ok(re.sub(r"\D", "", match.group()))


def _iban(match: re.Match[str]) -> bool:
    return iban_ok(match.group())


def _ipv4(match: re.Match[str]) -> bool:
    if re.search(r"(?:version|release|v)\W{0,2}$", _before(match), re.IGNORECASE):
        return False
    parts = [int(part) for part in match.group().split(".")]
    # Loopback and "any" addresses name no one.
    return all(part <= 255 for part in parts) and parts[0] not in (0, 127)


def _ipv6(match: re.Match[str]) -> bool:
    try:
        ipaddress.IPv6Address(match.group())
    except ValueError:
        return False
    return match.group().count(":") >= 3 or "::" in match.group()


def _phone(match: re.Match[str]) -> bool:
    text = match.group()
    digits = re.sub(r"\D", "", text.split("x")[0].split("ext")[0])
    if not 7 <= len(digits) <= 15 or _DATE.match(text):
        return False
    if not text.startswith(("+", "00")):
        if _NOT_PHONE_BEFORE.search(_before(match)):
            return False
        # A bare run of digits counts from 9 to 11 digits, and not starting with 1: epoch
        # seconds and most generated ids do.
        if not re.search(r"[ ().-]", text) and not re.fullmatch(r"[02-9]\d{8,10}", text):
            return False
    # A decimal number is not a phone number: dots alone must group at least three runs.
    return bool(re.search(r"[ ()-]", text)) or text.count(".") != 1


def _secret(match: re.Match[str]) -> bool:
    text = match.group()
    if (
        match.re is SECRET
        and text[:1].isalnum()
        and not re.match(r"sk-|AKIA|ASIA|gh|github|xox|AIza|[srp]k_|glpat|hf_|npm_|eyJ|-----", text)
    ):
        before = match.string[max(0, match.start() - 40) : match.start()]
        return bool(_SECRET_CONTEXT.search(before)) and _entropy(text) > 3.5
    return True


# kind -> (pattern, check of a match). Order matters: secrets first (a key may hold digit runs
# that look like cards), cards and IBANs before phones, addresses before phones.
PATTERNS: dict[str, tuple[re.Pattern[str], Callable[[re.Match[str]], bool] | None]] = {
    "secret": (SECRET, _secret),
    "email": (EMAIL, None),
    "iban": (IBAN, _iban),
    "card": (CARD, _card),
    "ssn": (SSN, None),
    "ip": (IPV4, _ipv4),
    "ipv6": (IPV6, _ipv6),
    "phone": (PHONE, _phone),
}
PERSONAL = ("email", "iban", "card", "ssn", "ip", "ipv6", "phone")

# Every pattern above needs one of these; text without any is left as it is, unscanned.
_MAYBE = re.compile(r"[@\d:]|sk-|BEGIN|AKIA|ASIA|gh[pousr]_|xox|AIza|eyJ")


def find(text: str, kinds: tuple[str, ...] = tuple(PATTERNS)) -> list[tuple[str, int, int]]:
    """Each (kind, start, end) of ``kinds`` found in ``text``, earlier kinds winning overlaps."""
    spans: list[tuple[str, int, int]] = []
    if not _MAYBE.search(text):
        return spans
    taken = bytearray(len(text))  # characters already inside a found span
    for kind in kinds:
        pattern, check = PATTERNS[kind]
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            if check is None or check(match):
                spans.append((kind, start, end))
                taken[start:end] = b"\x01" * (end - start)
    return sorted(spans, key=lambda span: span[1])


def redact(text: str, kinds: tuple[str, ...] = tuple(PATTERNS)) -> tuple[str, list[str]]:
    """``text`` with each of ``kinds`` replaced by [KIND]; the kinds found, once per match."""
    spans = find(text, kinds)
    for kind, start, end in reversed(spans):
        text = f"{text[:start]}[{kind.upper()}]{text[end:]}"
    return text, [kind for kind, _, _ in spans]
