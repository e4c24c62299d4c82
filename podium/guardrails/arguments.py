"""Validators of a tool call's arguments.

Paths inside a sandbox, URLs on an allow-list, read-only SQL. Each reads the arguments from
the check's metadata (``arguments``) and looks at every string in them, nested ones
included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from podium.guardrails.base import (
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)

PATH_FIELDS = re.compile(r"path|file|dir|folder|directory|filename", re.IGNORECASE)
SQL_FIELDS = re.compile(r"sql|query|statement", re.IGNORECASE)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE)


def strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """Each (argument name, string) in ``value``, nested lists and objects included."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, f"{name}[{index}]")


def _arguments(value: Any, metadata: dict[str, Any]) -> Any:
    return metadata.get("arguments", value)


@register_validator(name="podium/sandbox_path", data_type="string")
class SandboxPath(Validator):
    """Fails a path argument that resolves outside ``root`` (symbolic links followed)."""

    def __init__(self, root: str | Path, fields: str = PATH_FIELDS.pattern, **kwargs: Any) -> None:
        super().__init__(root=str(root), fields=fields, **kwargs)
        self.root = Path(root).resolve()
        self.fields = re.compile(fields, re.IGNORECASE)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            if not self.fields.search(name.rsplit(".", 1)[-1]):
                continue
            resolved = (self.root / Path(text).expanduser()).resolve()
            if not resolved.is_relative_to(self.root):
                return FailResult(
                    error_message=(
                        f"path {text!r} in '{name}' is outside the sandbox {self.root}; "
                        "use a path inside it"
                    )
                )
        return PassResult()


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``allowed``; "*.example.com" allows its subdomains."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower()
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


@register_validator(name="podium/allowed_urls", data_type="string")
class AllowedURLs(Validator):
    """Fails any URL in the arguments whose host is not on the allow-list (http/https only)."""

    def __init__(
        self, hosts: list[str], schemes: tuple[str, ...] = ("https", "http"), **kwargs: Any
    ) -> None:
        super().__init__(hosts=hosts, schemes=schemes, **kwargs)
        self.hosts, self.schemes = tuple(hosts), tuple(schemes)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            for url in _URL.findall(text):
                parts = urlsplit(url)
                if parts.scheme.lower() not in self.schemes:
                    return FailResult(
                        error_message=f"URL scheme {parts.scheme!r} in '{name}' is not allowed; "
                        f"allowed: {', '.join(self.schemes)}"
                    )
                if not host_allowed(parts.hostname or "", self.hosts):
                    return FailResult(
                        error_message=(
                            f"host {parts.hostname!r} in '{name}' is not on the allow-list "
                            f"({', '.join(self.hosts)})"
                        )
                    )
        return PassResult()


_SQL_NOISE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_SQL_READ = re.compile(r"^\s*(?:select|with|explain|values)\b", re.IGNORECASE)
_SQL_WRITE = re.compile(
    r"\b(?:insert|update|delete|replace|upsert|merge|drop|alter|create|truncate|attach|detach|"
    r"vacuum|reindex|grant|revoke|copy|call|exec|execute|lock|load_extension)\b"
    r"|\bpragma\b[^;]*=|\binto\b",
    re.IGNORECASE,
)


def read_only_problem(sql: str) -> str | None:
    """Why ``sql`` is not one read-only statement, or None when it is."""
    code = _SQL_NOISE.sub(" ", sql)  # string literals and comments hold no statements
    statements = [part for part in code.split(";") if part.strip()]
    if len(statements) > 1:
        return "it holds more than one statement"
    if not statements or not _SQL_READ.match(statements[0]):
        return "it is not a SELECT"
    write = _SQL_WRITE.search(statements[0])
    if write:
        return f"it writes ({write.group().split()[0].upper()})"
    return None


@register_validator(name="podium/read_only_sql", data_type="string")
class ReadOnlySQL(Validator):
    """Fails SQL arguments that are not a single read-only statement."""

    def __init__(self, fields: str = SQL_FIELDS.pattern, **kwargs: Any) -> None:
        super().__init__(fields=fields, **kwargs)
        self.fields = re.compile(fields, re.IGNORECASE)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            if not self.fields.search(name.rsplit(".", 1)[-1]):
                continue
            problem = read_only_problem(text)
            if problem:
                return FailResult(
                    error_message=f"SQL in '{name}' is refused: {problem}; only reading is "
                    "allowed (one SELECT)"
                )
        return PassResult()


_ADDRESS = re.compile(r"[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63})+)")


@register_validator(name="podium/allowed_recipients", data_type="string")
class AllowedRecipients(Validator):
    """Fails any e-mail address in the arguments outside the allowed domains."""

    def __init__(self, domains: list[str], **kwargs: Any) -> None:
        super().__init__(domains=domains, **kwargs)
        self.domains = tuple(domains)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            for domain in _ADDRESS.findall(text):
                if not host_allowed(domain, self.domains):
                    return FailResult(
                        error_message=f"recipient domain {domain!r} in '{name}' is not allowed "
                        f"({', '.join(self.domains)})"
                    )
        return PassResult()
