"""Checks of a checkpoint a command reads: that it exists, and its model family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from deepdance.config_checks.values import existing_path
from deepdance.models.registry import require_family


def check_family(path: Path | str, command: str, key: str = "ckpt_path") -> dict[str, Any]:
    """The checkpoint's stored metadata, refused in one line when ``command`` does not take its
    model family (``deepdance.models.registry``)."""
    from deepdance.utils.checkpoints import read_deepdance_metadata

    metadata = read_deepdance_metadata(path, setting=key)
    require_family(metadata, command, path, key)
    return metadata


def check_ckpt(cfg: DictConfig, hint: str) -> Path:
    """A mandatory ``ckpt_path`` that names an existing file."""
    return existing_path(cfg, "ckpt_path", kind="file", hint=hint)
