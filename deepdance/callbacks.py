"""Lightning callbacks that are deepdance's own (the rest come from Lightning)."""

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
            "data": OmegaConf.to_container(data, resolve=True) if isinstance(data, DictConfig) else dict(data),
        }

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint["deepdance"] = self.metadata


class EpochTimer(pl.Callback):
    """Log each training epoch's wall time (``time/train_epoch_s``, without validation), so the
    cost of an epoch that decodes videos and one that reads stored features can be compared."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import time

        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import time

        pl_module.log("time/train_epoch_s", time.perf_counter() - self._start, on_epoch=True, sync_dist=True)
