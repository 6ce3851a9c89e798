"""The checks of the commands that train: train, its stages, extract_features."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from deepdance.config_checks.data import GENRE_DATA, check_data
from deepdance.config_checks.model import CLASSIFIER, check_model
from deepdance.config_checks.trainer import check_seed, check_trainer
from deepdance.config_checks.values import _bad, boolean, existing_path, known_keys, setting, text
from deepdance.errors import DeepdanceError


def validate_train(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> None:
    """``python -m deepdance.train`` (one run, or one stage of a pipeline)."""
    check_seed(cfg)
    for key in ("train", "test", "print_config"):
        boolean(cfg, key, default=True)
    check_data(cfg)
    check_model(cfg, allow_missing)
    check_trainer(cfg)
    ckpt = setting(cfg, "ckpt_path", default=None)
    if ckpt not in (None, "", "last"):
        # ``last`` is resolved (and its family checked) by train itself
        from deepdance.models.registry import check_model_target
        from deepdance.utils.checkpoints import load_checkpoint

        hint = "a checkpoint of this model, or last, or null"
        path = existing_path(cfg, "ckpt_path", kind="file", hint=hint)
        check_model_target(load_checkpoint(path).get("deepdance") or {}, text(cfg, "model._target_"), path)


def validate_stages(cfg: DictConfig, compose: Any) -> None:
    """``experiment=deep_dance``: every stage's config, before the first stage trains.
    ``compose(overrides)`` gives a stage's config; a checkpoint an earlier stage will write is
    not checked yet."""
    stages = setting(cfg, "stages")
    if not isinstance(stages, dict) or not stages:
        raise _bad("stages", stages, "a mapping of stage name to {experiment, overrides, autoencoder_from}")
    seen: list[str] = []
    for name, stage in stages.items():
        known_keys(cfg, f"stages.{name}", ("experiment", "overrides", "autoencoder_from"), "a stage")
        source = stage.get("autoencoder_from")
        if source is not None and source not in seen:
            raise _bad(
                f"stages.{name}.autoencoder_from",
                source,
                "the name of an earlier stage: " + (", ".join(seen) or "none"),
            )
        try:
            stage_cfg = compose(name, cfg.stages[name])
        except (HydraException, OmegaConfBaseException) as err:
            raise DeepdanceError(f"stages.{name}: {' '.join(str(err).split())[:300]}") from None
        validate_train(stage_cfg, allow_missing=("model.autoencoder_ckpt",) if source else ())
        seen.append(name)


def validate_extract_features(cfg: DictConfig) -> None:
    """``python -m deepdance.extract_features``: train's data and model, a frozen backbone."""
    check_seed(cfg)
    check_data(cfg)
    if text(cfg, "data._target_") != GENRE_DATA:
        raise _bad(
            "data",
            setting(cfg, "data._target_"),
            f"a genre dataset ({GENRE_DATA}: data=synthetic or data=aist)",
        )
    check_model(cfg)
    check_trainer(cfg)
    if text(cfg, "model._target_") != CLASSIFIER or not setting(cfg, "model.backbone.freeze", default=False):
        raise DeepdanceError(
            "model.backbone.freeze=false: extract_features expected a frozen backbone "
            "(model.backbone.freeze=true, e.g. model=genre_gru); "
            "features of a backbone that trains change every step"
        )
    splits = setting(cfg, "splits", default=None) or ["train", "val", "test"]
    if not isinstance(splits, list) or not splits or not set(splits) <= {"train", "val", "test"}:
        raise _bad("splits", splits, "a list of train, val, test")
