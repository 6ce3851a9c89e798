"""The sequences a pose generator's rollouts are scored against (``pose_generation_scoring``).

``split=all``: every view (of ``data.views``) of every sequence of an annotation folder, read as
``PoseMotionDataModule`` reads one (``motion_table``'s files, ``read_source``, ``motion_sequence``:
the checkpoint's kind, fps, normalise, min_confidence) but in no split, so a folder of a few
sequences, or one the generator never saw, is scored whole. ``split=val|test``: that held-out
split of the checkpoint's own data, split as in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdance.config.base import parse
from deepdance.config.pose_motion import PoseMotionConfig
from deepdance.data.aist.names import normalise_cameras
from deepdance.data.pose.motion import STANDARDISED, STANDARDISED_CAMERA, motion_sequence, read_source
from deepdance.data.pose.sequences import FOLDERS, TABLE_COLUMNS, named_rows, sequence_table, view_cameras
from deepdance.errors import DeepdanceError


@dataclass
class PoseSet:
    """The sequences scored: each view's poses (T, J * D), its genre and its sequence (group)."""

    videos: list[np.ndarray]
    genres: list[str]
    groups: list[str] = field(default_factory=list)


def check_folder(root: str | Path, config: PoseMotionConfig) -> None:
    """One line when ``root`` holds no keypoints of the generator's kind."""
    root, folder = Path(root), FOLDERS[config.kind]
    found = any((root / folder).glob("*.pkl"))
    if config.kind == "2d" and config.normalized_2d:
        found = found or any((root / STANDARDISED).glob("*.npy"))
    if not found:
        extra = f" or {STANDARDISED}/*.npy" if config.kind == "2d" and config.normalized_2d else ""
        raise DeepdanceError(
            f"data_root={root}: no {folder}/*.pkl{extra}; this pose generator dances in {config.kind} "
            f"(data.kind={config.kind}): expected an AIST++ annotation folder with {folder}/"
        )


def folder_table(config: PoseMotionConfig) -> pd.DataFrame:
    """One row per file of the folder, as ``motion_table`` finds them but in no split."""
    root = Path(config.folder())
    check_folder(root, config)
    parts = []
    if any((root / FOLDERS[config.kind]).glob("*.pkl")):
        parts.append(sequence_table(root, config.kind).assign(source=FOLDERS[config.kind]))
    if config.kind == "2d" and config.normalized_2d:
        rows, _ = named_rows(sorted((root / STANDARDISED).glob("*.npy")))
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS).assign(
            source=STANDARDISED, camera=STANDARDISED_CAMERA
        )
        seen = set(parts[0]["sequence"]) if parts else set()
        parts.append(table[~table["sequence"].isin(seen)])
    table = pd.concat(parts, ignore_index=True)
    if config.genres:
        table = table[table["genre"].isin(config.genres)]
    if table.empty:
        raise DeepdanceError(
            f"data_root={root}: no keypoint file with an AIST++ name of data.genres={config.genres}"
        )
    return table.reset_index(drop=True)


def folder_sequences(config: PoseMotionConfig) -> PoseSet:
    """Every view (of ``data.views``) of every sequence of ``config.root``: ``split=all``."""
    wanted = set(normalise_cameras(config.views)) if config.views is not None else None
    scored = PoseSet([], [], [])
    for _, row in folder_table(config).iterrows():
        points, confidence, fps, timestamps = read_source(row, config)
        for view, camera in enumerate(view_cameras(row, len(points), config.kind)):
            if wanted is not None and camera not in wanted:
                continue
            conf = None if confidence is None else confidence[view]
            scored.videos.append(motion_sequence(points[view], conf, fps, config, timestamps, row["path"]))
            scored.genres.append(str(row["genre"]))
            scored.groups.append(str(row["sequence"]))
    if not scored.videos:
        raise DeepdanceError(f"data.views={config.views}: no view of these cameras in {config.root}")
    return scored


def split_sequences(config: PoseMotionConfig, split: str) -> PoseSet:
    """The held-out ``split`` of the checkpoint's data, split as in training."""
    from deepdance.data.pose.motion import PoseMotionDataModule

    if config.root is not None:
        check_folder(config.root, config)
    datamodule = PoseMotionDataModule(config)
    datamodule.prepare_data()
    sequences = datamodule.sequences()
    videos = [s.video for s in sequences.segments[split]]
    groups = list(datamodule.manifest["sequence"])
    return PoseSet(
        [sequences.videos[v] for v in videos],
        [sequences.genres[v] for v in videos],
        [groups[v] for v in videos],
    )


def read_sequences(data: dict[str, Any], split: str, data_root: str | None) -> PoseSet:
    """The sequences scored, read with the checkpoint's ``data`` settings."""
    if data_root is not None:
        data = {**data, "root": str(data_root)}
    config = parse(PoseMotionConfig, data, "data")
    return folder_sequences(config) if split == "all" else split_sequences(config, split)
