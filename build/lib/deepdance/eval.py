"""Evaluate a checkpoint on its test split and write summary.json.

    python -m deepdance.eval ckpt_path=logs/train/runs/.../checkpoints/epoch_007.ckpt

The checkpoint carries its model class and data settings (see ``RunMetadata``); any
``data.*`` given on the command line replaces the stored value.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from deepdance.errors import DeepdanceError
from deepdance.utils.run import instantiate_loggers, print_config_tree, task_wrapper, write_summary

log = logging.getLogger("deepdance.eval")


def read_checkpoint_metadata(ckpt_path: str | Path) -> dict[str, Any]:
    path = Path(ckpt_path)
    if not path.is_file():
        raise DeepdanceError(f"ckpt_path={ckpt_path}: no such checkpoint file")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    metadata = checkpoint.get("deepdance")
    if not metadata:
        raise DeepdanceError(f"{path}: not a deepdance checkpoint (no 'deepdance' metadata: was it written by deepdance.train?)")
    return metadata


def data_config(stored: dict[str, Any], cfg: DictConfig) -> DictConfig:
    """The stored data settings, with the ``data.*`` overrides of this command line on top."""
    merged = OmegaConf.create(stored)
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key == "data":
            return cfg.data  # a whole new data group replaces the stored one
        if key.startswith("data."):
            OmegaConf.update(merged, key[len("data."):], OmegaConf.select(cfg, key), force_add=True)
    return merged


@task_wrapper
def evaluate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    metadata = read_checkpoint_metadata(cfg.ckpt_path)
    data_cfg = data_config(metadata["data"], cfg)
    if cfg.get("print_config"):
        print_config_tree(OmegaConf.merge(cfg, {"data": data_cfg}))
    datamodule: pl.LightningDataModule = hydra.utils.instantiate(data_cfg)
    model_class = hydra.utils.get_class(metadata["model_target"])
    model = model_class.load_from_checkpoint(cfg.ckpt_path, map_location="cpu", weights_only=False, **model_class.checkpoint_overrides())
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, logger=instantiate_loggers(cfg) or False)
    trainer.test(model, datamodule=datamodule)
    metrics = dict(trainer.callback_metrics)
    write_summary(cfg.paths.output_dir, metrics, ckpt_path=str(cfg.ckpt_path), seed=cfg.get("seed"), split=data_cfg.get("split"))
    return metrics, {"datamodule": datamodule, "model": model, "trainer": trainer}


@hydra.main(version_base="1.3", config_path="../conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
