"""Training time per epoch."""

from __future__ import annotations

import time

import pytorch_lightning as pl


class EpochTimer(pl.Callback):
    """Log each epoch's training time (``time/train_epoch_s``: its training batches, without the
    validation and checkpointing that follow), so the cost of an epoch that decodes videos and of
    one that reads stored features compare like for like."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start, self._train_seconds = time.perf_counter(), None

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (
            getattr(self, "_start", None) is not None
            and not trainer.sanity_checking
            and self._train_seconds is None
        ):
            self._train_seconds = time.perf_counter() - self._start

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        seconds = (
            self._train_seconds if self._train_seconds is not None else time.perf_counter() - self._start
        )
        pl_module.log("time/train_epoch_s", seconds, on_epoch=True, sync_dist=True)
