"""Judge the latent LSTM in pixels, beside its baselines, on the very same windows.

Baselines (summary-key suffixes): ``_repeat`` holds the real last frame, ``_extrap`` continues
the last two latents linearly, ``_ridge`` is a ridge regression from the same latents, and
``_recon`` is the autoencoder's reconstruction of the true frame (the floor any latent
forecaster can reach). ``forecasters`` is the one table of rolled-out methods; the generation
scorer (``generation_scoring``) rolls out the same table.

* **one step** (validation and test batches): ``{split}/next_{mse,iou,ssim}{suffix}``;
* **rollout errors** (test): from every test window, the decoded frame after h steps against
  the real one, ``test/rollout{h}_{mse,iou}{suffix}``, for each horizon h the segment holds;
* **liveliness**: one definition, ``liveliness``: the mean silhouette change per step of
  rollouts over the longest horizon, each clip starting at the real last seed frame (as
  ``generation_metrics.liveliness`` scores a generated clip), against the real frames' change
  from the first window on. The window choice is the parameter: validation rolls out from
  ``VAL_ROLLOUTS`` evenly spaced windows (``val/liveliness*``), test from every window
  (``test/liveliness{H}*``, beside the rollout errors, from the same rollouts).

Liveliness needs no ground truth after the seed, so rollouts run past a segment's end: the real
clips' val and test parts are often shorter than 30 steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import nn

from deepdance.models.generation_metrics import frame_changes
from deepdance.models.latent_lstm import extrapolate, rollout
from deepdance.models.silhouette_metrics import frame_iou, silhouette_metrics

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences
    from deepdance.data.silhouette.datamodule import Segment
    from deepdance.models.latent_table import LatentTable

log = logging.getLogger(__name__)

# One-step methods by summary-key suffix.
METHODS = {"model": "", "repeat": "_repeat", "extrap": "_extrap", "ridge": "_ridge", "recon": "_recon"}
# Free-running rollouts for val/liveliness: from evenly spaced windows of the split.
VAL_ROLLOUTS = 8
# Liveliness sources with a ratio to real motion.
RATIO_SOURCES = ("", "_ridge", "_extrap", "_repeat", "_recon")

# (B, L, D) raw context latents, steps -> (B, steps, D) raw latents
Roll = Callable[[torch.Tensor, int], torch.Tensor]


class MeasuredModel(Protocol):
    """What the evaluator reads of the model it measures (``latent_lstm_module.LatentLSTMModule``)."""

    device: torch.device
    hparams: Any
    table: LatentTable | None

    def data(self) -> SilhouetteSequences: ...
    def decode(self, z: torch.Tensor) -> torch.Tensor: ...
    def rollout(
        self,
        context: torch.Tensor,
        steps: int,
        genre: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        noise: float = 0.0,
    ) -> torch.Tensor: ...
    def ridge_forecast(self, context: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor: ...
    def sampling_generator(self) -> torch.Generator | None: ...
    def video_genres(self, videos: torch.Tensor) -> torch.Tensor | None: ...
    def window_genres(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None: ...


def forecasters(
    model: MeasuredModel, genre: torch.Tensor | None, generator: torch.Generator | None = None
) -> dict[str, Roll]:
    """The rolled-out methods by suffix: the LSTM (its own ``rollout``), the ridge and linear
    extrapolation, each in ``genre`` where it reads one."""
    return {
        "": partial(model.rollout, genre=genre, generator=generator),
        "_ridge": lambda context, steps: rollout(partial(model.ridge_forecast, genre=genre), context, steps),
        "_extrap": lambda context, steps: rollout(extrapolate, context, steps),
    }


@dataclass
class RolloutChunk:
    """Rollouts from windows of one segment: ``starts`` (S,) their first predicted frame,
    ``held`` (S, 1, H, W) the real frame before it, ``predicted`` (S, H, D) raw latents per method."""

    segment: Segment
    video: Any
    starts: torch.Tensor
    held: torch.Tensor
    predicted: dict[str, torch.Tensor]


@dataclass
class MotionSums:
    """Summed per-step silhouette change and step count per source (suffix)."""

    sums: dict[str, list[float]] = field(default_factory=dict)

    def add(self, suffix: str, frames: torch.Tensor) -> None:
        """Add the steps of (..., T, 1, H, W) frames in [0, 1]."""
        changes = frame_changes(frames.clamp(0, 1).cpu())
        acc = self.sums.setdefault(suffix, [0.0, 0.0])
        acc[0] += float(changes.sum())
        acc[1] += changes.numel()

    def add_still(self, suffix: str, steps: int) -> None:
        """Add ``steps`` steps without change (the held frame)."""
        self.sums.setdefault(suffix, [0.0, 0.0])[1] += steps

    def metrics(self, prefix: str) -> dict[str, float]:
        """``{prefix}{suffix}`` per source and ``{prefix}_ratio{suffix}`` against ``_real``."""
        per_step = {suffix: total / steps for suffix, (total, steps) in self.sums.items() if steps}
        metrics = {f"{prefix}{suffix}": value for suffix, value in per_step.items()}
        real = per_step.get("_real", 0.0)
        for suffix in RATIO_SOURCES:
            if real > 0 and suffix in per_step:
                metrics[f"{prefix}_ratio{suffix}"] = per_step[suffix] / real
        return metrics


def video_frames(video: Any, index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Real frames at ``index`` (any shape) as floats in [0, 1]: (..., 1, H, W)."""
    frames = np.asarray(video[index.flatten().numpy()])
    return torch.as_tensor(frames, device=device).float().view(*index.shape, 1, *frames.shape[1:]) / 255


def spread(starts: list[tuple[Segment, list[int]]], count: int | None) -> list[tuple[Segment, list[int]]]:
    """``count`` windows evenly spaced over all of ``starts`` (every one with None), by segment."""
    if count is None:
        return starts
    flat = [(seg, t) for seg, ts in starts for t in ts]
    picks = np.linspace(0, len(flat) - 1, min(count, len(flat))).round().astype(int)
    chosen: dict[int, tuple[Segment, list[int]]] = {}
    for i in picks:
        seg, t = flat[i]
        chosen.setdefault(id(seg), (seg, []))[1].append(t)
    return list(chosen.values())


class RolloutEvaluator(nn.Module):
    """The LSTM's evaluation: one-step metrics (torchmetrics, one set per split and method),
    rollout errors and liveliness. The model is passed to each call: it holds the evaluator.

    In pixels of decoded silhouettes; a subclass judging other frames (poses) overrides the hooks
    ``frames_at``, ``frame_errors`` and ``motion_sums`` and the names ``ERRORS``."""

    # the two rollout errors of ``frame_errors``, by name
    ERRORS = ("mse", "iou")
    # the decoder's reconstruction of the real frames is a source of liveliness (``_recon``)
    RECONSTRUCTS = True

    def __init__(
        self,
        metrics: Callable[[], nn.Module] | None = None,
        methods: dict[str, str] = METHODS,
    ) -> None:
        """``metrics`` makes one split's one-step metrics of one method (None: in pixels)."""
        super().__init__()
        self.methods = methods
        make = metrics or partial(silhouette_metrics, full=False)
        self.metrics = nn.ModuleDict(
            {f"{split}_{method}": make() for split in ("val", "test") for method in methods}
        )

    # --------------------------------------------------------------------- hooks
    def frames_at(self, model: MeasuredModel, video: int, index: torch.Tensor) -> torch.Tensor:
        """Real frames ``index`` (any shape) of video ``video``, as the model's decoded frames are."""
        return video_frames(model.data().videos[video], index, model.device)

    def frame_errors(self, pred: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per item, the two ``ERRORS`` of predicted frames against real ones."""
        return (pred - real).pow(2).flatten(1).mean(1), frame_iou(pred, real)

    def motion_sums(self) -> MotionSums:
        return MotionSums()

    # --------------------------------------------------------------------- one step
    @torch.no_grad()
    def update(
        self,
        model: MeasuredModel,
        split: str,
        batch: dict[str, torch.Tensor],
        z: torch.Tensor,
        prediction: torch.Tensor,
    ) -> None:
        """Score the model's (B, D) raw ``prediction`` of the windows' (B, L + 1, D) raw latents
        ``z`` and each baseline's, in pixels against the real next frame."""
        context, true_next = z[:, :-1], z[:, -1]
        frames = batch["frames"].float()[:, :, None] / 255.0  # (B, L + 1, 1, H, W)
        candidates = {
            "model": model.decode(prediction),
            "repeat": frames[:, -2],
            "extrap": model.decode(extrapolate(context)),
            "ridge": model.decode(model.ridge_forecast(context, model.window_genres(batch))),
            "recon": model.decode(true_next),
        }
        for method, frame in candidates.items():
            self.metrics[f"{split}_{method}"].update(frame, frames[:, -1])

    def compute(self, split: str) -> dict[str, float]:
        """``{split}/next_{metric}{suffix}`` of the batches seen since the last call."""
        values = {}
        for method, suffix in self.methods.items():
            for name, value in self.metrics[f"{split}_{method}"].compute().items():
                values[f"{split}/next_{name}{suffix}"] = value
            self.metrics[f"{split}_{method}"].reset()
        return values

    # --------------------------------------------------------------------- rollouts
    def rollouts(
        self, model: MeasuredModel, segments: Sequence[Segment], count: int | None, batch_size: int = 256
    ) -> Iterator[RolloutChunk]:
        """Every method rolled out over the longest horizon from ``count`` evenly spaced windows of
        ``segments`` (every window with None), a conditioned model in the genre of each window's video."""
        look_back, horizon = model.hparams.look_back, model.hparams.rollout_horizons[-1]
        starts = [(seg, list(range(max(seg.start, look_back), seg.stop))) for seg in segments]
        videos = model.data().videos
        # a mixture head draws from its own seed: comparable epochs, the training stream untouched
        generator = model.sampling_generator()
        for seg, seg_starts in spread([(s, t) for s, t in starts if t], count):
            for i in range(0, len(seg_starts), batch_size):
                chunk = torch.tensor(seg_starts[i : i + batch_size])
                owner = torch.full((len(chunk),), seg.video)
                context = model.table.windows(owner, chunk, look_back).to(model.device)
                methods = forecasters(model, model.video_genres(owner), generator)
                predicted = {suffix: roll(context, horizon) for suffix, roll in methods.items()}
                held = self.frames_at(model, seg.video, chunk - 1)
                yield RolloutChunk(seg, videos[seg.video], chunk, held, predicted)

    @staticmethod
    def add_motion(model: MeasuredModel, motion: MotionSums, chunk: RolloutChunk) -> None:
        """Each method's rollout change per step, step 1 from the real last seed frame."""
        for suffix, latents in chunk.predicted.items():
            frames = model.decode(latents)  # (S, H, 1, h, w)
            motion.add(suffix, torch.cat([chunk.held[:, None], frames], dim=1))
        motion.add_still("_repeat", len(chunk.starts) * next(iter(chunk.predicted.values())).shape[1])

    def add_real_motion(self, model: MeasuredModel, motion: MotionSums, seg: Segment, first: int) -> None:
        """The real frames' change from ``first`` (the last seed frame of the segment's first
        window) to the segment's end, and their reconstructions' (``_recon``: what motion the
        decoder can show at all)."""
        if seg.stop - first < 2:
            return
        steps = torch.arange(first, seg.stop)
        motion.add("_real", self.frames_at(model, seg.video, steps))
        if not self.RECONSTRUCTS:
            return
        owner = torch.full((len(steps),), seg.video)
        motion.add(
            "_recon", model.decode(model.table.latents[model.table.rows(owner, steps)].to(model.device))
        )

    def _real_motion(self, model: MeasuredModel, segments: Sequence[Segment]) -> MotionSums:
        motion = self.motion_sums()
        look_back = model.hparams.look_back
        for seg in segments:
            first = max(seg.start, look_back)
            if first < seg.stop:
                self.add_real_motion(model, motion, seg, first - 1)
        return motion

    @torch.no_grad()
    def liveliness(
        self, model: MeasuredModel, split: str, count: int | None = VAL_ROLLOUTS
    ) -> dict[str, float]:
        """``{split}/liveliness{suffix}`` and ``_ratio{suffix}`` of rollouts from ``count`` evenly
        spaced windows of ``split`` (every window with None)."""
        segments = model.data().segments[split]
        motion = self._real_motion(model, segments)
        for chunk in self.rollouts(model, segments, count):
            self.add_motion(model, motion, chunk)
        return motion.metrics(f"{split}/liveliness") if "" in motion.sums else {}

    @torch.no_grad()
    def test_metrics(self, model: MeasuredModel, segments: Sequence[Segment]) -> dict[str, float]:
        """Rollout errors and liveliness from every window of ``segments``, from the same rollouts."""
        horizons = model.hparams.rollout_horizons
        errors: dict[str, list[float]] = {}
        motion = self._real_motion(model, segments)
        for chunk in self.rollouts(model, segments, None):
            self._add_errors(model, errors, chunk, horizons)
            self.add_motion(model, motion, chunk)
        metrics = {}
        for key, (first, second, n) in errors.items():
            h, _, name = key.partition("_")
            suffix = f"_{name}" if name else ""
            metrics[f"test/rollout{h}_{self.ERRORS[0]}{suffix}"] = first / n
            metrics[f"test/rollout{h}_{self.ERRORS[1]}{suffix}"] = second / n
        if motion.sums:
            metrics.update(motion.metrics(f"test/liveliness{horizons[-1]}"))
        skipped = [h for h in horizons if f"{h}" not in errors]
        if skipped:
            log.warning("test segments are too short for rollout horizons %s: not reported", skipped)
        return metrics

    def _add_errors(
        self,
        model: MeasuredModel,
        errors: dict[str, list[float]],
        chunk: RolloutChunk,
        horizons: Sequence[int],
    ) -> None:
        """Add the summed ``ERRORS`` (MSE, IoU) and count of each method's frame after h steps, for
        every horizon h that the segment holds a real frame for."""
        stop = chunk.segment.stop
        for h in horizons:
            keep = (chunk.starts + h - 1 < stop).nonzero().flatten()
            if len(keep) == 0:
                continue
            real = self.frames_at(model, chunk.segment.video, chunk.starts[keep] + h - 1)
            candidates = {
                suffix: model.decode(latents[keep.to(model.device), h - 1])
                for suffix, latents in chunk.predicted.items()
            }
            candidates["_repeat"] = chunk.held[keep.to(model.device)]
            for name, pred in candidates.items():
                acc = errors.setdefault(f"{h}{name}", [0.0, 0.0, 0.0])
                first, second = self.frame_errors(pred, real)
                acc[0] += float(first.sum())
                acc[1] += float(second.sum())
                acc[2] += len(keep)
