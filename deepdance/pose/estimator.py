"""The pose front end's interface: frames in, people out. A backend (MediaPipe by default, in
the ``pose`` extra) implements ``PoseEstimator``; everything downstream sees only ``Person``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class Person:
    """One person found in one frame, in source pixels.

    ``keypoints``: (17, 3) float32 x, y, confidence in COCO-17 order (``deepdance.pose.skeleton``);
    ``mask``: (H, W) float32 in [0, 1], the person's segmentation, or None when the backend has none;
    ``box``: (4,) float32 left, top, right, bottom; ``score``: the detection's confidence;
    ``landmarks``: (L, 3) the backend's own points (MediaPipe: 33 landmarks) kept as they are.
    """

    keypoints: np.ndarray
    box: np.ndarray
    score: float
    mask: np.ndarray | None = None
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))


@runtime_checkable
class PoseEstimator(Protocol):
    """A pose backend. ``name`` and ``settings`` key the pose store, so a changed backend or
    setting never reuses stale results."""

    name: str

    def settings(self) -> dict:
        """Everything that changes this backend's output (model, thresholds), JSON-serialisable."""
        ...

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        """``frames``: (N, H, W, 3) uint8 RGB. Returns, per frame, every person found (maybe none)."""
        ...

    def close(self) -> None:
        """Release the backend's resources."""
        ...
