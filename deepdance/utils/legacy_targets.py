"""Class paths that moved, and hyper-parameters that went: checkpoints written before still
name the old ones.

A checkpoint's ``deepdance`` metadata stores ``model_target`` and the data config with its
``_target_``; eval rebuilds the datamodule from it, generate and predict pick the model class
by it, and the start-up checks compare it. Every reader goes through
``deepdance.utils.checkpoints.load_checkpoint``, which rewrites old paths with this one table,
so an old checkpoint loads and evaluates like a new one. A module is rebuilt from its stored
hyper-parameters through its typed config (``from_hparams``); ``upgrade_hparams`` first drops the
keys that are no longer a model setting.
"""

from __future__ import annotations

from collections.abc import Mapping
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


# Model class path -> hyper-parameters of its older checkpoints that are no setting today (now a
# report callback's: the rollout video's schedule, the reconstruction strips'): read, ignored.
LEGACY_HPARAMS: dict[str, tuple[str, ...]] = {
    "deepdance.models.latent_lstm_module.LatentLSTMModule": ("video_every_n_epochs", "video_steps"),
    "deepdance.models.autoencoder_module.SilhouetteAEModule": (
        "log_images_every_n_epochs",
        "num_logged_images",
    ),
}


def upgrade_hparams(target: str, hparams: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a model's stored hyper-parameters without the keys ``target`` no longer takes."""
    gone = LEGACY_HPARAMS.get(current_target(target), ())
    return {key: value for key, value in hparams.items() if key not in gone}
