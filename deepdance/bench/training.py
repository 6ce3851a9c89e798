"""Training-side rows: what the feature store saves a GRU epoch, and (once the generator is
in the framework) autoencoder training and dance generation speed.

A frozen backbone means the head trains on fixed features: reading them from the store
makes an epoch cost the GRU alone, instead of a decode + CNN pass over every video.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from deepdance.bench.extraction import Backbone, DeepdancePipeline
from deepdance.bench.timing import Timing, time_runs
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

    def epoch_from_videos(
        self, pipeline: DeepdancePipeline, backbone: Backbone, labels: torch.Tensor
    ) -> None:
        """Decode and run the frozen backbone for every batch, as training without a store does."""
        for batch in pipeline.loader:
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


def measure_gru_epochs(
    pipeline: DeepdancePipeline,
    backbone: Backbone,
    head: dict[str, Any],
    batch_size: int,
    repeats: int,
    warmup: int,
) -> dict[str, Timing]:
    """Epoch seconds from the store (``pipeline.store`` must hold this set's entries) and from videos."""
    videos = pipeline.dataset.videos
    labels = genre_labels(videos)
    num_features = int(backbone.model.num_features)
    bench = GruEpochBench(num_features, head, batch_size)
    bench.head.to(backbone.device)
    from_store = time_runs(
        lambda: bench.epoch_from_store(pipeline.store, videos, labels), repeats, warmup, backbone.device
    )
    from_videos = time_runs(
        lambda: bench.epoch_from_videos(pipeline, backbone, labels), repeats, warmup, backbone.device
    )
    return {"from_store": from_store, "from_videos": from_videos}


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


def measure_autoencoder_training(
    device: torch.device, height: int, width: int, batch_size: int, repeats: int, warmup: int
) -> float:
    """Silhouette-autoencoder training frames/s: one Adam step (BCE on logits, as
    ``model=silhouette_ae`` trains) on a batch of near-binary frames, at the default size."""
    from deepdance.models.autoencoder import SilhouetteAutoencoder

    torch.manual_seed(0)
    net = SilhouetteAutoencoder(height=height, width=width).to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    frames = (torch.rand(batch_size, 1, height, width, device=device) > 0.8).float()  # (B, 1, H, W)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.binary_cross_entropy_with_logits(net.decode_logits(net.encode(frames)), frames)
        loss.backward()
        optimizer.step()

    return batch_size / time_runs(step, repeats, warmup, device).median


def measure_generation(
    device: torch.device,
    height: int,
    width: int,
    seconds: float,
    output_fps: float,
    model_fps: float,
    look_back: int,
    repeats: int,
    warmup: int,
) -> float:
    """Generation frames/s as ``DanceGenerator.generate`` times it: latent LSTM rollout at the
    model rate, latents interpolated up to the output rate, every frame decoded. Random
    weights: the cost does not depend on them."""
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
    seed = torch.randn(1, look_back, 128, device=device)  # (1, L, D)

    @torch.no_grad()
    def generate() -> None:
        keys = torch.cat([seed[0], rollout(lstm, seed, steps)[0]])  # (L + steps, D)
        latents = interpolate_latents(keys, per_step)[:num_frames]
        for chunk in latents.split(256):
            net.decode(chunk)

    return num_frames / time_runs(generate, repeats, warmup, device).median
