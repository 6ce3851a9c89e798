"""Whole keypoint sequences for the pose-space dance generator (``data=pose_motion``).

Each view of each sequence becomes one "video" of pose vectors: per frame the joints root-centred
and torso-scaled (``normalise.normalise_sequence``), flattened to J x D numbers, resampled to
``data.fps`` (nearest frame by timestamp). The generator (``pose_lstm_module``) reads them through
``sequences()`` exactly as the latent LSTM reads its encoded silhouette videos, and trains on
windows of ``context_frames`` + ``target_frames`` consecutive poses (``SilhouetteWindows``, which
cuts any array of frames).

Sources, from an annotation folder as AIST++ lays it out: ``keypoints2d/*.pkl`` (every view; their
timestamps give the rate: 60 fps in AIST++), or ``keypoints3d/*.pkl`` with ``data.kind=3d`` (one
view; the rate of the sequence's keypoints2d file, else AIST++'s 60 fps), plus, in 2-D,
``normalized_2d/*.npy`` (one view, 30 fps, confidence 1) unless ``data.normalized_2d=false``. Those
are z-scored per coordinate; normalised again here they share the root and torso units of the
rest, but their x:y aspect may differ, so they can be kept out. A sequence with a keypoints2d file
is never read twice. Joints below ``data.min_confidence`` (or NaN) are filled linearly in time from
the joint's valid frames (zero when it never is): a generator should not learn joints that
collapse onto the root when a detector missed them. The root's own path is left out: the
generated dancer dances in place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
from torch.utils.data import Dataset

from deepdance.config.base import parse
from deepdance.config.pose_motion import PoseMotionConfig
from deepdance.data.aist.names import GENRES
from deepdance.data.pose.normalise import normalise_sequence
from deepdance.data.pose.sequences import (
    FOLDERS,
    SPLITS,
    STANDARDISED,
    assign_split,
    expand_views,
    read_source,
    source_table,
)
from deepdance.data.pose.sequences import STANDARDISED_CAMERA as STANDARDISED_CAMERA
from deepdance.data.silhouette.datamodule import SilhouetteSequences
from deepdance.data.silhouette.datasets import Segment, SilhouetteWindows
from deepdance.data.split_loaders import SplitLoaders
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)


def resample_indices(
    num_frames: int, source_fps: float, fps: float, timestamps: np.ndarray | None = None, source: Any = ""
) -> np.ndarray:
    """The source frame nearest each time ``i / fps`` over the sequence's span: (M,) indices.

    ``timestamps`` (N,) microseconds give each frame's time (else ``i / source_fps``); a rate above
    the source's is refused (it would repeat frames, which a forecaster learns as stillness)."""
    if fps > source_fps * (1 + 1e-3):
        raise DeepdanceError(
            f"data.fps={fps:g} is above the {source_fps:.4g} fps of {source}; "
            f"use data.fps <= {source_fps:.4g}"
        )
    if timestamps is not None and len(timestamps) == num_frames and num_frames > 1:
        times = (np.asarray(timestamps, dtype=np.float64) - timestamps[0]) / 1e6
    else:
        times = np.arange(num_frames) / source_fps
    # a microsecond off (timestamps are whole microseconds) still reaches the last frame
    wanted = np.arange(int(np.floor(times[-1] * fps + 1e-3)) + 1) / fps
    after = np.clip(np.searchsorted(times, wanted), 1, max(num_frames - 1, 1))
    before = after - 1
    nearer_after = np.abs(times[np.minimum(after, num_frames - 1)] - wanted) < np.abs(times[before] - wanted)
    return np.where(nearer_after, np.minimum(after, num_frames - 1), before)


def fill_invalid(joints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``joints`` (N, J, D) with each invalid joint linearly interpolated in time from the same
    joint's valid frames (held at the ends; zero where it is never valid)."""
    if valid.all():
        return joints
    filled = joints.copy()
    frames = np.arange(len(joints))
    for j in range(joints.shape[1]):
        ok = valid[:, j]
        if ok.all() or not ok.any():
            continue
        for d in range(joints.shape[2]):
            filled[~ok, j, d] = np.interp(frames[~ok], frames[ok], joints[ok, j, d])
    return filled


def motion_sequence(
    points: np.ndarray,
    confidence: np.ndarray | None,
    source_fps: float,
    settings: PoseMotionConfig,
    timestamps: np.ndarray | None = None,
    source: Any = "",
) -> np.ndarray:
    """One view's keypoints (N, J, D) in pixels or cm -> the poses a generator reads, (M, J * D)
    float32 at ``settings.fps``: normalised, gaps filled, resampled."""
    normalised = normalise_sequence(points, confidence, settings.min_confidence, settings.normalise)
    joints = fill_invalid(normalised.joints, normalised.valid)
    keep = resample_indices(len(joints), source_fps, settings.fps, timestamps, source)
    return np.ascontiguousarray(joints[keep].reshape(len(keep), -1), dtype=np.float32)


def seed_poses(path: str | Path, view: int, settings: PoseMotionConfig) -> np.ndarray:
    """One view of one annotation file (a keypoints2d or, with ``kind=3d``, keypoints3d ``.pkl``, or a
    normalized_2d ``.npy``) as a generator's seed: normalised poses (T, J, D) at ``settings.fps``,
    exactly as the data module reads it (``rollout_poses`` takes them)."""
    path = Path(path)
    if not path.is_file():
        raise DeepdanceError(f"seed={path}: no such file; expected a keypoints .pkl or a normalized_2d .npy")
    if path.suffix == ".npy":
        source = STANDARDISED
    else:
        source = FOLDERS[settings.kind]
    points, confidence, fps, timestamps = read_source(
        SimpleNamespace(path=str(path), source=source), settings
    )
    if not 0 <= view < len(points):
        raise DeepdanceError(f"seed_view={view}: {path} holds {len(points)} view(s) (0 to {len(points) - 1})")
    conf = None if confidence is None else confidence[view]
    poses = motion_sequence(points[view], conf, fps, settings, timestamps, path)
    return poses.reshape(len(poses), points.shape[-2], points.shape[-1])


def motion_table(config: PoseMotionConfig) -> pd.DataFrame:
    """One row per file (``source``: its folder), split by ``data.split`` from the names alone."""
    return assign_split(source_table(config.root, config.kind, config.normalized_2d), config, min_genres=1)


class PoseMotionDataModule(SplitLoaders, pl.LightningDataModule):
    """Every view of every sequence as normalised poses (T, J * D) at ``data.fps``, whole in its
    split; windows of consecutive poses for training and one-step evaluation."""

    def __init__(self, config: PoseMotionConfig) -> None:
        super().__init__()
        self.config = config
        self.save_hyperparameters(config.model_dump(mode="json", by_alias=True), logger=False)
        self.manifest: pd.DataFrame | None = None
        self.videos: list[np.ndarray] = []
        self.segments: dict[str, list[Segment]] = {}
        self.datasets: dict[str, Dataset] = {}

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> PoseMotionDataModule:
        """From a ``data`` node (a run's config, a checkpoint's copy of it), read by its schema."""
        return cls(parse(PoseMotionConfig, settings, "data"))

    @property
    def preprocessing(self) -> dict[str, Any]:
        """What a model trained on these poses must agree with (``PoseLSTMConfig`` stores the same)."""
        return {"kind": self.config.kind, "fps": float(self.config.fps), "normalise": self.config.normalise}

    def train_genres(self) -> list[int]:
        """The genre of each training window's view (``data.balance=genre``)."""
        windows = self.datasets["train"]
        return [windows.labels[video] for video, _ in windows.items]

    def prepare_data(self) -> None:
        """The synthetic dancers' annotations are exported on first use (``data.root=null``)."""
        if self.config.root is None:
            from deepdance.data.synthetic.annotations import ensure_synthetic_annotations

            ensure_synthetic_annotations(self.config.synthetic_root, self.config.synthetic)

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is not None:
            return
        # the folder read, synthetic or not, as data.root
        config = self.config.model_copy(update={"root": self.config.folder()})
        table = motion_table(config)
        views, counts = [], []
        for row in table.itertuples():
            points, confidence, fps, timestamps = read_source(row, config)
            views.append(
                [
                    motion_sequence(
                        points[v],
                        None if confidence is None else confidence[v],
                        fps,
                        config,
                        timestamps,
                        row.path,
                    )
                    for v in range(len(points))
                ]
            )
            counts.append(len(points))
        manifest = expand_views(table, counts, config.views, config.kind)
        file_index = {path: i for i, path in enumerate(table["path"])}
        self.videos = [views[file_index[row.path]][row.view] for row in manifest.itertuples()]
        manifest["frames"] = [len(video) for video in self.videos]
        self.manifest = manifest
        self.segments = {
            split: [
                Segment(v, 0, len(video))
                for v, (video, s) in enumerate(zip(self.videos, manifest["split"]))
                if s == split
            ]
            for split in SPLITS
        }
        labels = [GENRES.index(genre) for genre in manifest["genre"]]
        for split in SPLITS:
            targets = config.target_frames if split == "train" else 1
            self.datasets[split] = SilhouetteWindows(
                self.videos, self.segments[split], config.context_frames, labels, targets=targets
            )
            if len(self.datasets[split]) == 0:
                longest = max(len(self.videos[s.video]) for s in self.segments[split])
                raise DeepdanceError(
                    f"data.root={config.root}: the {split} split has no window of "
                    f"data.context_frames={config.context_frames} + {targets} poses (its longest "
                    f"sequence holds {longest} at data.fps={config.fps:g}); use fewer context frames"
                )
        log.info(
            "pose sequences: %d views at %g fps, %d numbers per pose; windows: %s",
            len(self.videos),
            config.fps,
            self.videos[0].shape[1],
            ", ".join(f"{split} {len(self.datasets[split])}" for split in SPLITS),
        )

    def sequences(self, stage: str | None = None) -> SilhouetteSequences:
        """Every view's poses (T, J * D), its split segments, the settings, its file and genre."""
        self.setup(stage)
        manifest = self.manifest
        return SilhouetteSequences(
            self.videos,
            self.segments,
            self.preprocessing,
            self.config.context_frames,
            [Path(path) for path in manifest["path"]],
            list(manifest["genre"]),
            target_frames=self.config.target_frames,
        )
