"""The COCO-17 skeleton that AIST++ annotates, shared by the pose front end, the annotation
loaders, the synthetic dancers' export and the skeleton models: one joint order everywhere."""

from __future__ import annotations

import numpy as np

# AIST++ keypoints2d / keypoints3d joint order (the COCO keypoint order)
COCO17: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_JOINTS = len(COCO17)
JOINT = {name: index for index, name in enumerate(COCO17)}
# bones drawn in pictures and previews
EDGES: tuple[tuple[int, int], ...] = tuple(
    (JOINT[a], JOINT[b])
    for a, b in (
        ("left_ear", "left_eye"),
        ("left_eye", "nose"),
        ("nose", "right_eye"),
        ("right_eye", "right_ear"),
        ("left_shoulder", "right_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
        ("left_hip", "right_hip"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
    )
)
# a mirror image swaps these (flip augmentation)
FLIP_ORDER: tuple[int, ...] = tuple(
    JOINT[name.replace("left_", "right_")]
    if name.startswith("left_")
    else JOINT[name.replace("right_", "left_")]
    if name.startswith("right_")
    else JOINT[name]
    for name in COCO17
)
SHOULDERS = (JOINT["left_shoulder"], JOINT["right_shoulder"])
HIPS = (JOINT["left_hip"], JOINT["right_hip"])


def torso_length(points: np.ndarray) -> np.ndarray:
    """Distance from the shoulders' midpoint to the hips' midpoint, per frame: the body's own
    scale, used for normalisation and for PCK thresholds. ``points``: (..., 17, D >= 2)."""
    shoulders = points[..., SHOULDERS, :].mean(axis=-2)
    hips = points[..., HIPS, :].mean(axis=-2)
    return np.linalg.norm(shoulders - hips, axis=-1)
