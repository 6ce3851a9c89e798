"""The ``model`` group of the skeleton genre model (``PoseClassifierConfig``): a per-frame pose
encoder, then the video classifier's GRU head (``HeadConfig``). Its input size follows the data's
(``kind``, ``velocities``: conf/model/pose_gru.yaml interpolates them from ``data``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from deepdance.config.base import Schema
from deepdance.config.model import Dropout, HeadConfig, OptimizerConfig, Sizes

POSE_CLASSIFIER = "deepdance.models.pose_module.PoseClassifier"


class PoseEncoderConfig(Schema, title="model.encoder"):
    """Per frame, an MLP over the normalised joints, velocities and mask; ``temporal_kernel`` > 1
    adds a 1-D convolution over neighbouring frames of the window (a small temporal encoder)."""

    # standardise each input feature (BatchNorm over the real frames of a batch)
    input_norm: bool = True
    hidden: Sizes = [128, 64]
    dropout: Dropout = 0.1
    # 1: frames encoded alone | k (odd): one conv of width k over the window, after the MLP
    temporal_kernel: int = Field(1, ge=1)


class PoseClassifierConfig(Schema, title="PoseClassifier"):
    """Keypoint windows (data=aist_pose) -> genre logits."""

    target: Literal[POSE_CLASSIFIER] = Field(POSE_CLASSIFIER, alias="_target_")
    # the data's keypoints: 2d (x, y) or 3d (x, y, z), with or without velocities
    kind: Literal["2d", "3d"] = "2d"
    velocities: bool = True
    encoder: PoseEncoderConfig = PoseEncoderConfig()
    head: HeadConfig = HeadConfig()
    optimizer: OptimizerConfig
    scheduler: dict[str, Any] | None = None
    # null = the ten AIST++ genres
    class_names: list[str] | None = None
