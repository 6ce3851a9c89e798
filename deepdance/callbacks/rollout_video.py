"""The latent LSTM's validation rollout as an mp4 (and a frame strip) for the run dir and the loggers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytorch_lightning as pl
import torch

if TYPE_CHECKING:
    from deepdance.models.dance_generator import Dance
    from deepdance.models.latent_lstm_module import LatentLSTMModule


@torch.no_grad()
def first_window_dance(module: LatentLSTMModule, steps: int, split: str = "val") -> Dance:
    """A ``steps``-step rollout seeded with the first real window of ``split`` (in its video's
    genre, for a conditioned model), decoded and marked."""
    from deepdance.models.dance_generator import DanceGenerator

    sequences = module.data()
    segment = sequences.segments[split][0]
    look_back = module.hparams.look_back
    start = torch.tensor([max(segment.start, look_back)])
    context = module.table.windows(torch.tensor([segment.video]), start, look_back)[0]
    genre = sequences.genres[segment.video] if module.genre_condition is not None else None
    # a mixture head draws from its own seed: the training's random stream is left alone
    draws = module.sampling_generator()
    return DanceGenerator(module).generate(context.to(module.device), steps, genre=genre, generator=draws)


class RolloutVideo(pl.Callback):
    """Every ``every_n_epochs`` validation epochs (rank 0, not during the sanity check), roll a
    ``LatentLSTMModule`` out for ``steps`` steps from its first validation window; write
    ``rollouts/epoch_NNN.mp4`` (and ``epoch_NNN.png``, a strip of its frames, with ``strip``)
    into the run dir and hand the video to every logger that shows one: TensorBoard gets a GIF
    summary, W&B the mp4; the CSV logger keeps the files."""

    def __init__(
        self, every_n_epochs: int = 5, steps: int = 20, strip: bool = True, dirname: str = "rollouts"
    ) -> None:
        self.every_n_epochs = every_n_epochs
        self.steps = steps
        self.strip = strip
        self.dirname = dirname

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from deepdance.models.latent_lstm_module import LatentLSTMModule

        every = self.every_n_epochs
        if not every or not isinstance(pl_module, LatentLSTMModule) or trainer.sanity_checking:
            return
        # a pose-space LSTM has no decoder to draw silhouettes with
        if pl_module.autoencoder is None:
            return
        if not trainer.is_global_zero or trainer.current_epoch % every != 0:
            return
        from deepdance.models.dance_generator import DanceGenerator
        from deepdance.utils.media import log_video

        dance = first_window_dance(pl_module, self.steps)
        out = Path(trainer.default_root_dir) / self.dirname / f"epoch_{trainer.current_epoch:03d}.mp4"
        DanceGenerator(pl_module).write(dance, out)
        if self.strip and not out.with_suffix(".png").exists():
            DanceGenerator.write_strip(dance, out.with_suffix(".png"), count=min(10, len(dance.frames)))
        log_video(trainer.loggers, "val/rollout", dance.frames, dance.fps, trainer.global_step, mp4=out)
