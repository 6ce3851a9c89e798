"""The latent LSTM's validation rollout as an mp4 (and a frame strip) for the run dir and the loggers."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl


class RolloutVideo(pl.Callback):
    """Every ``every_n_epochs`` validation epochs (rank 0, not during the sanity check), ask a model
    with ``rollout_dance`` (``LatentLSTMModule``) for a ``steps``-step rollout from its first
    validation window; write ``rollouts/epoch_NNN.mp4`` (and ``epoch_NNN.png``, a strip of its
    frames, with ``strip``) into the run dir and hand the video to every logger that shows one:
    TensorBoard gets a GIF summary, W&B the mp4; the CSV logger keeps the files."""

    def __init__(
        self, every_n_epochs: int = 5, steps: int = 20, strip: bool = True, dirname: str = "rollouts"
    ) -> None:
        self.every_n_epochs = every_n_epochs
        self.steps = steps
        self.strip = strip
        self.dirname = dirname

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        every = self.every_n_epochs
        if not every or not hasattr(pl_module, "rollout_dance") or trainer.sanity_checking:
            return
        if not trainer.is_global_zero or trainer.current_epoch % every != 0:
            return
        from deepdance.models.dance_generator import DanceGenerator
        from deepdance.utils.media import log_video

        dance = pl_module.rollout_dance(self.steps)
        out = Path(trainer.default_root_dir) / self.dirname / f"epoch_{trainer.current_epoch:03d}.mp4"
        DanceGenerator(pl_module).write(dance, out)
        if self.strip and not out.with_suffix(".png").exists():
            DanceGenerator.write_strip(dance, out.with_suffix(".png"), count=min(10, len(dance.frames)))
        log_video(trainer.loggers, "val/rollout", dance.frames, dance.fps, trainer.global_step, mp4=out)
