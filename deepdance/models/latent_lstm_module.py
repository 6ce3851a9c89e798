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
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from deepdance.config.base import parse
from deepdance.config.model import LatentLSTMConfig
from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.base import DeepdanceModule
from deepdance.models.genre_condition import GenreCondition, check_condition
from deepdance.models.latent_lstm import LatentLSTM, RidgeForecaster
from deepdance.models.latent_lstm import rollout as feed_back
from deepdance.models.latent_table import AutoencoderCheckpoint, LatentTable, read_autoencoder_checkpoint
from deepdance.models.rollout_evaluator import RolloutEvaluator
from deepdance.models.rollout_training import RolloutTraining

log = logging.getLogger(__name__)

# A mixture head's rollouts in validation and test draw from this seed: comparable epochs.
SAMPLING_SEED = 0
# model.autoencoder_ckpt of a module rebuilt from stored settings that never named the file
STORED_AUTOENCODER = "(stored with the LSTM)"

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences


class LatentLSTMModule(DeepdanceModule):
    """Windows ``{"frames": (B, L + 1, H, W) uint8, "video", "target", "genre"}`` -> next-frame
    forecasts. The whole videos come from the datamodule's ``sequences()``, encoded once."""

    config_class = LatentLSTMConfig
    # what the data must be preprocessed like (named in the refusal)
    data_owner = "autoencoder"

    def __init__(
        self,
        config: LatentLSTMConfig,
        autoencoder: AutoencoderCheckpoint | None = None,
        genres: Sequence[str] | None = None,
    ) -> None:
        """``autoencoder``: the frozen autoencoder (None: read from ``config.autoencoder_ckpt``);
        ``genres``: a conditioned model's class list (None: the ten AIST++ genres)."""
        super().__init__()
        classes = check_condition(config.condition, genres)
        self.config = config.model_copy(update={"rollout_horizons": sorted(config.rollout_horizons)})
        self.training_loss = RolloutTraining(
            config.rollout_loss_steps,
            config.scheduled_sampling,
            config.input_noise,
            config.context_dropout,
            config.auto_condition,
        )
        stored, weights = self.frame_source(config, autoencoder)
        self.save_config(self.config, **stored, **({"genres": classes} if classes else {}))
        self._build(weights, classes)

    def frame_source(
        self, config: LatentLSTMConfig, autoencoder: AutoencoderCheckpoint | None
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None]:
        """What turns frames into latents, as stored hyper-parameters, and its weights: the frozen
        autoencoder. The checkpoint carries it: generate and eval need nothing else."""
        frozen = autoencoder or read_autoencoder_checkpoint(config.autoencoder_ckpt)
        return {"autoencoder": frozen.net, "preprocessing": frozen.preprocessing}, frozen.weights

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any], from_checkpoint: bool = False) -> LatentLSTMModule:
        """The module from flat settings; a checkpoint's (or a test's) ``autoencoder`` and
        ``preprocessing`` stand in for ``autoencoder_ckpt``, whose file is then never read."""
        settings = cls.settings(hparams)
        genres = settings.pop("genres", None)
        autoencoder = None
        if "autoencoder" in settings and "preprocessing" in settings:
            autoencoder = AutoencoderCheckpoint(
                settings.pop("autoencoder"), None, settings.pop("preprocessing")
            )
            settings["autoencoder_ckpt"] = settings.get("autoencoder_ckpt") or STORED_AUTOENCODER
        return cls(parse(LatentLSTMConfig, settings, "model"), autoencoder, genres)

    def build_frame_source(self, weights: dict[str, torch.Tensor] | None) -> int:
        """The frozen autoencoder; the latent size."""
        self.autoencoder = SilhouetteAutoencoder(**self.hparams.autoencoder)
        if weights is not None:
            self.autoencoder.load_state_dict(weights)
        self.autoencoder.requires_grad_(False)
        return self.autoencoder.config["latent_dim"]

    def _build(self, weights: dict[str, torch.Tensor] | None, classes: list[str] | None) -> None:
        """The frame source, the LSTM, the ridge baseline and the latents' statistics."""
        config = self.config
        latent_dim = self.build_frame_source(weights)
        num_genres = len(classes) if classes else 0
        self.lstm = LatentLSTM(
            latent_dim=latent_dim,
            **self.hparams.net,
            num_genres=num_genres,
            genre_dim=config.genre_dim,
            head=config.head,
            mixtures=config.mixtures,
        )
        # a baseline fitted on the train windows, saved with the weights it is compared with
        self.ridge = RidgeForecaster(config.look_back, latent_dim, config.ridge_alpha, num_genres)
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))
        self.evaluator = self.make_evaluator()
        # A conditioned model's genres: its classes, the trained ones, each video's (None: unconditioned).
        self.genre_condition = GenreCondition(classes) if classes else None
        # Every frame's latent and the datamodule's videos and splits, from ``use_sequences``.
        self.table: LatentTable | None = None
        self.sequences: SilhouetteSequences | None = None

    def make_evaluator(self) -> RolloutEvaluator:
        """What measures this model in validation and test: decoded frames, in pixels."""
        return RolloutEvaluator()

    def train(self, mode: bool = True) -> LatentLSTMModule:
        super().train(mode)
        if self.autoencoder is not None:
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
            owner = self.data_owner
            detail = ", ".join(f"data.{k}={theirs.get(k)} ({owner}: {ours[k]})" for k in differ)
            raise DeepdanceError(
                f"the data is preprocessed unlike the {owner}'s training data: {detail}; use the "
                f"{owner}'s settings"
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
        if self.config.head == "point":
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
