"""The shapes of personal data and secrets in text: regular expressions and their checks.

Checksums where the format has one (Luhn for cards, mod 97 for IBANs), and for each pattern
the check a match must pass (not a date, not a version, a value that looks generated). Every
pattern is linear-time: bounded quantifiers, no nested unbounded repetition
(tests/test_redaction.py runs them on 100 KB of adversarial text). podium.redaction finds
and redacts with them.
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
PHONE = re.compile(  # never starting at a date: "2024-05-21 415 555 0132" finds the phone
    r"(?<![\w.+/-])(?!(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})\b)"
    r"(?:\+|00)?(?:\(\d{1,5}\)[ .-]?)?\d[\d ().-]{5,18}\d"
    r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w/-]|\.\d)"
)
# Published key formats of the major providers, private key blocks and JWTs.
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
)
# Every format above starts with one of these: text without any is not scanned for them.
_FORMAT_HINT = re.compile(
    r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|AIza|_live_|glpat-|hf_|npm_|eyJ|-----BEGIN"
)
# Long random-looking strings after "name = " or "name: " (the name is checked afterwards).
SECRET_VALUE = re.compile(
    r"(?<=[=:] )[\"']?(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{24,}"
    r"(?=[\"']?(?:\s|$))(?<=\S)"
)
# What names a secret: password, db_password, X-Api-Key, accessToken, "client_secret". Starts
# at a word boundary or a camelCase hump; prefix segments are bounded (linear time).
_NAME = (
    r"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))"
    r"(?i:(?:[a-z0-9]{1,24}[_.-]){0,4}"
    r"(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|apikey|"
    r"(?:access|secret|private|signing|client|master|encryption|account|service|app|auth|"
    r"license)[_-]?key|credentials?|session[_-]?id))"
    r"(?![A-Za-z0-9])"
)
# name = value, name: value, "name": "value", name='value' (the value alone is redacted). An
# unquoted value stops where a URL's next parameter or a list's next item begins; one that
# runs into a call or an index (password = get_password()) is code, not a secret.
ASSIGNED = re.compile(
    _NAME + r"[\"']?(?P<sep>[ \t]{0,3}[:=][ \t]{0,3})"
    r"(?:\"(?P<value_dq>[^\"\r\n]{1,512})\"|'(?P<value_sq>[^'\r\n]{1,512})'"
    r"|(?P<value>[^\s\"'&,;<>()\[\]{}]{1,512}+)(?![(\[]))"
)
# An HTTP Authorization header (any scheme), and bearer tokens wherever they are quoted.
AUTHORIZATION = re.compile(
    r"(?<![A-Za-z0-9-])(?i:(?:proxy-)?authorization)[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?"
    r"(?:(?P<scheme>(?i:bearer|basic|token|bot|apikey|key|sso-key|digest|negotiate|ntlm|hmac))"
    r"[ \t]{1,3})?(?P<value>[A-Za-z0-9._~+/=:-]{4,2048}+)"
)
BEARER = re.compile(
    r"(?<![A-Za-z0-9])(?i:bearer)[ \t]{1,3}(?P<value>[A-Za-z0-9._~+/-]{12,2048}+=*)"
)
# URL query parameters that carry credentials under short names (?key=, &sig=, &auth=);
# longer names (access_token, api_key) are ASSIGNED's.
QUERY = re.compile(
    r"(?<=[?&;])(?i:(?:[a-z0-9]{1,24}[_.-]){0,3}(?:key|sig|signature|auth))"
    r"=(?P<value>[^&#\s\"'<>]{1,2048}+)"
)
# The password of a URL's user info: scheme://user:PASSWORD@host.
USERINFO = re.compile(r"(?<=://)[^\s/:@]{1,128}:(?P<value>[^\s/@]{1,256})(?=@)")
# Values that stand for a secret without being one: templates, references, earlier redaction.
_PLACEHOLDER = re.compile(
    r"(?i:null|none|nil|true|false|undefined|empty|redacted|changeme)"
    r"|\*+|x{3,}|X{3,}|\.{3}|<[^<>]*>|\$\{?[A-Za-z_]\w*\}?|\{\{[^{}]*\}\}|%\(?\w*\)?s|\[[A-Z_]{2,24}\]"
)
_SYMBOL = re.compile(r"[@#$%^&*+=/\\_~|!]")
_ENDS_LINE = re.compile(r"[ \t]*(?:$|\r?\n|[,;}\]])")
_SECRET_CONTEXT = re.compile(
    r"(?:key|token|secret|password|passwd|pwd|credential|auth)\w*\W{0,3}[=:] \S*$", re.IGNORECASE
)
_NOT_PHONE_BEFORE = re.compile(
    r"(?:order|invoice|ticket|ref(?:erence)?|tracking|sku|id|no\.?|number|#|version|v|isbn(?:-1[03])?)"
    r"\W{0,3}$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
# Two numbers joined by one hyphen: a range ("500-1000 EUR", "1999-2001") or a local phone
# number ("555-0132"); the words around it decide.
_TWO_NUMBERS = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_RANGE_BEFORE = re.compile(r"(?:between|range|ages?|aged|[$€£¥])\W{0,2}$", re.IGNORECASE)
_RANGE_AFTER = re.compile(
    r"^\s?(?:(?-i:[A-Z]{3})\b|[%€$£¥]|(?:euros?|dollars?|pounds?|people|guests|persons|years?|days?|"
    r"nights?|km|kg|miles|meters|words|pages|items|units)\b)",
    re.IGNORECASE,
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
        address = ipaddress.IPv6Address(match.group())
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback:  # "::" and "::1" name no one (as 0, 127)
        return False
    return match.group().count(":") >= 3 or "::" in match.group()


def _phone(match: re.Match[str]) -> bool:
    text = match.group()
    digits = re.sub(r"\D", "", text.split("x")[0].split("ext")[0])
    if not 7 <= len(digits) <= 15 or _DATE.match(text):
        return False
    if _range(match):
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


def _range(match: re.Match[str]) -> bool:
    """Whether two hyphenated numbers are a range: rising years, or rising with a unit."""
    pair = _TWO_NUMBERS.match(match.group())
    if pair is None or pair.group(2).startswith("0"):  # "555-0132" is a phone number's shape
        return False
    low, high = int(pair.group(1)), int(pair.group(2))
    if high <= low:
        return False
    years = all(len(g) == 4 and 1800 <= int(g) <= 2199 for g in pair.groups())
    after = match.string[match.end() : match.end() + 16]
    return years or bool(_RANGE_BEFORE.search(_before(match)) or _RANGE_AFTER.match(after))


def _secret(match: re.Match[str]) -> bool:
    text = match.group()
    if text[:1].isalnum() and not re.match(
        r"sk-|AKIA|ASIA|gh|github|xox|AIza|[srp]k_|glpat|hf_|npm_|eyJ|-----", text
    ):
        before = match.string[max(0, match.start() - 40) : match.start()]
        return bool(_SECRET_CONTEXT.search(before)) and _entropy(text) > 3.5
    return True


def _value(match: re.Match[str]) -> str:
    """The part of a match that is the secret: its ``value`` group when it has one."""
    start, end = _span(match)
    return match.string[start:end]


def _span(match: re.Match[str]) -> tuple[int, int]:
    for name in match.re.groupindex:
        if name.startswith("value") and match.start(name) != -1:
            return match.span(name)
    return match.span()


def _keylike(value: str) -> bool:
    """Whether a value looks generated (letters and digits, or symbols), not like a word."""
    has_digit = any(char.isdigit() for char in value)
    has_letter = any(char.isalpha() for char in value)
    return (has_digit and has_letter) or bool(_SYMBOL.search(value))


def _assigned(match: re.Match[str]) -> bool:
    value = _value(match)
    if _PLACEHOLDER.fullmatch(value):
        return False
    sep = match.group("sep")
    if match.group("value") is None or "=" in sep or not sep.endswith((" ", "\t")):
        return True  # quoted, or an assignment: never prose
    # "Password: at least 12 characters" is a label in prose; "password: hunter2" and a
    # value alone at the end of its line ("password: swordfish" in YAML) are secrets.
    return _keylike(value) or bool(_ENDS_LINE.match(match.string, match.end()))


def _authorization(match: re.Match[str]) -> bool:
    value = _value(match)
    if _PLACEHOLDER.fullmatch(value):
        return False
    return match.group("scheme") is not None or _keylike(value) or len(value) >= 16


def _bearer(match: re.Match[str]) -> bool:
    # "Bearer tokens are..." is prose; a token has digits (a random one of 12+ characters
    # almost surely does).
    return any(char.isdigit() for char in _value(match))


def _credential(match: re.Match[str]) -> bool:
    return not _PLACEHOLDER.fullmatch(_value(match))


Check = Callable[[re.Match[str]], bool] | None
# kind -> its (pattern, check of a match) pairs, tried in order. Order matters: secrets first
# (a key may hold digit runs that look like cards), cards and IBANs before phones, addresses
# before phones. A pattern with a ``value*`` group redacts that group only (the name stays).
PATTERNS: dict[str, tuple[tuple[re.Pattern[str], Check], ...]] = {
    "secret": (
        (SECRET, None),
        (SECRET_VALUE, _secret),
        (AUTHORIZATION, _authorization),
        (BEARER, _bearer),
        (ASSIGNED, _assigned),
        (QUERY, _credential),
        (USERINFO, _credential),
    ),
    "email": ((EMAIL, None),),
    "iban": ((IBAN, _iban),),
    "card": ((CARD, _card),),
    "ssn": ((SSN, None),),
    "ip": ((IPV4, _ipv4),),
    "ipv6": ((IPV6, _ipv6),),
    "phone": ((PHONE, _phone),),
}
PERSONAL = ("email", "iban", "card", "ssn", "ip", "ipv6", "phone")
SECRETS = ("secret",)
# The patterns that need a secret's name, and the words such names are made of: text with
# none of them is not scanned for them (most text, cheaply).
_NEEDS_NAME = (ASSIGNED, QUERY, AUTHORIZATION, BEARER)
_QUOTED_VALUE = re.compile(r"[=:] [\"']")
_NAMED_HINT = re.compile(r"(?i:pass|pwd|secret|token|key|credential|session|auth|bearer|sig)")

# Every pattern above needs one of these; text without any is left as it is, unscanned
# (registered secret values are looked for all the same).
_MAYBE = re.compile(r"[@\d:=]|sk-|BEGIN|AKIA|ASIA|gh[pousr]_|xox|AIza|eyJ")
