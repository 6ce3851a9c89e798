"""A silhouette genre recognizer looking at generated frames: rate, size and polarity made explicit.

The generator and the recognizer were trained on the same dancers but see them differently. The
latent LSTM's frames are (T, H, W) floats at ``data.fps`` (6 fps for the labelled dancers), 1 =
dancer, at the autoencoder's size (48x80). The recognizer (``GenreClassifier``) read uint8 RGB
videos, black dancer on white, short side resized to ``data.img_size`` and centre-cropped, with
``data.num_frames`` frames spread over a video. A Fréchet distance is only meaningful when real
and generated clips cross that gap by the same road, so this module is the one road:

* **rate**: the recognizer's frame rate is ``num_frames / seconds`` of the videos it was trained on
  (stored with a synthetic set, or given as ``recognizer_fps``). Equal rates pass; a generator rate
  that is an integer multiple of it keeps every k-th frame; anything else is refused in one line
  (inventing frames in between would show the recognizer motion the generator never made);
* **length**: a clip longer than ``num_frames`` is sampled as the recognizer samples a video
  (``ClipSampler.eval_indices``); a shorter one is read as it is (the GRU head reads any length);
* **size and polarity**: short side to ``img_size`` (area-averaged), centre square, 255 * (1 - x)
  as gray RGB: the recognizer's black dancer on white.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError

# Frames per forward pass of the recognizer's CNN: bounds memory on a few hundred clips.
CLIPS_PER_BATCH = 16


def recognizer_fps(data: Mapping[str, Any], given: float | None = None) -> float:
    """The frame rate of the recognizer's clips: ``given``, else ``num_frames / seconds`` of the
    synthetic set it was trained on; a recognizer of unknown rate is refused in one line."""
    if given is not None:
        return float(given)
    synthetic = data.get("synthetic") or {}
    if synthetic.get("seconds"):
        return int(data["num_frames"]) / float(synthetic["seconds"])
    raise DeepdanceError(
        "recognizer_fps is required: the recognizer checkpoint does not record its videos' length, so the "
        "frame rate of its clips is unknown; give data.num_frames / <video seconds> (e.g. recognizer_fps=6)"
    )


def frame_stride(generator_fps: float, clip_fps: float) -> int:
    """Keep every k-th generated frame to reach the recognizer's rate; other ratios are refused."""
    ratio = generator_fps / clip_fps
    stride = round(ratio)
    if stride < 1 or not math.isclose(ratio, stride, rel_tol=1e-3):
        raise DeepdanceError(
            f"the generator rolls out at {generator_fps:g} fps (its data.fps) but the recognizer reads "
            f"clips at {clip_fps:g} fps: use the same rate or an integer multiple of it (train the LSTM with "
            f"data.fps={clip_fps:g}, or give recognizer_fps= if the stored rate is wrong)"
        )
    return stride


class SilhouetteRecognizer:
    """A ``GenreClassifier`` applied to silhouette clips (N, T, H, W) in [0, 1] at ``generator_fps``.

    ``outputs`` gives each clip's pooled features and logits; ``class_names`` maps logits to genres.
    """

    def __init__(
        self,
        classifier: torch.nn.Module,
        data: Mapping[str, Any],
        generator_fps: float,
        clip_fps: float | None = None,
    ) -> None:
        synthetic = data.get("synthetic") or {}
        if synthetic and not synthetic.get("silhouette", False):
            raise DeepdanceError(
                "recognizer_ckpt: its data was the colour synthetic set (data.synthetic.silhouette=false); "
                "a generator of silhouettes is graded by a recognizer trained on silhouettes "
                "(experiment=silhouette_genre)"
            )
        self.classifier = classifier.eval()
        self.img_size = int(data["img_size"])
        self.sampler = ClipSampler(int(data["num_frames"]))
        self.clip_fps = recognizer_fps(data, clip_fps)
        self.stride = frame_stride(generator_fps, self.clip_fps)
        self.class_names: list[str] = list(classifier.hparams.class_names)

    def clip_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, T, H, W) in [0, 1], 1 = dancer -> uint8 (N, T', 3, S, S), black dancer on white,
        at the recognizer's rate and at most ``num_frames`` long."""
        frames = frames[:, :: self.stride]
        if frames.shape[1] > self.sampler.num_frames:
            index, _ = self.sampler.eval_indices(frames.shape[1])
            frames = frames[:, torch.as_tensor(index)]
        n, t, h, w = frames.shape
        scale = self.img_size / min(h, w)
        size = (max(self.img_size, round(h * scale)), max(self.img_size, round(w * scale)))
        # (N * T, 1, H', W'), short side = img_size
        resized = F.interpolate(frames.reshape(n * t, 1, h, w).float(), size=size, mode="area")
        top, left = (size[0] - self.img_size) // 2, (size[1] - self.img_size) // 2
        square = resized[..., top : top + self.img_size, left : left + self.img_size]
        gray = torch.round(255.0 * (1.0 - square.clamp(0, 1))).to(torch.uint8)
        return gray.expand(-1, 3, -1, -1).reshape(n, t, 3, self.img_size, self.img_size)

    @torch.no_grad()
    def outputs(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Silhouette clips (N, T, H, W) -> pooled clip features (N, D) and logits (N, C), on the CPU."""
        clips = self.clip_frames(frames.cpu())
        device = next(self.classifier.parameters()).device
        features, logits = [], []
        for chunk in clips.split(CLIPS_PER_BATCH):
            mask = torch.ones(chunk.shape[:2], dtype=torch.bool, device=device)
            pooled, scores = self.classifier.clip_outputs(chunk.to(device), mask)
            features.append(pooled.cpu())
            logits.append(scores.cpu())
        return torch.cat(features), torch.cat(logits)
