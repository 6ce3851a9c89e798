"""The data a checkpoint is tested on: the settings it was trained with, this command line's
``data.*`` overrides on top (``python -m deepdance.eval``)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf


def data_config(stored: dict[str, Any], cfg: DictConfig) -> DictConfig:
    """The stored data settings, with the ``data.*`` overrides of this command line on top."""
    from hydra.core.hydra_config import HydraConfig

    merged = OmegaConf.create(stored)
    for override in HydraConfig.get().overrides.task if HydraConfig.initialized() else []:
        key = override.split("=", 1)[0].lstrip("+~")
        # a whole new data group replaces the stored one
        if key == "data":
            return cfg.data
        if key.startswith("data."):
            OmegaConf.update(merged, key[len("data.") :], OmegaConf.select(cfg, key), force_add=True)
    return merged
