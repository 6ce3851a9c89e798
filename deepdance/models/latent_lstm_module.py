"""Train the latent LSTM on a frozen autoencoder's latents; judge it in pixels against baselines.

Every frame is encoded once (the encoder is frozen), so an epoch costs only the LSTM. A
checkpoint holds the autoencoder's weights, its architecture and the preprocessing settings
beside the LSTM: ``deepdance.generate`` needs nothing else.

Validation and test decode each prediction and compare it with the real next frame (MSE,
IoU, SSIM) next to, on the very same frames: the real last frame repeated (``_repeat``),
linear extrapolation of the last two latents (``_extrap``), a ridge regression from the same
latents (``_ridge``), and the autoencoder's reconstruction of the true next frame
(``_recon``, the floor any latent forecaster can reach). Test also rolls the LSTM out from
every test position and reports the error after 1, 5, 10 and 30 steps.

With ``condition="genre"`` the LSTM and the ridge baseline read each window's genre (from its
video's AIST++ name), and every rollout is steered by the genre of the video it starts in;
``genre_class`` turns a requested genre into the class index ``deepdance.generate`` rolls with.

Against rollouts that freeze into a pose (``rollout_training``, ``mixture_head``; every one off by
default): ``rollout_loss_steps`` trains over a short rollout of the LSTM's own predictions
(``scheduled_sampling`` feeds back the truth at times), ``input_noise`` perturbs what it reads,
``head="mdn"`` makes its output a mixture that rollouts sample. Every validation measures the
motion of free-running rollouts from a few val windows (``val/liveliness_ratio``: no ground truth
needed, so also where the split is shorter than the rollout), so a remedy is chosen without the
test split; test measures it from every test window (``test/liveliness{H}_ratio``, beside the
rollout errors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from deepdance.data.silhouette.preprocess import SilhouetteSettings
from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.base import DeepdanceModule
from deepdance.models.generation_metrics import frame_changes
from deepdance.models.genre_condition import GenreCondition, check_condition
from deepdance.models.latent_lstm import HEADS, LatentLSTM, RidgeForecaster, extrapolate, rollout
from deepdance.models.rollout_training import RolloutTraining
from deepdance.models.silhouette_metrics import frame_iou, silhouette_metrics

log = logging.getLogger(__name__)

METHODS = {"model": "", "repeat": "_repeat", "extrap": "_extrap", "ridge": "_ridge", "recon": "_recon"}
# Free-running rollouts for val/liveliness: from evenly spaced windows of the split.
VAL_ROLLOUTS = 8
# A mixture head's rollouts in validation and test draw from this seed: comparable epochs.
SAMPLING_SEED = 0

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences
    from deepdance.models.dance_generator import Dance


def read_autoencoder_checkpoint(
    path: str | Path,
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """(architecture, weights, preprocessing settings) of an autoencoder checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise DeepdanceError(
            f"model.autoencoder_ckpt={path}: no such checkpoint file (train one with "
            "experiment=deep_dance_ae)"
        )
    from deepdance.utils.checkpoints import load_checkpoint

    # data only: refuses pickled code
    checkpoint = load_checkpoint(path, setting="model.autoencoder_ckpt")
    net = checkpoint.get("hyper_parameters", {}).get("net")
    data = checkpoint.get("deepdance", {}).get("data")
    if net is None or data is None:
        raise DeepdanceError(
            f"{path}: not a silhouette autoencoder checkpoint written by deepdance.train (no net settings "
            "or data metadata)"
        )
    weights = {k[len("net.") :]: v for k, v in checkpoint["state_dict"].items() if k.startswith("net.")}
    return dict(net), weights, SilhouetteSettings.from_config(data).to_json()


class LatentLSTMModule(DeepdanceModule):
    """Windows ``{"frames": (B, L + 1, H, W) uint8, "video", "target", "genre"}`` -> next-frame
    forecasts.

    The whole videos come from the datamodule's ``sequences()`` (encoded once in ``setup``);
    ``rollout_dance`` makes the short validation rollout the ``RolloutVideo`` callback writes."""

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
            autoencoder, weights, preprocessing = read_autoencoder_checkpoint(autoencoder_ckpt)
        if autoencoder is None or preprocessing is None:
            raise DeepdanceError(
                "model.autoencoder_ckpt is required: the path of a checkpoint from experiment=deep_dance_ae"
            )
        if look_back < 2:
            raise DeepdanceError(
                f"model.look_back={look_back} must be >= 2 (the extrapolation baseline needs two latents)"
            )
        classes = check_condition(condition, genres)
        # Stored only when conditioned: an unconditioned checkpoint keeps its hyper-parameters.
        conditioning = {"condition": condition, "genre_dim": genre_dim, "genres": classes} if classes else {}
        if head not in HEADS:
            raise DeepdanceError(f"model.head={head!r} is not known; use {' or '.join(HEADS)}")
        if head == "mdn" and (not isinstance(mixtures, int) or mixtures < 1):
            raise DeepdanceError(f"model.mixtures={mixtures!r} must be an integer >= 1 (model.head=mdn)")
        self.training_loss = RolloutTraining(
            rollout_loss_steps, float(scheduled_sampling), float(input_noise), float(context_dropout)
        )
        # Like conditioning: stored only when set, so a default checkpoint keeps its hyper-parameters.
        remedies = {"head": head, "mixtures": mixtures} if head != "point" else {}
        if not self.training_loss.is_default:
            remedies.update(
                rollout_loss_steps=rollout_loss_steps,
                scheduled_sampling=scheduled_sampling,
                input_noise=input_noise,
            )
        # Newer than the others: stored only when set, so checkpoints of those recipes are unchanged.
        if context_dropout:
            remedies["context_dropout"] = context_dropout
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
            **conditioning,
            **remedies,
        )
        net, autoencoder = self.hparams.net, self.hparams.autoencoder
        self.autoencoder = SilhouetteAutoencoder(**autoencoder)
        if weights is not None:
            self.autoencoder.load_state_dict(weights)
        self.autoencoder.requires_grad_(False)
        latent_dim = self.autoencoder.config["latent_dim"]
        num_genres = len(classes) if classes else 0
        self.lstm = LatentLSTM(
            latent_dim=latent_dim,
            **net,
            num_genres=num_genres,
            genre_dim=genre_dim,
            head=head,
            mixtures=mixtures,
        )
        self.ridge = RidgeForecaster(look_back, latent_dim, ridge_alpha, num_genres)
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))
        self.register_buffer(
            "latent_table", torch.zeros(0, latent_dim), persistent=False
        )  # every frame's latent
        self.video_offsets: list[int] = []
        # The datamodule's whole videos and splits, from setup.
        self.sequences: SilhouetteSequences | None = None
        self.metrics = torch.nn.ModuleDict(
            {
                f"{split}_{method}": silhouette_metrics(full=False)
                for split in ("val", "test")
                for method in METHODS
            }
        )
        # A conditioned model's genres: its classes, the trained ones, each video's (None: unconditioned).
        self.genre_condition = GenreCondition(classes) if classes else None

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
        if datamodule is None or self.video_offsets:
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
        latents = [self.encode_frames(frames) for frames in sequences.videos]
        self.video_offsets = list(np.cumsum([0] + [len(z) for z in latents[:-1]]))
        self.latent_table = torch.cat(latents)
        if fit:
            train = torch.cat([latents[s.video][s.start : s.stop] for s in sequences.segments["train"]])
            self.latent_mean.copy_(train.mean(0))
            self.latent_std.copy_(train.std(0).clamp(min=1e-4))
            context, target, videos = self._segment_windows(sequences.segments["train"])
            genre = self._video_genres(videos)
            self.ridge.fit(self.normalize(context), self.normalize(target), genre)
            log.info(
                "latents: %d frames encoded; ridge fitted on %d train windows",
                len(self.latent_table),
                len(target),
            )

    def _segment_windows(self, segments: list[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """All (context, target) latent windows whose target lies in ``segments``, and the
        video each is cut from."""
        L = self.hparams.look_back
        targets = [(s.video, t) for s in segments for t in range(max(s.start, L), s.stop)]
        videos = torch.tensor([v for v, _ in targets], dtype=torch.long)
        index = torch.tensor([self.video_offsets[v] + t for v, t in targets], dtype=torch.long)
        window = index[:, None] + torch.arange(-L, 1)  # (N, L + 1)
        z = self.latent_table[window.to(self.latent_table.device)]
        return z[:, :L], z[:, L], videos

    def _video_genres(self, videos: torch.Tensor) -> torch.Tensor | None:
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
        """Cached raw latents of each window, (B, L + targets, D), ending at its ``target`` frame.

        A time-warped window (``positions``: its frames' fractional indices) reads each latent
        linearly interpolated between the two cached frames around it."""
        table = self.latent_table
        offsets = torch.tensor(self.video_offsets, device=table.device)[batch["video"].to(table.device)]
        if "positions" in batch:
            positions = offsets[:, None] + batch["positions"].to(table.device, torch.float64)
            below = positions.floor().long()  # (B, n)
            above = positions.ceil().long()
            weight = (positions - below).to(table.dtype)[..., None]  # (B, n, 1)
            return (table[below] * (1 - weight) + table[above] * weight).to(self.device)
        span = self.hparams.look_back + targets - 1
        index = (offsets + batch["target"].to(offsets.device))[:, None] + torch.arange(
            -span, 1, device=offsets.device
        )
        return table[index].to(self.device)

    # ----------------------------------------------------------------------- steps
    def forward(self, context: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        """Raw latents (B, L, D) (and a conditioned model's (B,) genres) -> raw next latent (B, D)."""
        return self.denormalize(self.lstm(self.normalize(context), genre))

    def ridge_forecast(self, context: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        return self.denormalize(self.ridge(self.normalize(context), genre))

    def rollout_step(
        self, genre: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """Raw latents (B, L, D) -> the raw latent a rollout feeds back: the forecast, or with a
        mixture head a draw from ``generator`` (as generation draws)."""

        def step(context: torch.Tensor) -> torch.Tensor:
            return self.denormalize(self.lstm.sample_next(self.normalize(context), genre, generator))

        return step

    def sampling_generator(self) -> torch.Generator | None:
        """A fresh generator for a mixture head's evaluation rollouts (None: nothing is drawn)."""
        if self.hparams.get("head", "point") == "point":
            return None
        return torch.Generator(device=self.device).manual_seed(SAMPLING_SEED)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        z = self.normalize(self.batch_latents(batch, self.training_loss.steps))
        loss = self.training_loss.loss(self.lstm, z, self.window_genres(batch))
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(z))
        return loss

    def _eval_step(self, split: str, batch: dict[str, torch.Tensor]) -> None:
        z = self.batch_latents(batch)
        context, true_next = z[:, :-1], z[:, -1]
        genre = self.window_genres(batch)
        pred = self(context, genre)
        self.log(
            f"{split}/loss",
            F.mse_loss(self.normalize(pred), self.normalize(true_next)),
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=len(z),
            sync_dist=True,
        )
        frames = batch["frames"].float()[:, :, None] / 255.0  # (B, L + 1, 1, H, W)
        target = frames[:, -1]
        candidates = {
            "model": self.decode(pred),
            "repeat": frames[:, -2],
            "extrap": self.decode(extrapolate(context)),
            "ridge": self.decode(self.ridge_forecast(context, genre)),
            "recon": self.decode(true_next),
        }
        for method, frame in candidates.items():
            self.metrics[f"{split}_{method}"].update(frame, target)

    def _log_metrics(self, split: str) -> None:
        values = {}
        for method, suffix in METHODS.items():
            for name, value in self.metrics[f"{split}_{method}"].compute().items():
                values[f"{split}/next_{name}{suffix}"] = value
            self.metrics[f"{split}_{method}"].reset()
        self.log_dict(values, sync_dist=True)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("val", batch)

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")
        if self.sequences is not None:
            self.log_dict(self.free_liveliness("val"), sync_dist=True)

    @torch.no_grad()
    def free_liveliness(self, split: str, rollouts: int = VAL_ROLLOUTS) -> dict[str, float]:
        """``{split}/liveliness``: the mean silhouette change per step of ``rollouts`` LSTM
        rollouts over the longest rollout horizon, seeded from evenly spaced windows of
        ``split``; ``{split}/liveliness_real``: the real frames' change per step in ``split``;
        ``{split}/liveliness_ratio``: the first over the second. The ridge and extrapolation
        rollouts from the same windows are measured too (``_ridge``, ``_extrap``).

        Free-running: the rollouts need no ground truth, so they may run past the split's end
        (the real clips' val and test parts are shorter than 30 steps). Cheap enough for every
        validation, so a remedy against freezing is chosen without the test split."""
        sequences = self._sequences()
        L, horizon = self.hparams.look_back, self.hparams.rollout_horizons[-1]
        segments = sequences.segments[split]
        starts = [(s.video, t) for s in segments for t in range(max(s.start, L), s.stop)]
        if not starts:
            return {}
        picks = np.linspace(0, len(starts) - 1, min(rollouts, len(starts))).round().astype(int)
        videos = torch.tensor([starts[i][0] for i in picks])
        index = torch.tensor([self.video_offsets[v] + t for v, t in (starts[i] for i in picks)])
        context = self.latent_table[index[:, None] + torch.arange(-L, 0)].to(self.device)  # (R, L, D)
        genre = self._video_genres(videos)
        forecasters = {
            "": self.rollout_step(genre, self.sampling_generator()),
            "_ridge": partial(self.ridge_forecast, genre=genre),
            "_extrap": extrapolate,
        }
        real = [
            frame_changes(self._video_frames(sequences.videos[s.video], torch.arange(s.start, s.stop)).cpu())
            for s in segments
            if len(s) > 1
        ]
        real_motion = float(torch.cat(real).mean()) if real else 0.0
        metrics = {f"{split}/liveliness_real": real_motion}
        for suffix, step in forecasters.items():
            predicted = rollout(step, context, horizon)  # (R, H, D)
            # step 0: the last context latent, decoded like the rollout
            frames = self.decode(torch.cat([context[:, -1:], predicted], dim=1)).clamp(0, 1)
            moving = float(frame_changes(frames.cpu()).mean())
            metrics[f"{split}/liveliness{suffix}"] = moving
            if real_motion > 0:
                metrics[f"{split}/liveliness_ratio{suffix}"] = moving / real_motion
        return metrics

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("test", batch)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")
        self.log_dict(self.rollout_errors(self._sequences().segments["test"]), sync_dist=True)

    def _sequences(self) -> SilhouetteSequences:
        if self.sequences is None:
            raise DeepdanceError(
                "the latent LSTM needs its datamodule's videos: "
                "run it through a Trainer with a datamodule, or call use_sequences"
            )
        return self.sequences

    # --------------------------------------------------------------------- rollouts
    @torch.no_grad()
    def rollout_errors(self, segments: list[Any], batch_size: int = 256) -> dict[str, float]:
        """Roll out from every position of ``segments`` (context = the real frames before it)
        and measure the decoded frame after h steps against the real one, for each horizon h
        that fits in the segment. The LSTM's rollout is scored beside the ridge and linear
        extrapolation rollouts from the same windows and the held real last frame (repeat); a
        conditioned LSTM and ridge roll out in the genre of the segment's video.

        Every rollout also runs the longest horizon, also where the segment is shorter (no real
        frame is needed), for liveliness (``generation_metrics``): the mean silhouette change per
        step of each rollout, against that of the real test frames and of their autoencoder
        reconstructions (``_recon``: how much motion the decoder can show at all), and each
        rollout's ratio to real motion, so a rollout that freezes into a pose reads as 0."""
        L, horizons = self.hparams.look_back, self.hparams.rollout_horizons
        sums: dict[str, list[float]] = {}
        motion: dict[str, list[float]] = {}
        videos = self._sequences().videos
        generator = self.sampling_generator()
        for seg in segments:
            offset = self.video_offsets[seg.video]
            starts = list(range(max(seg.start, L), seg.stop))
            if not starts:
                continue
            usable = [h for h in horizons if starts[0] + h - 1 < seg.stop]
            video = videos[seg.video]
            self._add_real_motion(motion, video, offset, starts[0] - 1, seg.stop)
            for i in range(0, len(starts), batch_size):
                chunk = torch.tensor(starts[i : i + batch_size])
                index = offset + chunk[:, None] + torch.arange(-L, 0)
                context = self.latent_table[index].to(self.device)
                genre = self._video_genres(torch.full((len(chunk),), seg.video))
                forecasters = (
                    ("", self.rollout_step(genre, generator)),
                    ("_ridge", partial(self.ridge_forecast, genre=genre)),
                    ("_extrap", extrapolate),
                )
                # Every forecaster rolls out from the same real windows, over the longest horizon
                # whether or not the segment holds the real frames to compare with: (S, H, D) each.
                predicted = {suffix: rollout(step, context, horizons[-1]) for suffix, step in forecasters}
                for h in usable:
                    keep = (chunk + h - 1 < seg.stop).nonzero().flatten()
                    if len(keep) == 0:
                        continue
                    real = self._video_frames(video, chunk[keep] + h - 1)
                    held = self._video_frames(video, chunk[keep] - 1)
                    candidates = {
                        suffix: self.decode(latents[keep.to(self.device), h - 1])
                        for suffix, latents in predicted.items()
                    }
                    candidates["_repeat"] = held
                    for name, pred in candidates.items():
                        acc = sums.setdefault(f"{h}{name}", [0.0, 0.0, 0.0])
                        acc[0] += float(((pred - real) ** 2).flatten(1).mean(1).sum())
                        acc[1] += float(frame_iou(pred, real).sum())
                        acc[2] += len(keep)
                self._add_rollout_motion(motion, self._video_frames(video, chunk - 1), predicted)
        metrics = {}
        for key, (mse, iou, n) in sums.items():
            h, _, name = key.partition("_")
            suffix = f"_{name}" if name else ""
            metrics[f"test/rollout{h}_mse{suffix}"] = mse / n
            metrics[f"test/rollout{h}_iou{suffix}"] = iou / n
        metrics.update(self._liveliness_metrics(motion, horizons[-1]))
        skipped = [h for h in horizons if f"{h}" not in sums]
        if skipped:
            log.warning("test segments are too short for rollout horizons %s: not reported", skipped)
        return metrics

    def _video_frames(self, video: Any, index: torch.Tensor) -> torch.Tensor:
        """Real frames at ``index`` (any shape) as floats in [0, 1] with a channel axis: (..., 1, H, W)."""
        frames = np.asarray(video[index.flatten().numpy()])
        return (
            torch.as_tensor(frames, device=self.device).float().view(*index.shape, 1, *frames.shape[1:]) / 255
        )

    def _add_real_motion(
        self, motion: dict[str, list[float]], video: Any, offset: int, first: int, stop: int
    ) -> None:
        """Add the per-step change of the real frames ``first .. stop - 1`` and of their
        autoencoder reconstructions (``_recon``) to the motion sums (summed change, steps)."""
        if stop - first < 2:
            return
        steps = torch.arange(first, stop)
        real = self._video_frames(video, steps)
        recon = self.decode(self.latent_table[offset + steps].to(self.device))
        for suffix, frames in (("_real", real), ("_recon", recon)):
            acc = motion.setdefault(suffix, [0.0, 0.0])
            acc[0] += float(frame_changes(frames.clamp(0, 1).cpu()).sum())
            acc[1] += len(steps) - 1

    def _add_rollout_motion(
        self, motion: dict[str, list[float]], held: torch.Tensor, predicted: dict[str, torch.Tensor]
    ) -> None:
        """Add each rollout's per-step change to the motion sums. Step 1 is the change from the
        last real context frame ``held`` (S, 1, H, W) to the first generated frame; holding that
        frame (``_repeat``) never moves."""
        for suffix, latents in predicted.items():
            count, horizon = latents.shape[:2]
            frames = self.decode(latents.flatten(0, 1)).view(count, horizon, *held.shape[1:])
            sequence = torch.cat([held[:, None], frames], dim=1)
            acc = motion.setdefault(suffix, [0.0, 0.0])
            acc[0] += float(frame_changes(sequence.clamp(0, 1).cpu()).sum())
            acc[1] += count * horizon
        acc = motion.setdefault("_repeat", [0.0, 0.0])
        acc[1] += len(held) * next(iter(predicted.values())).shape[1]

    @staticmethod
    def _liveliness_metrics(motion: dict[str, list[float]], horizon: int) -> dict[str, float]:
        """``test/liveliness{H}{suffix}`` per source and ``test/liveliness{H}_ratio{suffix}``
        (a rollout's motion over the real frames' motion) per forecaster."""
        if not motion:
            return {}
        per_step = {suffix: total / steps for suffix, (total, steps) in motion.items()}
        metrics = {f"test/liveliness{horizon}{suffix}": value for suffix, value in per_step.items()}
        real = per_step.get("_real", 0.0)
        for suffix in ("", "_ridge", "_extrap", "_repeat", "_recon"):
            if real > 0 and suffix in per_step:
                metrics[f"test/liveliness{horizon}_ratio{suffix}"] = per_step[suffix] / real
        return metrics

    @torch.no_grad()
    def rollout_dance(self, steps: int, split: str = "val") -> Dance:
        """A ``steps``-step rollout seeded with the first real window of ``split`` (in its video's
        genre, for a conditioned model), decoded and marked."""
        from deepdance.models.dance_generator import DanceGenerator

        sequences = self._sequences()
        segment = sequences.segments[split][0]
        L = self.hparams.look_back
        start = self.video_offsets[segment.video] + max(segment.start, L)
        context = self.latent_table[start - L : start]
        genre = sequences.genres[segment.video] if self.genre_condition is not None else None
        # a mixture head draws from its own seed: the training's random stream is left alone
        draws = self.sampling_generator()
        return DanceGenerator(self).generate(context.to(self.device), steps, genre=genre, generator=draws)
