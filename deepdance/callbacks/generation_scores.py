"""A generated dance per genre as a video at validation, and the gen/* metrics when a recognizer is set."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

log = logging.getLogger(__name__)


class GenerationScores(pl.Callback):
    """Every ``every_n_epochs`` validation epochs (rank 0, not during the sanity check), for a
    latent LSTM: invent a ``steps``-step dance from random latents in each genre it learned (one
    dance for an unconditioned model), write ``<dirname>/epoch_NNN_<genre>.mp4`` into the run dir
    and hand each video to the loggers (``val/generated_<genre>``: a GIF in TensorBoard, the mp4
    in W&B). With ``recognizer_ckpt`` (a silhouette genre classifier) it also scores rollouts
    from validation windows and random seeds (``deepdance.models.generation_scoring``) and sends
    the ``gen/*`` and ``gen_random/*`` keys to the loggers, so the freeze of a rollout shows
    while training rather than after it. Other models: nothing."""

    def __init__(
        self,
        every_n_epochs: int = 5,
        steps: int = 30,
        recognizer_ckpt: str | None = None,
        recognizer_fps: float | None = None,
        rollouts: int = 8,
        random_rollouts: int = 4,
        train_clips: int = 64,
        seed: int = 0,
        dirname: str = "generated",
    ) -> None:
        self.every_n_epochs = every_n_epochs
        self.steps = steps
        self.recognizer_ckpt = recognizer_ckpt
        self.recognizer_fps = recognizer_fps
        self.counts = {"rollouts": rollouts, "random_rollouts": random_rollouts, "train_clips": train_clips}
        self.seed = seed
        self.dirname = dirname
        self.scorer: Any = None
        # the metrics of the last scored validation, for a caller's inspection
        self.last_scores: dict[str, float] = {}

    @staticmethod
    def _applies(pl_module: pl.LightningModule) -> bool:
        return hasattr(pl_module, "genre_condition") and hasattr(pl_module, "latent_mean")

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Build the scorer once the LSTM has its data: a recognizer that cannot grade this
        generator (rate, genres, held-out windows too short) stops the run before training."""
        if not self.recognizer_ckpt or not self._applies(pl_module) or not trainer.is_global_zero:
            return
        from deepdance.config.data import DEFAULT_FPS
        from deepdance.models.generation_scoring import GenerationScorer, ScoringSettings, load_recognizer

        settings = ScoringSettings(steps=self.steps, split="val", seed=self.seed, **self.counts)
        fps = float(pl_module.hparams.preprocessing.get("fps") or DEFAULT_FPS)
        recognizer = load_recognizer(self.recognizer_ckpt, fps, self.recognizer_fps, str(pl_module.device))
        self.scorer = GenerationScorer(pl_module, recognizer, pl_module.data(), settings)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        every = self.every_n_epochs
        if not every or not self._applies(pl_module) or trainer.sanity_checking:
            return
        if not trainer.is_global_zero or trainer.current_epoch % every != 0:
            return
        self._log_videos(trainer, pl_module)
        if self.scorer is not None:
            self.last_scores = self.scorer.score()
            for logger in trainer.loggers:
                logger.log_metrics(self.last_scores, step=trainer.global_step)

    def _log_videos(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """One random-seed dance per learned genre (or one), to the run dir and the loggers."""
        from deepdance.models.dance_generator import DanceGenerator
        from deepdance.utils.media import log_video

        generator = DanceGenerator(pl_module)
        condition = pl_module.genre_condition
        genres: list[str | None] = condition.trained_names() if condition is not None else [None]
        folder = Path(trainer.default_root_dir) / self.dirname
        for genre in genres:
            rng = torch.Generator().manual_seed(self.seed)
            dance = generator.generate(generator.seed_random(rng), self.steps, generator=rng, genre=genre)
            name = genre or "random"
            out = folder / f"epoch_{trainer.current_epoch:03d}_{name}.mp4"
            if not out.exists():
                generator.write(dance, out)
            log_video(
                trainer.loggers,
                f"val/generated_{name}",
                dance.frames,
                dance.fps,
                trainer.global_step,
                mp4=out,
            )
