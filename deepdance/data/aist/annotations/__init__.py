"""AIST++ annotation files (keypoints2d, keypoints3d, cameras, splits) read and written in the
official formats, with pickles that cannot run code. See docs/aist_annotations.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepdance.data.aist.annotations.cameras import (
    Camera,
    load_cameras,
    load_mapping,
    write_cameras,
    write_mapping,
)
from deepdance.data.aist.annotations.folder import AnnotationFolder, AnnotationSequence
from deepdance.data.aist.annotations.keypoints import (
    Keypoints2D,
    load_keypoints2d,
    load_keypoints3d,
    write_keypoints2d,
    write_keypoints3d,
)
from deepdance.data.aist.annotations.motions import motions_refusal, refuse_if_motions
from deepdance.data.aist.annotations.normalized import StandardisedKeypoints2D, load_standardised_2d
from deepdance.data.aist.annotations.safe_pickle import safe_load
from deepdance.errors import DeepdanceError

__all__ = [
    "AnnotationFolder",
    "AnnotationSequence",
    "Camera",
    "Keypoints2D",
    "StandardisedKeypoints2D",
    "load_annotation",
    "load_cameras",
    "load_keypoints2d",
    "load_keypoints3d",
    "load_mapping",
    "load_standardised_2d",
    "motions_refusal",
    "safe_load",
    "write_cameras",
    "write_keypoints2d",
    "write_keypoints3d",
    "write_mapping",
]


def load_annotation(path: str | Path) -> Any:
    """Any one annotation file, by what it is: keypoints2d -> ``Keypoints2D``, keypoints3d ->
    (N, 17, 3) cm (optimised), ``setting*.json`` -> cameras, ``mapping.txt`` -> dict, a
    ``.npy`` -> ``StandardisedKeypoints2D``; SMPL motions are refused in one line."""
    path = Path(path)
    refuse_if_motions(path)
    if path.suffix == ".json":
        return load_cameras(path)
    if path.suffix == ".txt":
        return load_mapping(path)
    if path.suffix == ".npy":
        return load_standardised_2d(path)
    if path.suffix != ".pkl":
        raise DeepdanceError(
            f"{path}: not an annotation file; expected a .pkl (keypoints2d/keypoints3d), "
            "a cameras setting .json, mapping.txt or a standardised 2D .npy"
        )
    data = safe_load(path)
    refuse_if_motions(path, data)
    if "keypoints2d" in data:
        return load_keypoints2d(path)
    if "keypoints3d_optim" in data or "keypoints3d" in data:
        return load_keypoints3d(path, optim="keypoints3d_optim" in data)
    raise DeepdanceError(
        f"{path}: holds {', '.join(sorted(data)) or 'nothing'}; expected keypoints2d "
        "(keypoints2d, det_scores, timestamps) or keypoints3d (keypoints3d, keypoints3d_optim)"
    )
