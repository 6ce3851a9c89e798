"""The pose-space dance generator's settings: its data (``PoseMotionConfig``, conf/data/pose_motion.yaml)
and its model (``PoseLSTMConfig``, conf/model/pose_lstm.yaml).

The data are the skeleton models' keypoint folders (``PoseDataConfig``: root, kind, views, split,
genres, normalisation) read as whole sequences at one frame rate, cut into windows of
``context_frames`` + ``target_frames`` poses for a forecaster. The classifier's window settings
(``num_frames``, ``sampling``, ``test_clips``, ``view_vote``, ``velocities``, ``flip``) do not apply.
The model is the latent LSTM (``LatentLSTMConfig``) whose latent is the pose itself: no autoencoder.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from deepdance.config.model import LatentLSTMConfig
from deepdance.config.pose_data import PoseDataConfig

POSE_MOTION = "deepdance.data.pose.motion.PoseMotionDataModule"
POSE_LSTM = "deepdance.models.pose_lstm_module.PoseLSTMModule"


class PoseMotionConfig(PoseDataConfig, title="PoseMotionDataModule"):
    """Normalised keypoint sequences of an annotation folder, one per view, resampled to ``fps``."""

    # a generator may dance one genre
    min_genres: ClassVar[int] = 1
    real_root: ClassVar[tuple[str, str]] = ("dir", "data=pose_motion reads an AIST++ annotation folder")
    split_by_names: ClassVar[str] = "deepdance.data.pose.motion.motion_table"

    target: Literal[POSE_MOTION] = Field(POSE_MOTION, alias="_target_")  # type: ignore[assignment]
    # an AIST++ annotation folder (keypoints2d/, keypoints3d/, normalized_2d/) or extract_poses' out
    # folder; null: the synthetic dancers' exported annotations (data.synthetic), written on first use
    # into synthetic_root (conf/data/pose_motion.yaml: <paths.data_dir>/synthetic_annotations)
    root: str | None = Field(None, min_length=1)  # type: ignore[assignment]
    synthetic_root: str = Field("synthetic_annotations", min_length=1)
    # whole sequences held out per genre, every view of a sequence in one split
    split: Literal["dancer", "sequence", "files"] = "sequence"
    # every sequence is resampled to this rate (nearest frame by timestamp; AIST++ keypoints are 60 fps)
    fps: float = Field(30.0, gt=0)
    # poses a forecaster reads, and poses after them in each training window
    context_frames: int = Field(10, ge=2)
    target_frames: int = Field(1, ge=1)
    # joints below min_confidence are filled in time from the same joint's valid frames
    # (linear), so a forecaster never reads a joint collapsed onto the root
    min_confidence: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _source(self) -> PoseMotionConfig:
        if self.root is None and self.synthetic is None:
            raise ValueError(
                "$root=null reads the synthetic dancers' annotations: expected $synthetic settings, or a "
                "$root=<AIST++ annotation folder>"
            )
        return self

    def folder(self) -> str:
        """The annotation folder read: ``root``, else the synthetic dancers' export."""
        return self.root or self.synthetic_root


class PoseLSTMConfig(LatentLSTMConfig, title="PoseLSTMModule"):
    """The latent LSTM over normalised poses (J joints x 2 or 3 coordinates per frame)."""

    target: Literal[POSE_LSTM] = Field(POSE_LSTM, alias="_target_")  # type: ignore[assignment]
    # no autoencoder stage: the latent is the pose
    autoencoder_ckpt: str | None = None  # type: ignore[assignment]
    # the synthetic dancers' poses (data.root=null) have genres
    genre_needs_root: ClassVar[bool] = False
    # the data's keypoints and rate (conf/model/pose_lstm.yaml follows data.kind and data.fps):
    # stored with the weights, so a seed is read and a rollout timed as in training
    kind: Literal["2d", "3d"] = "2d"
    fps: float = Field(30.0, gt=0)
    normalise: bool = True
