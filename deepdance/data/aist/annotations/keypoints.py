"""AIST++ keypoint files: ``keypoints2d/<seq>.pkl`` (per view, pixels) and
``keypoints3d/<seq>.pkl`` (world frame, centimetres), read and written in the official format.

Shapes are checked on load, so a wrong file fails here with one line naming the file, the key,
the shape it has and the shape expected, not later inside a model as a broadcasting error.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepdance.data.aist.annotations.motions import refuse_if_motions
from deepdance.data.aist.annotations.safe_pickle import safe_load
from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import NUM_JOINTS
from deepdance.utils.cache_io import atomic_output

# AIST++ wrote its pickles with protocol 4; readable by Python >= 3.4
PICKLE_PROTOCOL = 4
KEYPOINTS2D_KEYS = ("keypoints2d", "det_scores", "timestamps")
KEYPOINTS3D_KEYS = ("keypoints3d", "keypoints3d_optim")


@dataclass
class Keypoints2D:
    """One ``keypoints2d`` file: V views (cameras) x N frames of COCO-17 joints.

    keypoints: (V, N, 17, 3) float32, (x, y, confidence), x and y in source-video pixels
        (AIST++: 1920x1080); NaN x/y with confidence 0 where nobody was found.
    det_scores: (V, N) float32 person-detection score per view and frame.
    timestamps: (N,) int64 microseconds from the start of the video (AIST++: 60 fps).
    landmarks: (V, N, L, 3) float32 extra estimator points (front end only), or None.
    """

    keypoints: np.ndarray
    det_scores: np.ndarray
    timestamps: np.ndarray
    landmarks: np.ndarray | None = None

    @property
    def num_views(self) -> int:
        return int(self.keypoints.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.keypoints.shape[1])

    def fps(self) -> float:
        """Frames per second from the median timestamp step (NaN with fewer than 2 frames)."""
        if self.num_frames < 2:
            return float("nan")
        return 1e6 / float(np.median(np.diff(self.timestamps)))

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints)
        self.det_scores = np.asarray(self.det_scores)
        self.timestamps = np.asarray(self.timestamps)
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks)
        _check_keypoints2d("Keypoints2D", self.keypoints, self.det_scores, self.timestamps, self.landmarks)
        self.keypoints = self.keypoints.astype(np.float32, copy=False)
        self.det_scores = self.det_scores.astype(np.float32, copy=False)
        self.timestamps = self.timestamps.astype(np.int64, copy=False)
        if self.landmarks is not None:
            self.landmarks = self.landmarks.astype(np.float32, copy=False)


def _shape_text(shape: tuple[int | str, ...]) -> str:
    """``(5,)`` / ``(*, *, 17, 3)``: shapes as numpy prints them, ``*`` for any size."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(source: str | Path, key: str, array: Any, expected: tuple[int | None, ...]) -> None:
    """``expected`` holds sizes (``None``: any size); a mismatch, or no array at all, is one line
    naming the file, the key, the shape found and the shape expected."""
    got = np.shape(array)
    ok = len(got) == len(expected) and all(
        want is None or got_size == want for got_size, want in zip(got, expected, strict=False)
    )
    if not isinstance(array, np.ndarray) or not ok:
        wanted = tuple(w if w is not None else "*" for w in expected)
        what = f"shape {_shape_text(got)}" if isinstance(array, np.ndarray) else f"a {type(array).__name__}"
        raise DeepdanceError(f"{source}: key {key!r} has {what}, expected {_shape_text(wanted)}")


def _check_keypoints2d(
    source: str | Path,
    keypoints: Any,
    det_scores: Any,
    timestamps: Any,
    landmarks: Any = None,
) -> None:
    check_shape(source, "keypoints2d", keypoints, (None, None, NUM_JOINTS, 3))
    views, frames = keypoints.shape[:2]
    check_shape(source, "det_scores", det_scores, (views, frames))
    check_shape(source, "timestamps", timestamps, (frames,))
    if landmarks is not None:
        check_shape(source, "landmarks", landmarks, (views, frames, None, 3))
    if timestamps.dtype.kind == "f" and not np.all(
        np.isfinite(timestamps) & (timestamps == np.round(timestamps))
    ):
        raise DeepdanceError(f"{source}: key 'timestamps' holds non-integer values, expected microseconds")


def _missing_keys(path: Path, data: dict[str, Any], keys: tuple[str, ...], what: str) -> None:
    missing = [key for key in keys if key not in data]
    if missing:
        raise DeepdanceError(
            f"{path}: no key {', '.join(repr(k) for k in missing)}; a {what} file holds "
            f"{', '.join(keys)} (found: {', '.join(sorted(data)) or 'nothing'})"
        )


def load_keypoints2d(path: str | Path) -> Keypoints2D:
    """Read an AIST++ ``keypoints2d`` pickle (or one ``extract_poses`` wrote, V = 1)."""
    path = Path(path)
    refuse_if_motions(path)
    data = safe_load(path)
    refuse_if_motions(path, data)
    _missing_keys(path, data, KEYPOINTS2D_KEYS, "keypoints2d")
    landmarks = data.get("landmarks")
    _check_keypoints2d(path, data["keypoints2d"], data["det_scores"], data["timestamps"], landmarks)
    return Keypoints2D(data["keypoints2d"], data["det_scores"], data["timestamps"], landmarks)


def _write_pickle(path: str | Path, data: dict[str, np.ndarray]) -> Path:
    """Write atomically (temporary file beside ``path``, then a rename): a reader never sees half a file."""
    path = Path(path)
    with atomic_output(path, "wb") as handle:
        pickle.dump(data, handle, protocol=PICKLE_PROTOCOL)
    return path


def write_keypoints2d(path: str | Path, keypoints: Keypoints2D) -> Path:
    """Write ``keypoints`` in the AIST++ ``keypoints2d`` format (+ ``landmarks`` when present).

    The caller owns the folder; the file appears complete or not at all.
    """
    data = {
        "keypoints2d": np.ascontiguousarray(keypoints.keypoints, dtype=np.float32),
        "det_scores": np.ascontiguousarray(keypoints.det_scores, dtype=np.float32),
        "timestamps": np.ascontiguousarray(keypoints.timestamps, dtype=np.int64),
    }
    _check_keypoints2d(path, data["keypoints2d"], data["det_scores"], data["timestamps"], keypoints.landmarks)
    if keypoints.landmarks is not None:
        data["landmarks"] = np.ascontiguousarray(keypoints.landmarks, dtype=np.float32)
    return _write_pickle(path, data)


def load_keypoints3d(path: str | Path, optim: bool = True) -> np.ndarray:
    """The (N, 17, 3) float64 world-frame joints in centimetres of an AIST++ ``keypoints3d`` file.

    ``optim=True`` reads ``keypoints3d_optim`` (AIST++'s temporally optimised triangulation,
    the one its tools use), ``False`` the raw triangulation ``keypoints3d``.
    """
    path = Path(path)
    refuse_if_motions(path)
    data = safe_load(path)
    refuse_if_motions(path, data)
    key = "keypoints3d_optim" if optim else "keypoints3d"
    _missing_keys(path, data, (key,), f"keypoints3d ({'optim' if optim else 'raw'})")
    check_shape(path, key, data[key], (None, NUM_JOINTS, 3))
    return np.asarray(data[key], dtype=np.float64)


def write_keypoints3d(
    path: str | Path, keypoints3d: np.ndarray, keypoints3d_optim: np.ndarray | None = None
) -> Path:
    """Write an AIST++ ``keypoints3d`` file: raw and optimised (N, 17, 3) joints in centimetres.

    Data with no raw/optimised distinction (the synthetic dancers) passes ``keypoints3d_optim=None``:
    the same joints are written under both keys, as readers of the official files expect both.
    """
    raw = np.ascontiguousarray(keypoints3d, dtype=np.float64)
    optim = raw if keypoints3d_optim is None else np.ascontiguousarray(keypoints3d_optim, dtype=np.float64)
    check_shape(path, "keypoints3d", raw, (None, NUM_JOINTS, 3))
    check_shape(path, "keypoints3d_optim", optim, (raw.shape[0], NUM_JOINTS, 3))
    return _write_pickle(path, {"keypoints3d": raw, "keypoints3d_optim": optim})
