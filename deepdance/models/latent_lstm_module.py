"""Train the latent LSTM on a frozen autoencoder's latents.

Every frame is encoded once (``LatentTable``), so an epoch costs only the LSTM. A checkpoint
holds the autoencoder's weights, its architecture and the preprocessing settings beside the
LSTM: ``deepdance.generate`` needs nothing else. ``rollout`` is the one way the LSTM generates:
``deepdance.generate``, the evaluator and the generation scorer all call it.

Validation and test are measured by ``RolloutEvaluator`` (one-step errors against baselines,
rollout errors, liveliness), so this module only trains.

With ``condition="genre"`` the LSTM and the ridge baseline read each window's genre (from its
video's AIST++ name), and every rollout is steered by the genre of the video it starts in;
``genre_class`` turns a requested genre into the class index ``deepdance.generate`` rolls with.

Against rollouts that freeze into a pose (``rollout_training``, ``mixture_head``; every one off by
default): ``rollout_loss_steps`` trains over a short rollout of the LSTM's own predictions
(``scheduled_sampling`` feeds back the truth at times), ``input_noise`` perturbs what it reads,
``head="mdn"`` makes its output a mixture that rollouts sample.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.base import DeepdanceModule
from deepdance.models.genre_condition import GenreCondition, check_condition
from deepdance.models.latent_lstm import HEADS, LatentLSTM, RidgeForecaster
from deepdance.models.latent_lstm import rollout as feed_back
from deepdance.models.latent_table import LatentTable, read_autoencoder_checkpoint
from deepdance.models.rollout_evaluator import RolloutEvaluator
from deepdance.models.rollout_training import RolloutTraining

log = logging.getLogger(__name__)

# A mixture head's rollouts in validation and test draw from this seed: comparable epochs.
SAMPLING_SEED = 0

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences


class LatentLSTMModule(DeepdanceModule):
    """Windows ``{"frames": (B, L + 1, H, W) uint8, "video", "target", "genre"}`` -> next-frame
    forecasts. The whole videos come from the datamodule's ``sequences()``, encoded once."""

    # Older checkpoints: the rollout video's schedule and length are now the RolloutVideo callback's.
    legacy_keys = ("video_every_n_epochs", "video_steps")

    def __init__(
        self,
        net: dict[str, Any],
        optimizer: dict[str, Any],
        autoencoder_ckpt: str | None = None,
        scheduler: dict[str, Any] | None = None,
        look_back: int = 10,
        ridge_alpha: float = 1.0,
        rollout_horizons: list[int] | tuple[int, ...] = (1, 5, 10, 30),
        autoencoder: dict[str, Any] | None = None,
        preprocessing: dict[str, Any] | None = None,
        condition: str | None = None,
        genre_dim: int = 8,
        genres: list[str] | None = None,
        head: str = "point",
        mixtures: int = 5,
        rollout_loss_steps: int = 1,
        scheduled_sampling: float = 0.0,
        input_noise: float = 0.0,
        context_dropout: float = 0.0,
        **legacy: Any,
    ) -> None:
        super().__init__()
        self.drop_legacy(legacy)
        weights = None
        if autoencoder_ckpt is not None:
            stored = read_autoencoder_checkpoint(autoencoder_ckpt)
            autoencoder, weights, preprocessing = stored.net, stored.weights, stored.preprocessing
        if autoencoder is None or preprocessing is None:
            raise DeepdanceError(
                "model.autoencoder_ckpt is required: the path of a checkpoint from experiment=deep_dance_ae"
            )
        if look_back < 2:
            raise DeepdanceError(
                f"model.look_back={look_back} must be >= 2 (the extrapolation baseline needs two latents)"
            )
        classes = check_condition(condition, genres)
        if head not in HEADS:
            raise DeepdanceError(f"model.head={head!r} is not known; use {' or '.join(HEADS)}")
        if head == "mdn" and (not isinstance(mixtures, int) or mixtures < 1):
            raise DeepdanceError(f"model.mixtures={mixtures!r} must be an integer >= 1 (model.head=mdn)")
        self.training_loss = RolloutTraining(
            rollout_loss_steps, float(scheduled_sampling), float(input_noise), float(context_dropout)
        )
        self.save_plain_hyperparameters(
            net=net,
            optimizer=optimizer,
            scheduler=scheduler,
            look_back=look_back,
            ridge_alpha=ridge_alpha,
            rollout_horizons=sorted(int(h) for h in rollout_horizons),
            autoencoder=autoencoder,
            preprocessing=preprocessing,
            autoencoder_ckpt=str(autoencoder_ckpt) if autoencoder_ckpt else None,
            **self._optional_hparams(condition, genre_dim, classes, head, mixtures),
        )
        self._build(weights, classes, genre_dim, head, mixtures)

    def _optional_hparams(
        self, condition: str | None, genre_dim: int, classes: list[str] | None, head: str, mixtures: int
    ) -> dict[str, Any]:
        """Settings stored only when set, so a checkpoint of an older recipe keeps its hyper-parameters."""
        stored: dict[str, Any] = {}
        if classes:
            stored.update(condition=condition, genre_dim=genre_dim, genres=classes)
        if head != "point":
            stored.update(head=head, mixtures=mixtures)
        loss = self.training_loss
        if not loss.is_default:
            stored.update(
                rollout_loss_steps=loss.steps,
                scheduled_sampling=loss.scheduled_sampling,
                input_noise=loss.input_noise,
            )
        # newer than the others: stored only when set, so checkpoints of those recipes are unchanged
        if loss.context_dropout:
            stored["context_dropout"] = loss.context_dropout
        return stored

    def _build(
        self,
        weights: dict[str, torch.Tensor] | None,
        classes: list[str] | None,
        genre_dim: int,
        head: str,
        mixtures: int,
    ) -> None:
        """The frozen autoencoder, the LSTM, the ridge baseline and the latents' statistics."""
        self.autoencoder = SilhouetteAutoencoder(**self.hparams.autoencoder)
        if weights is not None:
            self.autoencoder.load_state_dict(weights)
        self.autoencoder.requires_grad_(False)
        latent_dim = self.autoencoder.config["latent_dim"]
        num_genres = len(classes) if classes else 0
        self.lstm = LatentLSTM(
            latent_dim=latent_dim,
            **self.hparams.net,
            num_genres=num_genres,
            genre_dim=genre_dim,
            head=head,
            mixtures=mixtures,
        )
        # a baseline fitted on the train windows, saved with the weights it is compared with
        self.ridge = RidgeForecaster(self.hparams.look_back, latent_dim, self.hparams.ridge_alpha, num_genres)
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))
        self.evaluator = RolloutEvaluator()
        # A conditioned model's genres: its classes, the trained ones, each video's (None: unconditioned).
        self.genre_condition = GenreCondition(classes) if classes else None
        # Every frame's latent and the datamodule's videos and splits, from ``use_sequences``.
        self.table: LatentTable | None = None
        self.sequences: SilhouetteSequences | None = None

    @staticmethod
    def checkpoint_overrides() -> dict[str, Any]:
        """The checkpoint holds the autoencoder: never read the (maybe moved) original file."""
        return {"autoencoder_ckpt": None}

    def train(self, mode: bool = True) -> LatentLSTMModule:
        super().train(mode)
        self.autoencoder.eval()  # frozen
        return self

    # --------------------------------------------------------------------- latents
    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean) / self.latent_std

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std + self.latent_mean

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray | torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """uint8 (T, H, W), 255 = dancer -> latents (T, D) on this module's device."""
        out = []
        for i in range(0, len(frames), batch_size):
            # a copy: a mirrored video is a view with negative strides, a cached one is read-only
            chunk = torch.as_tensor(np.array(frames[i : i + batch_size]), device=self.device)
            out.append(self.autoencoder.encode(chunk[:, None].float() / 255.0))
        return torch.cat(out)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw latents (..., D) -> frames (..., 1, H, W) in [0, 1]."""
        flat = z.reshape(-1, z.shape[-1])
        frames = self.autoencoder.decode(flat)
        return frames.reshape(*z.shape[:-1], *frames.shape[1:])

    def _check_data(self, sequences: SilhouetteSequences) -> None:
        ours = self.hparams.preprocessing
        theirs = sequences.preprocessing
        differ = sorted(k for k in ours if ours[k] != theirs.get(k))
        if differ:
            detail = ", ".join(f"data.{k}={theirs.get(k)} (autoencoder: {ours[k]})" for k in differ)
            raise DeepdanceError(
                f"the data is preprocessed unlike the autoencoder's training data: {detail}; use the "
                "autoencoder's settings"
            )
        if sequences.context_frames != self.hparams.look_back:
            raise DeepdanceError(
                f"data.context_frames={sequences.context_frames} must equal "
                f"model.look_back={self.hparams.look_back}"
            )
        if sequences.target_frames != self.training_loss.steps:
            raise DeepdanceError(
                f"data.target_frames={sequences.target_frames} must equal "
                f"model.rollout_loss_steps={self.training_loss.steps} (the targets of each training window)"
            )

    def setup(self, stage: str) -> None:
        """Take the datamodule's videos (its public ``sequences()``), once."""
        datamodule = self.trainer.datamodule if self.trainer is not None else None
        if datamodule is None or self.table is not None:
            return
        self.use_sequences(datamodule.sequences(stage), fit=stage == "fit")

    def use_sequences(self, sequences: SilhouetteSequences, fit: bool = False) -> None:
        """Encode every frame of ``sequences`` once; with ``fit``, standardise the latents with the
        train split's statistics and fit the ridge baseline on its windows (a conditioned model
        also records the genres the train split holds)."""
        self._check_data(sequences)
        # A conditioned model reads every video's genre (or stops on the first without one).
        if self.genre_condition is not None:
            self.genre_condition.use_videos(sequences, fit)
        self.sequences = sequences
        self.table = LatentTable.encode(self.encode_frames, sequences.videos)
        if fit:
            train = self.table.of_segments(sequences.segments["train"])
            self.latent_mean.copy_(train.mean(0))
            self.latent_std.copy_(train.std(0).clamp(min=1e-4))
            context, target, videos = self.table.segment_windows(
                sequences.segments["train"], self.hparams.look_back
            )
            genre = self.video_genres(videos)
            self.ridge.fit(self.normalize(context), self.normalize(target), genre)
            log.info(
                "latents: %d frames encoded; ridge fitted on %d train windows", len(self.table), len(target)
            )

    def data(self) -> SilhouetteSequences:
        """The datamodule's videos and splits, refused in one line before ``use_sequences``."""
        if self.sequences is None or self.table is None:
            raise DeepdanceError(
                "the latent LSTM needs its datamodule's videos: "
                "run it through a Trainer with a datamodule, or call use_sequences"
            )
        return self.sequences

    def video_genres(self, videos: torch.Tensor) -> torch.Tensor | None:
        """(N,) class index of each window's video for a conditioned model, else None."""
        if self.genre_condition is None:
            return None
        classes = torch.tensor(self.genre_condition.video_classes, dtype=torch.long)
        return classes[videos].to(self.device)

    def window_genres(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """(B,) class index of each window's genre for a conditioned model, else None."""
        if self.genre_condition is None:
            return None
        return self.genre_condition.of_labels(batch["genre"]).to(self.device)

    def genre_class(self, genre: str | None) -> torch.Tensor | None:
        """(1,) class index of a requested genre, None for an unconditioned model asked for
        none; any other request is a one-line error naming the genres that are accepted."""
        if self.genre_condition is not None:
            return self.genre_condition.of_name(genre)
        if genre is None:
            return None
        raise DeepdanceError(
            f"genre={genre}: this checkpoint is not genre-conditioned (trained with model.condition=null), "
            "so it accepts no genre; leave genre out, or train the LSTM with model.condition=genre"
        )

    def batch_latents(self, batch: dict[str, torch.Tensor], targets: int = 1) -> torch.Tensor:
        """Raw latents of each window, (B, L + targets, D), ending at its ``target`` frame; a
        time-warped window (``positions``: fractional frame indices) reads them interpolated."""
        if self.table is None:
            self.data()
        if "positions" in batch:
            return self.table.interpolated(batch["video"], batch["positions"]).to(self.device)
        span = self.hparams.look_back + targets
        return self.table.windows(batch["video"], batch["target"] + 1, span).to(self.device)

    # ----------------------------------------------------------------------- forecasts
    def forward(self, context: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        """Raw latents (B, L, D) (and a conditioned model's (B,) genres) -> raw next latent (B, D)."""
        return self.denormalize(self.lstm(self.normalize(context), genre))

    def ridge_forecast(self, context: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        return self.denormalize(self.ridge(self.normalize(context), genre))

    @torch.no_grad()
    def rollout(
        self,
        context: torch.Tensor,
        steps: int,
        genre: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        noise: float = 0.0,
    ) -> torch.Tensor:
        """Raw latents (B, L, D) -> the next ``steps`` raw latents (B, steps, D), each fed back:
        the forecast, or with a mixture head a draw from ``generator``. Rolled out in standardised
        units, so ``noise`` (added to each fed-back latent) is a fraction of each latent's spread."""
        step = partial(self.lstm.sample_next, genre=genre, generator=generator)
        predicted = feed_back(step, self.normalize(context), steps, noise=noise, generator=generator)
        return self.denormalize(predicted)

    def sampling_generator(self) -> torch.Generator | None:
        """A fresh generator for a mixture head's evaluation rollouts (None: nothing is drawn)."""
        if self.hparams.get("head", "point") == "point":
            return None
        return torch.Generator(device=self.device).manual_seed(SAMPLING_SEED)

    # ----------------------------------------------------------------------- steps
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        z = self.normalize(self.batch_latents(batch, self.training_loss.steps))
        loss = self.training_loss.loss(self.lstm, z, self.window_genres(batch))
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(z))
        return loss

    def _eval_step(self, split: str, batch: dict[str, torch.Tensor]) -> None:
        z = self.batch_latents(batch)
        prediction = self(z[:, :-1], self.window_genres(batch))
        loss = F.mse_loss(self.normalize(prediction), self.normalize(z[:, -1]))
        self.log(
            f"{split}/loss",
            loss,
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=len(z),
            sync_dist=True,
        )
        self.evaluator.update(self, split, batch, z, prediction)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("val", batch)

    def on_validation_epoch_end(self) -> None:
        self.log_dict(self.evaluator.compute("val"), sync_dist=True)
        if self.sequences is not None:
            self.log_dict(self.evaluator.liveliness(self, "val"), sync_dist=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("test", batch)

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.evaluator.compute("test"), sync_dist=True)
        self.log_dict(self.evaluator.test_metrics(self, self.data().segments["test"]), sync_dist=True)
