"""The skeleton annotation pickle MMAction2 (``PoseDataset``) and pyskl train on.

Format (MMAction2 "Custom Skeleton Dataset", pyskl ``data/README.md``): a dict with ``split``
(split name -> list of ``frame_dir``) and ``annotations``, one dict per video: ``frame_dir`` (the
video stem), ``total_frames`` (T), ``img_shape`` and ``original_shape`` (height, width), ``label``
(int), ``keypoint`` (M, T, V, 2) float32 and ``keypoint_score`` (M, T, V) float32, M = 1 person,
V = 17 COCO joints. Those loaders take no NaN: a frame with nobody has keypoints 0 and scores 0.

Labels are AIST++ genre indices (``deepdance.data.aist.names.GENRES``) read from the file name;
a video whose name is not an AIST++ name gets -1. The splits: ``all`` (every video) and, when
every name is an AIST++ name, ``train``/``val``/``test`` held out by dancer as ``data=aist`` does
(``split_by_dancer``, seed 0).
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdance.data.aist.names import GENRES, parse_aist_name
from deepdance.data.aist.splits import split_by_dancer
from deepdance.pose.video_poses import VideoPoses
from deepdance.utils.cache_io import atomic_write_bytes

log = logging.getLogger(__name__)


def genre_label(stem: str) -> int:
    """The AIST++ genre index of a video stem, or -1 for a name that is not AIST++'s."""
    try:
        return GENRES.index(parse_aist_name(stem).genre)
    except ValueError:
        return -1


def annotation(stem: str, poses: VideoPoses) -> dict[str, Any]:
    """One video's skeleton annotation (see the module docstring)."""
    width, height = poses.size
    found = np.isfinite(poses.keypoints[..., :2]).all(axis=-1)
    keypoint = np.where(found[..., None], poses.keypoints[..., :2], 0.0).astype(np.float32)
    score = np.where(found, poses.keypoints[..., 2], 0.0).astype(np.float32)
    return {
        "frame_dir": stem,
        "total_frames": len(poses),
        "img_shape": (height, width),
        "original_shape": (height, width),
        "label": genre_label(stem),
        "keypoint": keypoint[None],
        "keypoint_score": score[None],
    }


def splits(stems: list[str]) -> dict[str, list[str]]:
    """``all``, and a dancer-disjoint train/val/test when every stem is an AIST++ name."""
    result = {"all": list(stems)}
    try:
        names = [parse_aist_name(stem) for stem in stems]
    except ValueError:
        return result
    manifest = pd.DataFrame(
        {"stem": stems, "genre": [n.genre for n in names], "dancer": [n.dancer for n in names]}
    )
    manifest["split"] = split_by_dancer(manifest, seed=0)
    for name in ("train", "val", "test"):
        result[name] = manifest.loc[manifest["split"] == name, "stem"].tolist()
    return result


def skeleton_dataset(videos: dict[str, VideoPoses]) -> dict[str, Any]:
    """The whole pickle's contents for ``videos`` (stem -> poses)."""
    stems = sorted(videos)
    return {"split": splits(stems), "annotations": [annotation(stem, videos[stem]) for stem in stems]}


def write_skeleton_dataset(path: str | Path, videos: dict[str, VideoPoses]) -> Path:
    """Write the pickle atomically."""
    return atomic_write_bytes(path, pickle.dumps(skeleton_dataset(videos), protocol=4))
