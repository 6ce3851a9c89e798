"""What every start-up check is made of: the command's own keys, a path that must exist, a
checkpoint's model family, a group's schema by its ``_target_``. Apart from ``validate`` so that
the checks of each family of commands can live in a module of their own without importing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel

from deepdance.config.base import parse, plain
from deepdance.errors import DeepdanceError

S = TypeVar("S", bound=BaseModel)
KINDS = {"dir": ("folder", "no such folder"), "file": ("file", "no such file")}


def top(schema: type[S], cfg: DictConfig) -> S:
    """The command's own top-level keys, each resolved alone (a ``???`` one is left out); the
    run's ``data`` and ``model`` groups are the context of its rules on them."""
    keys = [key for key in schema.model_fields if key in cfg]
    context = {group: cfg.get(group) for group in ("data", "model")}
    try:
        return parse(schema, {key: plain(cfg[key], key) for key in keys}, context=context)
    except OmegaConfBaseException as err:
        raise DeepdanceError(
            f"cannot read the command's settings ({' '.join(str(err).split())[:200]})"
        ) from None


def missing(value: str | None, kind: str = "any") -> str | None:
    """Why ``value`` is not a path to an existing ``kind`` (file, dir or any); None when it is."""
    noun, absent = KINDS.get(kind, ("file or folder", "no such file or folder"))
    path = Path(value or "").expanduser()
    if not value:
        return f"expected a path to an existing {noun}"
    if path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists():
        return None
    return "a file, not a folder" if kind == "dir" and path.is_file() else absent


def existing(value: str | None, key: str, kind: str = "any", hint: str = "") -> Path:
    """A path that exists: ``kind`` file, dir or any (a command's own paths are its schema's)."""
    reason = missing(value, kind)
    if reason:
        raise DeepdanceError(f"{key}={value}: {reason}" + (f"; {hint}" if hint else ""))
    return Path(str(value)).expanduser()


def check_family(path: Path, command: str, key: str = "ckpt_path") -> tuple[dict[str, Any], Any]:
    """The checkpoint's metadata and model family; one line when ``command`` does not take it."""
    from deepdance.models.registry import require_family
    from deepdance.utils.checkpoints import read_deepdance_metadata

    metadata = read_deepdance_metadata(path, setting=key)
    return metadata, require_family(metadata, command, path, key)


def schema_of(node: Any, group: str, schemas: dict[str, type[S]]) -> type[S]:
    """The schema of the class the group's ``_target_`` names (an old path read as today's)."""
    from deepdance.utils.legacy_targets import current_target

    target = current_target(str(node.get("_target_")))
    if target not in schemas:
        raise DeepdanceError(f"{group}._target_={target!r}: expected one of {', '.join(schemas)}")
    return schemas[target]
