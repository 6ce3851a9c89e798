"""The run metadata every checkpoint carries."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf


class RunMetadata(pl.Callback):
    """Store the model class and data settings in every checkpoint, so ``deepdance.eval
    ckpt_path=...`` rebuilds the same pipeline without the training command line."""

    def __init__(self, model_target: str, data: dict[str, Any] | DictConfig) -> None:
        self.metadata = {
            "model_target": model_target,
            "data": OmegaConf.to_container(data, resolve=True)
            if isinstance(data, DictConfig)
            else dict(data),
        }

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint["deepdance"] = self.metadata
