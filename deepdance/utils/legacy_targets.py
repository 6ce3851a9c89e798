"""Class paths that moved: checkpoints written before a move still name the old ones.

A checkpoint's ``deepdance`` metadata stores ``model_target`` and the data config with its
``_target_``; eval rebuilds the datamodule from it, generate and predict pick the model class
by it, and the start-up checks compare it. Every reader goes through
``deepdance.utils.checkpoints.load_checkpoint``, which rewrites old paths with this one table,
so an old checkpoint loads and evaluates like a new one.
"""

from __future__ import annotations

from typing import Any

# Old ``_target_`` path -> where the class lives now (add a row whenever a class moves).
LEGACY_TARGETS: dict[str, str] = {
    # issue 12: deepdance/data/ split into subpackages
    "deepdance.data.genre_datamodule.GenreDataModule": "deepdance.data.genre.GenreDataModule",
    "deepdance.data.augment.ClipAugment": "deepdance.data.genre.ClipAugment",
}

# The keys whose value is a class path.
TARGET_KEYS = ("_target_", "model_target")


def current_target(path: str) -> str:
    """The class path to import today for ``path`` (itself when it never moved)."""
    return LEGACY_TARGETS.get(path, path)


def upgrade_targets(value: Any) -> Any:
    """A copy of a stored config (dicts and lists) with every old class path replaced."""
    if isinstance(value, dict):
        return {
            key: current_target(item)
            if key in TARGET_KEYS and isinstance(item, str)
            else upgrade_targets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [upgrade_targets(item) for item in value]
    return value
