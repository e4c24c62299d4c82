"""Validators of a tool call's arguments.

Paths inside a sandbox, URLs on an allow-list, read-only SQL, recipients in allowed
domains. Each reads the arguments from the check's metadata (``arguments``) and, when the
caller gives it, the tool's JSON schema (``schema``): SandboxPath checks the parameters the
schema marks as paths (``format: path``, as pydantic writes a ``Path``) besides those it
is told by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from podium.guardrails.addresses import domains_in, host_allowed, plain_recipients, url_problems
from podium.guardrails.base import (
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)
from podium.guardrails.sql import read_only_problem

__all__ = [
    "AllowedRecipients",
    "AllowedURLs",
    "ReadOnlySQL",
    "SandboxPath",
    "host_allowed",
    "read_only_problem",
    "strings",
]

PATH_FIELDS = re.compile(
    r"path|file|dir|folder|directory|filename|location|dest|destination|src|source|target",
    re.IGNORECASE,
)
SQL_FIELDS = re.compile(r"sql|query|statement", re.IGNORECASE)
RECIPIENT_FIELDS = re.compile(
    r"^(?:to|cc|bcc|recipients?|emails?|e_?mail_?address(?:es)?|addresses|reply_?to|send_?to)$",
    re.IGNORECASE,
)
PATH_FORMATS = frozenset({"path", "file-path", "directory-path"})
EMAIL_FORMATS = frozenset({"email", "idn-email"})


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


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a local ``$ref`` ("#/$defs/Name") followed, at most a few times."""
    for _ in range(8):
        if not isinstance(schema, dict):
            return {}
        reference = schema.get("$ref")
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return schema
        target: Any = root
        for part in reference[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
    return {}


def formatted(
    schema: Any, value: Any, formats: frozenset[str], name: str = "", root: Any = None
) -> Iterator[tuple[str, str]]:
    """Each (argument name, string) in ``value`` whose schema has one of ``formats``.

    The schema and the value are walked together: properties, additionalProperties, array
    items, and anyOf / oneOf / allOf alternatives.
    """
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if isinstance(value, str) and schema.get("format") in formats:
        yield name, value
    for key in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(key, []) or []:
            yield from formatted(alternative, value, formats, name, root)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from formatted(schema["items"], item, formats, f"{name}[{index}]", root)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from formatted(sub, item, formats, f"{name}.{key}" if name else key, root)


def _field_pattern(fields: str | Sequence[str]) -> re.Pattern[str]:
    """A pattern the last part of an argument's name is searched with."""
    if isinstance(fields, str):
        return re.compile(fields, re.IGNORECASE)
    return re.compile("|".join(rf"^{re.escape(f)}$" for f in fields) or r"(?!)")


def _last_part(name: str) -> str:
    return re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1]


def chosen(
    metadata: dict[str, Any],
    value: Any,
    fields: re.Pattern[str],
    formats: frozenset[str],
) -> dict[str, str]:
    """The strings to check: those the schema gives a format of, and those named."""
    arguments = _arguments(value, metadata)
    found = dict(formatted(metadata.get("schema") or {}, arguments, formats))
    for name, text in strings(arguments):
        if fields.search(_last_part(name)):
            found[name] = text
    return found


@register_validator(name="podium/sandbox_path", data_type="string")
class SandboxPath(Validator):
    """Fails a path argument that resolves outside ``root`` (symbolic links followed).

    It checks the parameters the tool's schema marks as paths (``format: path``: a
    ``Path``-typed parameter, or ``Annotated[str, Field(json_schema_extra={"format":
    "path"})]``), and those whose name ``fields`` gives: a pattern searched in each
    argument's name, or a list of exact names.
    """

    def __init__(
        self, root: str | Path, fields: str | Sequence[str] = PATH_FIELDS.pattern, **kwargs: Any
    ) -> None:
        names = fields if isinstance(fields, str) else list(fields)
        super().__init__(root=str(root), fields=names, **kwargs)
        self.root = Path(root).resolve()
        self.fields = _field_pattern(fields)

    def _outside(self, text: str) -> bool:
        if "\x00" in text:
            return True
        try:
            resolved = (self.root / Path(text).expanduser()).resolve()
        except (OSError, RuntimeError, ValueError):
            return True  # a path the system cannot resolve is no path to allow
        return not resolved.is_relative_to(self.root)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in chosen(metadata, value, self.fields, PATH_FORMATS).items():
            if self._outside(text):
                return FailResult(
                    error_message=(
                        f"path {text!r} in '{name}' is outside the sandbox {self.root}; "
                        "use a path inside it"
                    )
                )
        return PassResult()


@register_validator(name="podium/allowed_urls", data_type="string")
class AllowedURLs(Validator):
    """Fails any URL in the arguments whose real host is not on the allow-list.

    Hosts may be "api.example.com", "*.example.com" (its subdomains) or "host:8443" (that
    port only). URLs with user information ("user@host") are refused unless
    ``allow_userinfo``; so are backslashes and control characters in a URL.
    """

    def __init__(
        self,
        hosts: list[str],
        schemes: tuple[str, ...] = ("https", "http"),
        allow_userinfo: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(hosts=hosts, schemes=schemes, allow_userinfo=allow_userinfo, **kwargs)
        self.hosts, self.schemes = tuple(hosts), tuple(s.lower() for s in schemes)
        self.allow_userinfo = allow_userinfo

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            problem = url_problems(text, self.hosts, self.schemes, self.allow_userinfo)
            if problem:
                return FailResult(error_message=f"{problem} (in '{name}')")
        return PassResult()


@register_validator(name="podium/read_only_sql", data_type="string")
class ReadOnlySQL(Validator):
    """Fails SQL arguments that are not a single read-only query.

    ``dialect`` names the database's SQL dialect as sqlglot does ("postgres", "mysql",
    "sqlite", ...); by default a query must be read-only as each common dialect reads it.
    """

    def __init__(
        self, fields: str = SQL_FIELDS.pattern, dialect: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(fields=fields, dialect=dialect, **kwargs)
        self.fields = re.compile(fields, re.IGNORECASE)
        self.dialect = dialect

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in strings(_arguments(value, metadata)):
            if not self.fields.search(_last_part(name)):
                continue
            problem = read_only_problem(text, self.dialect)
            if problem:
                return FailResult(
                    error_message=f"SQL in '{name}' is refused: {problem}; only reading is "
                    "allowed (one SELECT)"
                )
        return PassResult()


@register_validator(name="podium/allowed_recipients", data_type="string")
class AllowedRecipients(Validator):
    """Fails any e-mail address in the arguments outside the allowed domains.

    Every "@" in every argument counts (the domain after it must be allowed); recipient
    fields (named by ``fields``, or ``format: email`` in the schema) must also hold plain
    addresses only: "name@domain" or "Name <name@domain>", separated by commas.
    """

    def __init__(
        self,
        domains: list[str],
        fields: str | Sequence[str] = RECIPIENT_FIELDS.pattern,
        **kwargs: Any,
    ) -> None:
        names = fields if isinstance(fields, str) else list(fields)
        super().__init__(domains=domains, fields=names, **kwargs)
        self.domains = tuple(domains)
        self.fields = _field_pattern(fields)

    def _refused(self, domain: str, name: str) -> FailResult:
        return FailResult(
            error_message=f"recipient domain {domain!r} in '{name}' is not allowed "
            f"({', '.join(self.domains)})"
        )

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        for name, text in chosen(metadata, value, self.fields, EMAIL_FORMATS).items():
            addresses = plain_recipients(text)
            if isinstance(addresses, str):
                return FailResult(error_message=f"{addresses} (in '{name}')")
        for name, text in strings(_arguments(value, metadata)):
            for domain, problem in domains_in(text):
                if problem:
                    return FailResult(
                        error_message=f"address at {domain or '?'!r} in '{name}' {problem}"
                    )
                if not host_allowed(domain, self.domains):
                    return self._refused(domain, name)
        return PassResult()
