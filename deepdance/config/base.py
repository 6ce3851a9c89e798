"""The base of every config schema, and the one place a pydantic error becomes one line.

A schema says a group's types, defaults, ranges and choices once. ``parse`` reads a composed
DictConfig node into it; a refusal reads ``key=value: expected ...``, where ``expected`` is
derived from the field itself (its type, bounds and choices, or its ``description``), so the
same setting reads the same whichever rule it broke. Cross-field rules raise ``ValueError``;
``$`` in their message stands for the node's key prefix (``$fold`` -> ``data.fold``).
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
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
        return {
            field.alias or name: MISSING if field.is_required() else _plain(field.get_default())
            for name, field in cls.model_fields.items()
        }


def _plain(value: Any) -> Any:
    return value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value


def _drop_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_missing(v) for k, v in value.items() if v != MISSING}
    return value


def plain(node: Any, prefix: str) -> Any:
    """A DictConfig node resolved to plain Python; an interpolation that fails is one line."""
    if not isinstance(node, DictConfig):
        return node
    try:
        return _drop_missing(OmegaConf.to_container(node, resolve=True, throw_on_missing=False))
    except OmegaConfBaseException as err:
        raise DeepdanceError(f"{prefix}: cannot be read ({' '.join(str(err).split())[:200]})") from None


def parse(schema: type[S], node: Any, prefix: str = "") -> S:
    """``node`` (DictConfig or dict) as a ``schema`` instance, or a one-line ``DeepdanceError``."""
    values = plain(node, prefix)
    try:
        return schema.model_validate(values)
    except ValidationError as err:
        raise DeepdanceError(one_line(err, schema, prefix, values)) from None


def one_line(err: ValidationError, schema: type[BaseModel], prefix: str, values: Any) -> str:
    """The first error of ``err`` as ``key=value: expected ...`` (or ``key is required``)."""
    first = err.errors()[0]
    owner, field, loc = _locate(schema, [str(part) for part in first["loc"]])
    key = ".".join([p for p in (prefix, *loc) if p])
    for part in loc:
        values = values.get(part) if isinstance(values, dict) else first["input"]
    if first["type"] == "missing":
        return f"{key} is required"
    if first["type"] == "extra_forbidden":
        known = ", ".join(f.alias or n for n, f in owner.model_fields.items() if not (f.alias or n)[0] == "_")
        title = owner.model_config.get("title") or owner.__name__
        return f"{key}: not a setting of {title}; known: {known}"
    if first["type"] == "value_error":
        # a cross-field rule names its keys itself ($); a one-field rule is prefixed by its key
        message = str(first["ctx"]["error"])
        if "$" in message:
            return message.replace("$", f"{prefix}." if prefix else "")
        return f"{key}={values!r}: {message}" if message.startswith("expected") else f"{key}: {message}"
    return f"{key}={values!r}: expected {expected(field)}"


def _locate(schema: type[BaseModel], loc: list[str]) -> tuple[type[BaseModel], FieldInfo | None, list[str]]:
    """The model that holds the field at ``loc``, that field, and its key path (a list index
    or a union member after it is left out: the whole field is shown)."""
    owner: type[BaseModel] = schema
    field, path = None, []
    for part in loc:
        fields = {f.alias or n: f for n, f in owner.model_fields.items()}
        field = fields.get(part)
        path.append(part)
        if field is None:
            break
        nested = [t for t in _members(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if not nested or part == loc[-1]:
            break
        owner = nested[0]
    return owner, field, path


def _members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def expected(field: FieldInfo | None) -> str:
    """What a field accepts, in words: its description, or its type and bounds."""
    if field is None:
        return "a valid value"
    if field.description:
        return field.description
    members = _members(field.annotation)
    nullable = len(members) < len(typing.get_args(field.annotation)) and members != [field.annotation]
    text = _kind(members[0], field.metadata)
    return text + (" or null" if nullable and not text.endswith("or null") else "")


def _kind(annotation: Any, metadata: list[Any]) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(annotation)))
    if annotation is bool:
        return "true or false"
    if annotation is str:
        return "a non-empty string"
    noun = {int: "an integer", float: "a number"}.get(annotation, "a valid value")
    return noun + _bounds(metadata)


def _bounds(metadata: list[Any]) -> str:
    """`` >= 1``, `` in [0, 1)``: the field's bounds (annotated_types Ge, Gt, Le, Lt)."""
    bounds = {
        name: getattr(m, name) for m in metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)
    }
    low = next(((op, bounds[key]) for key, op in (("ge", ">="), ("gt", ">")) if key in bounds), None)
    high = next(((op, bounds[key]) for key, op in (("le", "<="), ("lt", "<")) if key in bounds), None)
    if low and high:
        left, right = "[" if low[0] == ">=" else "(", "]" if high[0] == "<=" else ")"
        return f" in {left}{low[1]:g}, {high[1]:g}{right}"
    bound = low or high
    return f" {bound[0]} {bound[1]:g}" if bound else ""
