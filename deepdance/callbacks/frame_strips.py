"""The autoencoder's inputs above its reconstructions, as a picture for the run dir and the loggers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl


class FrameStrips(pl.Callback):
    """From the first batch of a validation epoch (every ``every_n_epochs``) and of the test pass,
    take the ``frames`` and ``reconstructions`` a model's step returned (``SilhouetteAEModule``)
    and write ``count`` of each, inputs above reconstructions, to ``<run dir>/<dirname>/<split>_
    epoch_NNN.png``; hand the picture to every logger that shows one (TensorBoard, W&B)."""

    def __init__(self, every_n_epochs: int = 5, count: int = 8, dirname: str = "reconstructions") -> None:
        self.every_n_epochs = every_n_epochs
        self.count = count
        self.dirname = dirname

    def on_validation_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        every = self.every_n_epochs
        if every and not trainer.sanity_checking and trainer.current_epoch % every == 0:
            self._write(trainer, "val", outputs, batch_idx)

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.every_n_epochs:
            self._write(trainer, "test", outputs, batch_idx)

    def _write(self, trainer: pl.Trainer, split: str, outputs: Any, batch_idx: int) -> None:
        if batch_idx != 0 or not trainer.is_global_zero:
            return
        if not isinstance(outputs, dict) or not {"frames", "reconstructions"} <= set(outputs):
            return
        from PIL import Image

        from deepdance.utils.cache_io import atomic_output
        from deepdance.utils.media import frame_grid, log_image, to_display

        n = self.count
        grid = frame_grid(
            [to_display(outputs["frames"][:n, 0]), to_display(outputs["reconstructions"][:n, 0])]
        )
        path = (
            Path(trainer.default_root_dir) / self.dirname / f"{split}_epoch_{trainer.current_epoch:03d}.png"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path, "wb") as handle:
            Image.fromarray(grid).save(handle, format="PNG")
        log_image(trainer.loggers, f"{split}/reconstructions", grid, trainer.global_step)
