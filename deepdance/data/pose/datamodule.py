"""Keypoint sequences as a LightningDataModule: the skeleton models' ``data=aist_pose``.

The sequence table and its split come from the file names (``deepdance.data.pose.sequences``:
the keypoint files, and in 2-D the ``normalized_2d/*.npy`` of sequences without one, listed as
``data=pose_motion`` lists them); setup reads every file once, keeps each view normalised in memory
(AIST++'s 2-D keypoints of all 1408 sequences are about 2 GB as float32; a subset of views or
genres, less), and the datasets cut windows from them (``deepdance.data.pose.windows``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
from torch.utils.data import Dataset

from deepdance.config.base import parse
from deepdance.config.pose_data import PoseDataConfig
from deepdance.data.pose.normalise import NormalisedSequence, feature_size, normalise_sequence
from deepdance.data.pose.sequences import SPLITS, expand_views, read_source, split_table
from deepdance.data.pose.windows import PoseWindowDataset
from deepdance.data.split_loaders import GenreSplitData
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)


def normalise_views(
    points: np.ndarray, confidence: np.ndarray | None, settings: PoseDataConfig
) -> list[NormalisedSequence]:
    """Each view of a file, normalised by the data settings (``min_confidence``, ``normalise``)."""
    return [
        normalise_sequence(
            points[v],
            None if confidence is None else confidence[v],
            settings.min_confidence,
            settings.normalise,
        )
        for v in range(len(points))
    ]


def ensure_annotations(config: PoseDataConfig) -> None:
    """The synthetic dancers' annotations (``data.synthetic``) are exported into ``data.root`` on
    first use, for the same dancers as ``data=synthetic``'s videos; a real folder is read as it is."""
    if config.synthetic is None:
        return
    from deepdance.data.synthetic.annotations import ensure_synthetic_annotations

    ensure_synthetic_annotations(config.root, config.synthetic)


class PoseDataModule(GenreSplitData, pl.LightningDataModule):
    """Windows of keypoint sequences (one sample per view), split by dancer, by sequence or by
    the official lists; ``config`` is the checked ``data`` group."""

    def __init__(self, config: PoseDataConfig) -> None:
        super().__init__()
        self.config = config
        # plain data: checkpoints hold it, and the model reads view_vote from it
        self.save_hyperparameters(config.model_dump(mode="json", by_alias=True), logger=False)
        self.manifest: pd.DataFrame | None = None
        self.sequences: list[NormalisedSequence] = []
        self.datasets: dict[str, Dataset] = {}

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> PoseDataModule:
        """From a ``data`` node (a run's config, a checkpoint's copy of it), read by its schema."""
        return cls(parse(PoseDataConfig, settings, "data"))

    @property
    def feature_size(self) -> int:
        """Features per frame: what the skeleton model's ``in_features`` must be."""
        return feature_size(3 if self.config.kind == "3d" else 2, self.config.velocities)

    def train_genres(self) -> list[int]:
        """One training window per view: its label (``data.balance=genre``)."""
        return [int(label) for label in self.datasets["train"].manifest["label"]]

    def prepare_data(self) -> None:
        ensure_annotations(self.config)

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is not None:
            return
        config = self.config
        table = split_table(config)
        views, counts = [], []
        for row in table.itertuples():
            # a normalized_2d file: one view, confidence 1 (None); its 30 fps do not matter here, as
            # the sampler spreads a window's frames over the whole sequence, whatever its rate
            points, confidence, _, _ = read_source(row, config)
            views.append(normalise_views(points, confidence, config))
            counts.append(len(points))
        manifest = expand_views(table, counts, config.views, config.kind)
        file_index = {path: i for i, path in enumerate(table["path"])}
        self.sequences = [views[file_index[row.path]][row.view] for row in manifest.itertuples()]
        manifest["frames"] = [len(sequence) for sequence in self.sequences]
        empty = manifest[manifest["frames"] == 0]
        if not empty.empty:
            raise DeepdanceError(f"{empty['path'].iloc[0]}: a keypoint file without frames")
        self.manifest = manifest
        sampler = self.clip_sampler
        for split in SPLITS:
            rows = np.flatnonzero(manifest["split"].to_numpy() == split)
            self.datasets[split] = PoseWindowDataset(
                manifest.iloc[rows],
                [self.sequences[i] for i in rows],
                sampler,
                split,
                velocities=config.velocities,
                flip=config.flip,
            )
        log.info(
            "keypoint windows: %d frames of %d features; %s",
            config.num_frames,
            self.feature_size,
            ", ".join(f"{split} {len(self.datasets[split])}" for split in SPLITS),
        )
