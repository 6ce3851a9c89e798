"""Standardised 2D keypoint sequences (``normalized_2d/<seq>.npy``): read, clearly labelled.

Not an official AIST++ format. Some projects derived from AIST++ store each sequence as a
(T, 34) float array: the COCO-17 (x, y) pairs interleaved, resampled to 30 fps, then
standardised per coordinate (minus a mean, over a standard deviation) with a scaler they keep.
Without that scaler the pixel positions cannot be recovered, so these coordinates have no
unit: fine for shape-of-motion features, not for anything that needs pixels or a camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import NUM_JOINTS

# the frame rate such files were resampled to
STANDARDISED_FPS = 30.0


@dataclass
class StandardisedKeypoints2D:
    """(T, 17, 2) float64 COCO-17 (x, y) in standardised units (no pixels, no confidence)."""

    coords: np.ndarray
    fps: float = STANDARDISED_FPS
    units: str = "standardised (per-coordinate z-score; not pixels)"

    @property
    def num_frames(self) -> int:
        return int(self.coords.shape[0])


def load_standardised_2d(path: str | Path, fps: float = STANDARDISED_FPS) -> StandardisedKeypoints2D:
    """Read a (T, 34) ``.npy`` of interleaved x, y; pickled ``.npy`` files are refused."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DeepdanceError(f"{path}: file does not exist") from None
    except ValueError as err:
        raise DeepdanceError(f"{path}: not a plain numeric .npy array ({str(err).splitlines()[0]})") from None
    if not isinstance(array, np.ndarray) or array.ndim != 2 or array.shape[1] != 2 * NUM_JOINTS:
        got = getattr(array, "shape", type(array).__name__)
        raise DeepdanceError(
            f"{path}: standardised 2D keypoints have shape {got}, expected (T, {2 * NUM_JOINTS}) "
            "(COCO-17 x, y interleaved)"
        )
    if array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)):
        raise DeepdanceError(
            f"{path}: standardised 2D keypoints must be finite numbers, got dtype {array.dtype}"
        )
    coords = array.astype(np.float64).reshape(array.shape[0], NUM_JOINTS, 2)
    return StandardisedKeypoints2D(coords=coords, fps=fps)
