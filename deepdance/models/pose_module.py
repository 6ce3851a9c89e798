"""The skeleton genre classifier: a per-frame pose encoder, then the video classifier's GRU head.

Its inputs are keypoint windows (``deepdance.data.pose``): per frame the root-centred,
torso-scaled joints, their velocities and a validity mask. Training, the metrics and the test
report (confusion matrix, K windows averaged, views voted) are the video classifier's
(``deepdance.models.genre_recognizer``), so the two models' runs read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from deepdance.config.base import parse
from deepdance.config.pose_data import PoseDataConfig
from deepdance.config.pose_model import PoseClassifierConfig, PoseEncoderConfig
from deepdance.data.aist import GENRES
from deepdance.data.pose.normalise import feature_size, normalise_sequence
from deepdance.data.pose.windows import test_windows
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError
from deepdance.models.genre_recognizer import GenreRecognizer
from deepdance.models.sequence_heads import GRUHead


class PoseEncoder(nn.Module):
    """Frame features (B, T, F) -> (B, T, H): an MLP per frame, then (``temporal_kernel`` > 1)
    a residual 1-D convolution over the window; padded frames are zero before and after it."""

    def __init__(self, in_features: int, config: PoseEncoderConfig) -> None:
        super().__init__()
        # per-feature standardisation over the batch's real frames: velocities are an order of
        # magnitude smaller than coordinates, and would start out unheard
        self.input_norm = nn.BatchNorm1d(in_features) if config.input_norm else None
        layers: list[nn.Module] = []
        for size in config.hidden:
            layers += [nn.Linear(in_features, size), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
            in_features = size
        self.mlp = nn.Sequential(*layers)
        self.out_features = in_features
        kernel = config.temporal_kernel
        self.temporal = (
            nn.Conv1d(in_features, in_features, kernel, padding=kernel // 2) if kernel > 1 else None
        )

    def forward(self, poses: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[..., None].to(poses.dtype)
        if self.input_norm is not None:
            # statistics of the real frames only, not the padding
            frames, norm = poses[mask], self.input_norm
            normed = torch.zeros_like(poses)
            # batch statistics need two frames (a last batch of one single-frame window has one)
            normed[mask] = nn.functional.batch_norm(
                frames,
                norm.running_mean,
                norm.running_var,
                norm.weight,
                norm.bias,
                training=self.training and len(frames) > 1,
                momentum=norm.momentum,
                eps=norm.eps,
            )
            poses = normed
        x = self.mlp(poses) * keep
        if self.temporal is not None:
            # (B, H, T) for the convolution; same length out (odd kernels)
            x = x + torch.relu(self.temporal(x.transpose(1, 2))[..., : x.shape[1]].transpose(1, 2))
            x = x * keep
        return x


class PoseClassifier(GenreRecognizer):
    """Keypoint windows ``poses`` (B, T, F) with a frame mask (B, T) -> genre logits (B, C).

    Test batches carry a window axis (``(B, K, T, F)`` and ``multi``), as the video classifier's."""

    config_class = PoseClassifierConfig
    input_keys = ("poses",)

    def __init__(self, config: PoseClassifierConfig) -> None:
        super().__init__()
        # null: the ten AIST++ genres, stored as the list they are
        self.config = config.model_copy(update={"class_names": list(config.class_names or GENRES)})
        self.save_config(self.config)
        dims = 3 if config.kind == "3d" else 2
        self.encoder = PoseEncoder(feature_size(dims, config.velocities), config.encoder)
        self.head = GRUHead(
            self.encoder.out_features, len(self.config.class_names), **config.head.model_dump()
        )
        self._build_metrics(len(self.config.class_names))

    def forward(self, poses: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(poses, mask), mask)

    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self(batch["poses"].float(), batch["mask"]).float()


def predict_sequence(
    model: PoseClassifier, keypoints: Any, data: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Genre probabilities (C,) of one ``Keypoints2D`` (V views x N frames), as the test pass
    scores a sample: each view's K windows (``data.test_clips``) averaged, then the views averaged.

    ``data`` holds the data settings the model was trained with (a checkpoint's stored ``data``);
    its normalisation, ``num_frames`` and ``test_clips`` apply, the schema's defaults where unset.
    """
    if model.hparams.kind != "2d":
        raise DeepdanceError(
            "predict_sequence: this model reads keypoints3d (model.kind=3d), not keypoints2d"
        )
    settings = parse(PoseDataConfig, {**dict(data or {}), "root": "-", "synthetic": None}, "data")
    sampler = ClipSampler(settings.num_frames, settings.sampling, settings.test_clips)
    points = np.asarray(keypoints.keypoints, dtype=np.float32)
    windows, masks = zip(
        *(
            test_windows(
                normalise_sequence(view[..., :2], view[..., 2], settings.min_confidence, settings.normalise),
                sampler,
                model.hparams.velocities,
            )
            for view in points
        )
    )
    device = next(model.parameters()).device
    poses = torch.from_numpy(np.concatenate(windows)).to(device)
    mask = torch.from_numpy(np.concatenate(masks)).to(device)
    with torch.no_grad():
        probs = (
            model.eval()(poses, mask)
            .float()
            .softmax(-1)
            .view(len(points), -1, len(model.hparams.class_names))
        )
    multi = torch.tensor(sampler.test_plan.multi, device=device, dtype=probs.dtype)[None, :, None]
    return ((probs * multi).sum(1) / multi.sum(1)).mean(0).cpu().numpy()
