"""Training-side rows: what the feature store saves a GRU epoch, and (once the generator is
in the framework) autoencoder training and dance generation speed.

A frozen backbone means the head trains on fixed features: reading them from the store
makes an epoch cost the GRU alone, instead of a decode + CNN pass over every video.

Store and video epochs are compared like with like: each timed run is a fresh training run
of several epochs, so its first epoch pays what a first epoch pays (a new head, the video
loader's workers starting), and the first epochs are compared with each other, the later
("steady") epochs with each other.
"""

from __future__ import annotations

import importlib.util
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from deepdance.bench.extraction import Backbone, DeepdancePipeline
from deepdance.bench.timing import Spread, time_once
from deepdance.data.aist import GENRES, parse_aist_name
from deepdance.errors import DeepdanceError
from deepdance.features.store import FeatureStore
from deepdance.models.sequence_heads import GRUHead

log = logging.getLogger(__name__)


def genre_labels(videos: list[Path]) -> torch.Tensor:
    """Genre of each AIST++-named video; other names get a label by position (speed only)."""
    labels = []
    for i, path in enumerate(videos):
        try:
            labels.append(GENRES.index(parse_aist_name(path.name).genre))
        except (ValueError, KeyError):
            labels.append(i % len(GENRES))
    return torch.tensor(labels)


class GruEpochBench:
    """One training epoch of the GRU head, from stored features or from the videos."""

    def __init__(
        self, num_features: int, head: dict[str, Any], batch_size: int, lr: float = 1e-3, seed: int = 0
    ) -> None:
        torch.manual_seed(seed)
        self.head = GRUHead(num_features, len(GENRES), **head)
        self.optimizer = torch.optim.Adam(self.head.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()
        self.batch_size = batch_size

    def step(self, features: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> float:
        self.head.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.criterion(self.head(features.float(), mask), labels)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def epoch_from_store(self, store: FeatureStore, videos: list[Path], labels: torch.Tensor) -> None:
        """Load (and verify) every video's entry from the store, then one shuffled pass of minibatches."""
        # each (1, T, D) float16, mask (1, T)
        entries = [store.load(video.name) for video in videos]
        features = torch.stack([e.features[0].float() for e in entries])  # (N, T, D)
        mask = torch.stack([e.mask[0] for e in entries])  # (N, T)
        device = next(self.head.parameters()).device
        features, mask, labels = features.to(device), mask.to(device), labels.to(device)
        order = torch.randperm(len(entries), device=device)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            self.step(features[rows], mask[rows], labels[rows])

    def epoch_from_videos(self, loader: DataLoader, backbone: Backbone, labels: torch.Tensor) -> None:
        """Decode and run the frozen backbone for every batch, as training without a store does."""
        for batch in loader:
            frames = batch["frames"].to(backbone.device, non_blocking=True)  # (B, T, 3, S, S)
            batch_size, num_frames = frames.shape[:2]
            with torch.inference_mode():
                features = backbone(frames.flatten(0, 1)).view(batch_size, num_frames, -1)  # (B, T, D)
            head_device = next(self.head.parameters()).device
            self.step(
                features.clone().to(head_device),
                batch["mask"].to(head_device),
                labels[batch["video"]].to(head_device),
            )


@dataclass
class EpochTimes:
    """Seconds of every epoch of every timed training run: ``runs[repeat][epoch]``."""

    runs: list[list[float]] = field(default_factory=list)

    def first(self) -> Spread:
        """The first epoch of each run."""
        return Spread.of([run[0] for run in self.runs])

    def steady(self) -> Spread:
        """The mean of the later epochs of each run (each run needs two epochs or more)."""
        if any(len(run) < 2 for run in self.runs):
            raise DeepdanceError(
                "bench.training.epochs must be >= 2: steady state is the epochs after the first"
            )
        return Spread.of([statistics.mean(run[1:]) for run in self.runs])


def like_for_like(store: EpochTimes, videos: EpochTimes) -> dict[str, float]:
    """How many times longer a video epoch takes than a store epoch: first against first,
    steady against steady (ratios of medians). A first video epoch against steady store
    epochs would mix worker start-up into one side only."""
    return {
        "first_epoch": videos.first().median / store.first().median,
        "steady_epoch": videos.steady().median / store.steady().median,
    }


def measure_gru_epochs(
    pipeline: DeepdancePipeline,
    backbone: Backbone,
    head: dict[str, Any],
    batch_size: int,
    epochs: int,
    repeats: int,
    warmup: int,
) -> dict[str, EpochTimes]:
    """Fresh training runs of ``epochs`` epochs from the store (``pipeline.store`` must hold
    this set's entries) and from the videos, taken in turns, every epoch timed."""
    videos = pipeline.dataset.videos
    labels = genre_labels(videos)
    num_features = int(backbone.model.num_features)
    device = backbone.device

    def training_run(source: str, epochs: int) -> list[float]:
        # a new head and optimiser, as a new training run starts with
        bench = GruEpochBench(num_features, head, batch_size)
        bench.head.to(device)
        if source == "from_store":
            epoch = partial(bench.epoch_from_store, pipeline.store, videos, labels)
            return [time_once(epoch, device) for _ in range(epochs)]
        # its own loader: the first epoch starts the workers, later ones reuse them
        loader = pipeline.new_loader()
        epoch = partial(bench.epoch_from_videos, loader, backbone, labels)
        seconds = [time_once(epoch, device) for _ in range(epochs)]
        # shuts its persistent workers down
        del epoch, loader
        return seconds

    times = {"from_store": EpochTimes(), "from_videos": EpochTimes()}
    for _ in range(warmup):
        for source in times:
            training_run(source, 1)
    for repeat in range(repeats):
        for source, record in times.items():
            record.runs.append(training_run(source, epochs))
            log.info("GRU run %d/%d %s: epochs %s s", repeat + 1, repeats, source, record.runs[-1])
    return times


def generator_available() -> bool:
    """The Deep-Dance generator (autoencoder + latent LSTM) is part of this checkout."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (
            "deepdance.models.autoencoder",
            "deepdance.models.latent_lstm",
            "deepdance.models.dance_generator",
        )
    )


def autoencoder_step(device: torch.device, height: int, width: int, batch_size: int) -> Callable[[], None]:
    """One silhouette-autoencoder training step (BCE on logits and Adam, as
    ``model=silhouette_ae`` trains) on a batch of near-binary frames, ready to time."""
    from deepdance.models.autoencoder import SilhouetteAutoencoder

    torch.manual_seed(0)
    net = SilhouetteAutoencoder(height=height, width=width).to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    # (B, 1, H, W)
    frames = (torch.rand(batch_size, 1, height, width, device=device) > 0.8).float()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.binary_cross_entropy_with_logits(net.decode_logits(net.encode(frames)), frames)
        loss.backward()
        optimizer.step()

    return step


def generation_run(
    device: torch.device,
    height: int,
    width: int,
    seconds: float,
    output_fps: float,
    model_fps: float,
    look_back: int,
) -> tuple[Callable[[], None], int]:
    """One dance generated as ``DanceGenerator.generate`` does it (latent LSTM rollout at the
    model rate, latents interpolated up to the output rate, every frame decoded), ready to
    time, with the number of frames it makes. Random weights: the cost does not depend on them."""
    from deepdance.models.autoencoder import SilhouetteAutoencoder
    from deepdance.models.dance_generator import interpolate_latents
    from deepdance.models.latent_lstm import LatentLSTM, rollout

    torch.manual_seed(0)
    net = SilhouetteAutoencoder(height=height, width=width).to(device).eval()
    lstm = LatentLSTM(latent_dim=128).to(device).eval()
    per_step = max(1, round(output_fps / model_fps))
    num_frames = int(round(seconds * output_fps))
    steps = -(-(num_frames - 1) // per_step) + 1 - look_back
    if steps < 1:
        raise DeepdanceError(
            f"bench.generator.seconds={seconds:g} at {output_fps:g} fps leaves no frame after the seed's "
            f"{(look_back - 1) * per_step + 1}; ask for a longer dance"
        )
    # (1, L, D)
    seed = torch.randn(1, look_back, 128, device=device)

    @torch.no_grad()
    def generate() -> None:
        # (L + steps, D)
        keys = torch.cat([seed[0], rollout(lstm, seed, steps)[0]])
        latents = interpolate_latents(keys, per_step)[:num_frames]
        for chunk in latents.split(256):
            net.decode(chunk)

    return generate, num_frames
