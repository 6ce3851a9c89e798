"""The base of every config schema, and the one place a pydantic error becomes one line.

A refusal reads ``key=value: expected ...``, ``expected`` said by the field itself (its
``description``, or its type, bounds and choices), so a setting reads the same whichever rule
it broke. A cross-field rule raises ``ValueError``; ``$`` in it is the node's prefix.
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from deepdance.errors import DeepdanceError

S = TypeVar("S", bound=BaseModel)
# Hydra's "required, not given"
MISSING = "???"


class Schema(BaseModel):
    """Strict types (``'5'`` is no integer, ``'yes'`` no boolean) and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field's default as plain data (``???`` where required): Hydra's seed node."""
        dump = {n: f.get_default() for n, f in cls.model_fields.items() if not f.is_required()}
        plain_dump = cls.model_construct(**dump).model_dump(by_alias=True, include=set(dump))
        return {f.alias or n: plain_dump.get(f.alias or n, MISSING) for n, f in cls.model_fields.items()}


def plain(node: Any, prefix: str) -> Any:
    """A DictConfig node resolved to plain Python, ``???`` left out; a failed interpolation is one line."""
    if not OmegaConf.is_config(node):
        return node
    try:
        values = OmegaConf.to_container(node, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as err:
        raise DeepdanceError(f"{prefix}: cannot be read ({' '.join(str(err).split())[:200]})") from None
    return {k: v for k, v in values.items() if v != MISSING} if isinstance(values, dict) else values


def parse(schema: type[S], node: Any, prefix: str = "", context: dict[str, Any] | None = None) -> S:
    """``node`` (DictConfig or dict) as a ``schema`` instance, or a one-line ``DeepdanceError``;
    ``context`` hands rules between groups the other groups (the latent LSTM's on its data)."""
    values = plain(node, prefix)
    try:
        return schema.model_validate(values, context=context)
    except ValidationError as err:
        raise DeepdanceError(one_line(err.errors()[0], schema, prefix, values)) from None


def one_line(error: dict[str, Any], schema: type[BaseModel], prefix: str, value: Any) -> str:
    """A pydantic error as ``key=value: expected ...``, ``key is required`` or ``key: not a setting``."""
    owner, field, loc = _locate(schema, [str(part) for part in error["loc"]])
    key = ".".join([prefix, *loc]).strip(".")
    for part in loc:
        value = value.get(part) if isinstance(value, dict) else error["input"]
    message = str(error.get("ctx", {}).get("error", ""))
    if error["type"] == "missing":
        return f"{key} is required" + (f": {field.description}" if field and field.description else "")
    if error["type"] == "extra_forbidden":
        known = ", ".join(f.alias or n for n, f in owner.model_fields.items() if not f.alias)
        return f"{key}: not a setting of {owner.model_config.get('title') or owner.__name__}; known: {known}"
    if error["type"] == "not_on_disk":
        hint = f"; {field.description}" if field and field.description else ""
        return f"{key}={value}: {error['msg']}{hint}"
    if "$" in message:
        return message.replace("$", f"{prefix}." if prefix else "")
    if message and not message.startswith("expected"):
        return f"{key}: {message}"
    return f"{key}={value!r}: {message or 'expected ' + expected(field)}"


def _locate(schema: type[BaseModel], loc: list[str]) -> tuple[type[BaseModel], FieldInfo | None, list[str]]:
    """The model holding the field at ``loc``, the field, its key path (a list index or a union
    member after the field is left out: the whole field is shown)."""
    owner, field, path = schema, None, []
    for part in loc:
        field = {f.alias or n: f for n, f in owner.model_fields.items()}.get(part)
        path.append(part)
        kinds = _members(field.annotation) if field else []
        nested = [t for t in kinds if isinstance(t, type) and issubclass(t, BaseModel)]
        if not nested or part == loc[-1]:
            break
        owner = nested[0]
    return owner, field, path


def _members(annotation: Any) -> list[Any]:
    """The types of a union but ``None``; ``[annotation]`` for any other."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def expected(field: FieldInfo | None) -> str:
    """What a field accepts, in words: its description, or its type and bounds."""
    if field is None or field.description:
        return field.description if field else "a valid value"
    kind = _members(field.annotation)[0]
    nullable = type(None) in typing.get_args(field.annotation)
    if typing.get_origin(kind) is typing.Literal:
        text = "one of " + ", ".join(map(str, typing.get_args(kind)))
    else:
        nouns = {bool: "true or false", str: "a non-empty string", int: "an integer", float: "a number"}
        text = nouns.get(kind, "a valid value") + _bounds(field.metadata)
    return text + (" or null" if nullable else "")


def _bounds(metadata: list[Any]) -> str:
    """`` >= 1``, `` in [0, 1)``: the field's bounds (annotated_types Ge, Gt, Le, Lt)."""
    found = {k: getattr(m, k) for m in metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    low = next(((op, found[k]) for k, op in (("ge", ">="), ("gt", ">")) if k in found), None)
    high = next(((op, found[k]) for k, op in (("le", "<="), ("lt", "<")) if k in found), None)
    if low and high:
        return f" in {'[('[low[0] == '>']}{low[1]:g}, {high[1]:g}{'])'[high[0] == '<']}"
    return f" {(low or high)[0]} {(low or high)[1]:g}" if low or high else ""
