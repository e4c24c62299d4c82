"""Settings: which model, where podium keeps its files, and the limits of a run.

Values come from, in order of precedence: arguments, ``PODIUM_*`` environment variables (and
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``), then the TOML file at ``$PODIUM_HOME/config.toml``
or ``$PODIUM_CONFIG``.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, PositiveFloat, PositiveInt, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from podium.errors import ConfigError, HomeNotWritable

ROUTER_MODEL = "router"


class Price(BaseModel):
    """USD per million tokens for one model."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


@dataclass(frozen=True)
class Limits:
    """The budgets of one run; the first one exceeded ends it with a partial answer.

    None means no limit. A run that repeats itself is also ended: ``max_repeats`` rounds in
    a row that bring nothing new (only calls already made, or the same results again).
    """

    max_steps: int = 12
    max_seconds: float = 120.0
    max_tool_calls: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_repeats: int = 2

    def __post_init__(self) -> None:
        for name in (
            "max_steps",
            "max_seconds",
            "max_tool_calls",
            "max_tokens",
            "max_cost_usd",
            "max_repeats",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(
                    f"the run budget {name} must be positive, not {value}",
                    f"set {name} above 0, or leave it unset for no limit",
                )

    def exceeded(
        self, steps: int, seconds: float, tool_calls: int, tokens: int, cost_usd: float
    ) -> tuple[str, str] | None:
        """The first budget a run has used up, as (stop reason, explanation), or None."""
        checks = (
            ("step_limit", steps, self.max_steps, f"the step limit ({self.max_steps})"),
            ("time_limit", seconds, self.max_seconds, f"the time limit ({self.max_seconds:g}s)"),
            (
                "tool_call_limit",
                tool_calls,
                self.max_tool_calls,
                f"the tool-call budget ({self.max_tool_calls})",
            ),
            ("token_limit", tokens, self.max_tokens, f"the token budget ({self.max_tokens})"),
            ("cost_limit", cost_usd, self.max_cost_usd, f"the cost budget (${self.max_cost_usd})"),
        )
        for reason, used, limit, what in checks:
            if limit is not None and used >= limit:
                return reason, f"{what} was reached"
        return None


def _config_file() -> Path:
    explicit = os.environ.get("PODIUM_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("PODIUM_HOME", "~/.podium")
    return Path(home).expanduser() / "config.toml"


# PODIUM_* variables that are no setting but are read elsewhere (the CLI, the eval data).
OTHER_VARIABLES = frozenset(
    {
        "PODIUM_CONFIG",
        "PODIUM_DEBUG",
        "PODIUM_BFCL_DATA",
        "PODIUM_RESIDENT",
        "PODIUM_RESIDENT_DIR",
        "PODIUM_RESIDENT_IDLE",
    }
)


def unknown_variables(environment: Mapping[str, str]) -> list[str]:
    """A warning for each ``PODIUM_*`` variable podium does not read, with the one meant.

    The environment source ignores names it does not know, so a misspelt ``PODIUM_MODLE``
    would otherwise change nothing and say nothing.
    """
    from podium.located import suggest

    fields = Settings.model_fields.items()
    known = {f"PODIUM_{n.upper()}" for n, f in fields if f.validation_alias is None}
    known |= OTHER_VARIABLES
    warnings = []
    for name in sorted(environment):
        if name.startswith("PODIUM_") and name not in known:
            hint = suggest(name, known)
            if not hint.startswith("did you mean"):
                hint = "the settings are in the Configuration table of the README"
            warnings.append(f"{name} is not a podium setting and is ignored; {hint}")
    return warnings


class Settings(BaseSettings):
    """podium's configuration, validated; build it with ``Settings.load()``."""

    model_config = SettingsConfigDict(env_prefix="PODIUM_", extra="forbid", frozen=True)

    model: str | None = Field(
        default=None, description="Chat model name; 'router' or unset means the offline model."
    )
    home: Path = Field(default=Path("~/.podium"), description="Where threads, memory, logs live.")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    max_steps: PositiveInt = Field(default=12, description="Planner rounds before a run stops.")
    max_seconds: PositiveFloat = Field(default=120.0, description="Wall time for one run.")
    max_tool_calls: PositiveInt | None = Field(default=None, description="Tool calls per run.")
    max_tokens: PositiveInt | None = Field(default=None, description="Model tokens per run.")
    max_cost_usd: PositiveFloat | None = Field(default=None, description="USD per run.")
    tool_timeout: PositiveFloat = Field(default=30.0, description="Default per-call timeout.")
    model_timeout: PositiveFloat = Field(default=60.0, description="Per model request.")
    model_retries: int = Field(default=2, ge=0, le=10, description="Retries of a model call.")
    model_retry_wait: PositiveFloat = Field(default=0.5, description="First backoff, seconds.")
    fallback_model: str | None = Field(
        default=None, description="A model of the same server to use when the main one fails."
    )
    context_window: PositiveInt | None = Field(
        default=None, description="Tokens; default: known per model, else 128k."
    )
    max_output_tokens: PositiveInt | None = Field(
        default=None, description="Tokens the model may write per reply (sent as max_tokens)."
    )
    structured_output: Literal["auto", "native", "tool"] = Field(
        default="auto",
        description="How typed output is asked for: 'native' (response_format with the JSON "
        "schema), 'tool' (a final-answer tool), 'auto' (native for OpenAI's own models).",
    )
    tool_choice: str = Field(
        default="auto",
        min_length=1,
        description="'auto', 'required', 'none' or a tool's name; 'required' and a name hold "
        "until the run's first tool round, then the model chooses.",
    )
    tokenizer: str | None = Field(
        default=None,
        description="tiktoken encoding; default: the model's when on disk, else the bundled "
        "cl100k, so counting never downloads.",
    )
    memory: bool = Field(default=True, description="Use long-term memory in the CLI.")
    remember_answers: bool = Field(
        default=False,
        description="Also remember runs no call succeeded in (their answer is the model's "
        "unverified text); by default memory keeps what tool results established.",
    )
    embedder: str = Field(default="minilm", description="'minilm' or 'openai:<model>'.")
    chroma_url: str | None = Field(
        default=None, description="A chroma server for memory (shared by several workers)."
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:password@host:port/database: all durable state in "
        "Postgres (several workers share it); unset: SQLite files under the home dir.",
    )
    checkpoints_keep: PositiveInt | None = Field(
        default=None,
        description="Checkpoints kept per thread when a run ends (older ones are pruned); "
        "unset: all are kept.",
    )
    thread_ttl_days: PositiveFloat | None = Field(
        default=None,
        description="Threads whose last run ended longer ago are deleted by "
        "`podium threads prune`.",
    )
    audit: bool = Field(default=True, description="Keep the audit log under the home dir.")
    audit_key: SecretStr | None = Field(
        default=None,
        description="Signs every audit record (HMAC-SHA256); keep it out of the home dir, "
        "so that whoever can edit the log cannot forge its chain.",
    )
    policy: Path | None = Field(
        default=None, description="A policy file (YAML or TOML): roles, principals, budgets."
    )
    sinks: list[str] = Field(
        default_factory=list, description="Trace sinks from plugins (podium.sinks), by name."
    )
    mcp_servers: list[str] = Field(
        default_factory=list,
        description="MCP servers whose tools the CLI adds: URLs (streamable HTTP) or commands "
        "(stdio).",
    )
    principal: str | None = Field(
        default=None, description="Who the CLI acts as: a principal of the policy file."
    )
    otlp_endpoint: str | None = Field(
        default=None, description="Export traces to this OTLP/HTTP endpoint (off when unset)."
    )
    durability: Literal["sync", "async", "exit"] = Field(
        default="sync",
        description="When checkpoints are written: before the next node starts (sync), "
        "while it runs (async), or only when the run ends (exit: fastest, no mid-run resume).",
    )
    prices: dict[str, Price] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read arguments, then the environment, then the TOML config file."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings, turning any validation problem into one clear ConfigError.

        A ``PODIUM_CONFIG`` that names no file is an error (the default file is optional);
        a key of the file that is no setting is named with its line and the key meant.
        """
        path = _config_file()
        if os.environ.get("PODIUM_CONFIG") and not path.is_file():
            raise ConfigError(
                f"PODIUM_CONFIG names {path}, which is not a file",
                "correct the path, or unset PODIUM_CONFIG to use $PODIUM_HOME/config.toml",
            )
        try:
            return cls(**overrides)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"config file {path} is not valid TOML: {error}",
                "correct the file or remove it (it is optional)",
            ) from error
        except PydanticValidationError as error:
            raise _invalid(error, path) from None

    @property
    def home_dir(self) -> Path:
        """The expanded home directory (not created)."""
        return self.home.expanduser()

    @property
    def uses_router(self) -> bool:
        """Whether no LLM is configured, so the offline router model answers."""
        if self.model == ROUTER_MODEL:
            return True
        return self.model is None and self.openai_api_key is None and not self.openai_base_url

    def ensure_home(self) -> Path:
        """Create the home directory if needed and prove it is writable."""
        home = self.home_dir
        try:
            home.mkdir(parents=True, exist_ok=True)
            # One probe per process and thread: processes sharing a home run this at once.
            probe = home / f".write-test-{os.getpid()}-{threading.get_ident()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as error:
            raise HomeNotWritable(
                f"PODIUM_HOME {home} is not writable: {error.strerror or error}",
                "set PODIUM_HOME to a directory you can write to",
            ) from error
        return home


def _invalid(error: PydanticValidationError, path: Path) -> ConfigError:
    """One ConfigError for a validation failure; a key of the file is named with its line."""
    from podium.located import suggest, toml_line

    first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    key = tuple(first["loc"])
    name = ".".join(str(p) for p in key) or "value"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    line = toml_line(text, key) if text else None
    if first["type"] == "extra_forbidden":
        where = f"{path}, line {line}" if line else str(path)
        hint = suggest(str(key[-1]), set(Settings.model_fields))
        if not hint.startswith("did you mean"):
            hint = "remove it: the settings are in the Configuration table of the README"
        return ConfigError(f"{where}: {name} is not a setting", hint)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
    )
    where = f" ({path}, line {line})" if line else ""
    return ConfigError(
        f"invalid configuration: {problems}{where}",
        f"check the PODIUM_* environment variables and {path}",
    )
