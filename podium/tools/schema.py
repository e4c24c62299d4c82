"""A tool's argument model, from its function's signature, type hints and docstring.

The model is the one LangChain's ``create_schema_from_function`` builds (the same fields,
defaults, constraints and descriptions, so a chat model is shown the same schema), made
with pydantic alone: importing ``langchain_core.tools`` costs about a second, and listing
the tools (``podium tools``) needs nothing else from it.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo


def _google_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description and the ``Args:`` entries of a Google-style docstring."""
    if not doc:
        return "", {}
    blocks = doc.split("\n\n")
    descriptors: list[str] = []
    args_block = None
    past = False
    for block in blocks:
        if block.startswith("Args:"):
            args_block = block
            break
        if block.startswith(("Returns:", "Example:")):
            past = True
        elif not past:
            descriptors.append(block)
    described: dict[str, str] = {}
    if args_block:
        argument: str | None = None
        indent: int | None = None
        for line in args_block.split("\n")[1:]:
            if not line.strip():
                continue
            depth = len(line) - len(line.lstrip())
            if indent is None and ":" in line:
                indent = depth
            if argument is not None and indent is not None and depth > indent:
                described[argument] += " " + line.strip()
            elif ":" in line:
                argument, text = line.split(":", maxsplit=1)
                argument = argument.strip()
                bare, _, kind = argument.partition(" ")
                if kind.startswith("(") and kind.endswith(")"):
                    argument = bare
                described[argument] = text.strip()
            elif argument:
                described[argument] += " " + line.strip()
    return " ".join(descriptors).strip(), described


def _annotated_description(hint: Any) -> str | None:
    if get_origin(hint) is not Annotated:
        return None
    for extra in get_args(hint)[1:]:
        if isinstance(extra, str):
            return extra
        if isinstance(extra, FieldInfo) and extra.description:
            return extra.description
    return None


def arguments_model(name: str, function: Callable[..., Any], skip: Iterable[str] = ()) -> Any:
    """The pydantic model of ``function``'s arguments, without the parameters in ``skip``.

    Raises ValueError when the docstring describes an argument the function does not have.
    """
    hints = get_type_hints(function, include_extras=True)
    skipped = set(skip)
    fields: dict[str, tuple[Any, Any]] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in skipped:
            continue
        hint = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        if parameter.kind is parameter.VAR_POSITIONAL:
            hint, default = tuple.__class_getitem__((hint, ...)), None
        elif parameter.kind is parameter.VAR_KEYWORD:
            hint, default = dict.__class_getitem__((str, hint)), None
        fields[parameter.name] = (hint, default)
    signature_model = create_model(
        "Signature",
        __config__=ConfigDict(arbitrary_types_allowed=True, extra="forbid"),
        **fields,  # type: ignore[call-overload]
    )
    description, described = _google_docstring(inspect.getdoc(function))
    unknown = [a for a in described if a not in hints]
    if unknown:
        raise ValueError(f"Arg {unknown[0]} in docstring not found in function signature.")
    for argument, hint in hints.items():
        if argument not in described and (text := _annotated_description(hint)):
            described[argument] = text
    chosen: dict[str, tuple[Any, FieldInfo]] = {}
    for field_name, field in signature_model.model_fields.items():
        options: dict[str, Any] = {"description": described.get(field_name, field.description)}
        if field.default_factory is not None:
            options["default_factory"] = field.default_factory
        else:
            options["default"] = field.default
        info = FieldInfo(**options)
        if field.metadata:
            info.metadata = field.metadata
        chosen[field_name] = (field.annotation, info)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        name, __config__=ConfigDict(arbitrary_types_allowed=True), **chosen
    )
    model.__annotations__ = {
        k: v for k, v in signature_model.__annotations__.items() if k in chosen
    }
    model.__doc__ = textwrap.dedent(description or "")
    return model
