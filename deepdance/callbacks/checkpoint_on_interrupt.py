"""A last checkpoint when fitting stops early."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)


class CheckpointOnInterrupt(pl.Callback):
    """Save ``<dirpath>/last.ckpt`` when fitting stops early: SIGTERM (``kill``, ``timeout``,
    Kubernetes, SLURM), Ctrl-C, or a crash, so ``ckpt_path=last`` resumes from that point.

    Lightning turns SIGTERM into a clean stop after the current batch on any machine (not only
    under SLURM); this callback adds the checkpoint. Nothing is saved before the first
    optimiser step (a config or data error at start-up leaves the last good checkpoint alone).
    Unlike Lightning's ``OnExceptionCheckpoint`` it neither deletes the file after a
    successful fit nor makes a later ``fit(ckpt_path=None)`` resume from it silently.
    """

    def __init__(self, dirpath: str, filename: str = "last") -> None:
        self.ckpt_path = str(Path(dirpath) / f"{filename}.ckpt")

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if trainer.state.fn != "fit" or trainer.global_step == 0:
            return
        # the full training state
        trainer.save_checkpoint(self.ckpt_path, weights_only=False)
        why = "SIGTERM" if isinstance(exception, SIGTERMException) else type(exception).__name__
        log.warning(
            "%s at epoch %d, step %d: saved %s; resume with ckpt_path=last",
            why,
            trainer.current_epoch,
            trainer.global_step,
            self.ckpt_path,
        )
