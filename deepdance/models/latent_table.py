"""The frozen autoencoder's side of the latent LSTM: its checkpoint, read once, and every frame
of the run's videos encoded once into one table.

The encoder never trains, so an epoch of the LSTM costs only the LSTM: training windows,
evaluation rollouts and their seeds are all rows of ``LatentTable``, indexed by (video, frame).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from deepdance.data.silhouette.preprocess import SilhouetteSettings
from deepdance.errors import DeepdanceError

if TYPE_CHECKING:
    from deepdance.data.silhouette.datamodule import Segment


@dataclass(frozen=True)
class AutoencoderCheckpoint:
    """What the LSTM keeps of an autoencoder checkpoint: architecture, weights (None: the LSTM's
    own checkpoint brings them), preprocessing."""

    net: dict[str, Any]
    weights: dict[str, torch.Tensor] | None
    preprocessing: dict[str, Any]


def read_autoencoder_checkpoint(path: str | Path) -> AutoencoderCheckpoint:
    """The autoencoder of ``model.autoencoder_ckpt``; the LSTM's own checkpoint then carries it,
    so the file is read once, when the LSTM is first built."""
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
    return AutoencoderCheckpoint(dict(net), weights, SilhouetteSettings.from_config(data).to_json())


@dataclass
class LatentTable:
    """Every frame of every video as a raw latent: ``latents`` (N, D), the videos one after
    another, ``offsets`` (V,) the row of each video's first frame."""

    latents: torch.Tensor
    offsets: torch.Tensor

    @classmethod
    def encode(
        cls, encode: Callable[[np.ndarray], torch.Tensor], videos: Sequence[np.ndarray]
    ) -> LatentTable:
        """Encode each (T, H, W) uint8 video once with ``encode``."""
        latents = [encode(frames) for frames in videos]
        lengths = torch.tensor([0] + [len(z) for z in latents[:-1]])
        return cls(torch.cat(latents), torch.cumsum(lengths, 0))

    def __len__(self) -> int:
        return len(self.latents)

    def rows(self, videos: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Table rows of frame ``frames[i]`` of video ``videos[i]`` (same shape as ``frames``)."""
        offsets = self.offsets.to(self.latents.device)[videos.to(self.latents.device)]
        return offsets.view(*offsets.shape, *[1] * (frames.dim() - offsets.dim())) + frames.to(offsets.device)

    def windows(self, videos: torch.Tensor, ends: torch.Tensor, length: int) -> torch.Tensor:
        """(N, length, D): the ``length`` latents before frame ``ends[i]`` of video ``videos[i]``."""
        frames = ends[:, None] + torch.arange(-length, 0, device=ends.device)
        return self.latents[self.rows(videos, frames)]

    def interpolated(self, videos: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """(B, n, D) latents at fractional frame ``positions`` (B, n) of a time-warped window:
        linear between the two encoded frames around each."""
        device = self.latents.device
        offsets = self.offsets.to(device)[videos.to(device)]
        rows = offsets[:, None] + positions.to(device, torch.float64)
        below, above = rows.floor().long(), rows.ceil().long()  # (B, n)
        weight = (rows - below).to(self.latents.dtype)[..., None]  # (B, n, 1)
        return self.latents[below] * (1 - weight) + self.latents[above] * weight

    def of_segments(self, segments: Sequence[Segment]) -> torch.Tensor:
        """The latents of every frame of ``segments``, (N, D)."""
        parts = [
            self.latents[int(self.offsets[s.video]) + s.start : int(self.offsets[s.video]) + s.stop]
            for s in segments
        ]
        return torch.cat(parts)

    def segment_windows(
        self, segments: Sequence[Segment], look_back: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every (context (N, L, D), target (N, D)) window whose target lies in ``segments``, and
        the (N,) video each is cut from."""
        targets = [(s.video, t) for s in segments for t in range(max(s.start, look_back), s.stop)]
        videos = torch.tensor([v for v, _ in targets], dtype=torch.long)
        ends = torch.tensor([t for _, t in targets], dtype=torch.long)
        z = self.windows(videos, ends + 1, look_back + 1)  # (N, L + 1, D)
        return z[:, :look_back], z[:, look_back], videos
