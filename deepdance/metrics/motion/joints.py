"""Joint sequences as the motion metrics read them: shape checks, the up direction, the body's
scale, and the 4 s windows that FID_k / FID_g / Div_k / Div_g are taken over.

A joint sequence is (T, 17, D) or a batch (N, T, 17, D) of COCO-17 keypoints (``pose.skeleton``),
D = 2 (image x, y) or 3. Heights are read along one axis: ``up="-y"`` for image coordinates, whose
rows grow downwards (the default for D = 2, and what ``data.pose`` normalisation keeps), ``"y"``
for AIST++'s keypoints3d world (the default for D = 3).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import NUM_JOINTS, torso_length

UP_CHOICES = ("x", "-x", "y", "-y", "z", "-z")
# A 4 s window, as FACT and Bailando cut theirs for FID_k / FID_g.
WINDOW_SECONDS = 4.0


def as_windows(x: np.ndarray | Sequence, name: str) -> np.ndarray:
    """Checked joints as float64 (N, T, 17, D): a single (T, 17, D) sequence becomes N = 1."""
    joints = np.asarray(x, dtype=np.float64)
    if joints.ndim == 3:
        joints = joints[None]
    if joints.ndim != 4 or joints.shape[2] != NUM_JOINTS or joints.shape[3] not in (2, 3):
        raise DeepdanceError(
            f"{name}: expected COCO-17 joints of shape (N, T, 17, D) or (T, 17, D) with D = 2 or 3, "
            f"got {tuple(np.shape(x))}"
        )
    return joints


def check_fps(fps: float, name: str) -> float:
    """``fps`` as a positive float."""
    if isinstance(fps, bool) or not (isinstance(fps, numbers.Real) and np.isfinite(fps) and fps > 0):
        raise DeepdanceError(f"{name}: fps must be a positive number of frames per second, got {fps!r}")
    return float(fps)


class Up(NamedTuple):
    """Which coordinate is height, and its sign (-1 where the axis points down)."""

    axis: int
    sign: float


def up_axis(dims: int, up: str | None = None) -> Up:
    """The up direction for D = ``dims``; None picks "-y" for 2-D (image rows grow downwards)
    and "y" for 3-D (AIST++ keypoints3d)."""
    if up is None:
        up = "-y" if dims == 2 else "y"
    if up not in UP_CHOICES:
        raise DeepdanceError(f"up: expected one of {', '.join(UP_CHOICES)}, got {up!r}")
    axis = "xyz".index(up[-1])
    if axis >= dims:
        raise DeepdanceError(f"up: {up!r} names an axis that {dims}-D joints do not have")
    return Up(axis, -1.0 if up.startswith("-") else 1.0)


def height(points: np.ndarray, up: Up) -> np.ndarray:
    """(..., D) -> (...): the coordinate along the up direction."""
    return points[..., up.axis] * up.sign


def horizontal(points: np.ndarray, up: Up) -> np.ndarray:
    """(..., D) -> (..., D - 1): the coordinates across the up direction (image x in 2-D, the
    ground plane in 3-D)."""
    return np.delete(points, up.axis, axis=-1)


def body_scale(windows: np.ndarray) -> np.ndarray:
    """(N, T, 17, D) -> (N,): each window's median torso length (shoulders' to hips' midpoint).

    Thresholds in body lengths make the geometric features and foot contact the same for
    pixels, centimetres or torso-normalised keypoints. A window without a finite torso gets NaN.
    """
    torso = torso_length(windows)
    with np.errstate(all="ignore"):
        finite = np.isfinite(torso).any(axis=1)
        scale = np.full(len(windows), np.nan)
        if finite.any():
            scale[finite] = np.nanmedian(torso[finite], axis=1)
    return scale


class Windows(NamedTuple):
    """Windows cut from sequences: ``joints`` (N, L, 17, D), the sequence each came from and its
    first frame, and how many complete windows were dropped for non-finite joints."""

    joints: np.ndarray
    sequence: np.ndarray
    start: np.ndarray
    dropped: int


def window_length(fps: float, seconds: float = WINDOW_SECONDS) -> int:
    """Frames in a window of ``seconds`` at ``fps`` (rounded, at least 3: accelerations need 3)."""
    fps = check_fps(fps, "window_length")
    if not seconds > 0:
        raise DeepdanceError(f"window_length: seconds must be positive, got {seconds!r}")
    return max(3, round(seconds * fps))


def cut_windows(
    sequences: np.ndarray | Sequence[np.ndarray],
    fps: float,
    seconds: float = WINDOW_SECONDS,
    stride_seconds: float | None = None,
    drop_missing: bool = True,
) -> Windows:
    """Every complete window of ``seconds`` from each (T_i, 17, D) sequence (lengths may differ).

    Windows start at 0, stride, 2 stride... (``stride_seconds`` None: back to back, no overlap),
    so a sequence of T frames gives ``(T - L) // stride + 1`` windows (0 when T < L). With
    ``drop_missing``, windows holding any non-finite coordinate (a frame where the front end
    found nobody) are dropped and counted; the features below would be NaN on them.
    """
    length = window_length(fps, seconds)
    if stride_seconds is not None and not stride_seconds > 0:
        raise DeepdanceError(f"cut_windows: stride_seconds must be positive, got {stride_seconds!r}")
    stride = length if stride_seconds is None else max(1, round(stride_seconds * fps))
    if isinstance(sequences, np.ndarray) and sequences.ndim == 3:
        sequences = [sequences]
    cut, origin, starts, dims = [], [], [], set()
    for index, sequence in enumerate(sequences):
        joints = as_windows(sequence, f"cut_windows sequence {index}")[0]
        dims.add(joints.shape[-1])
        for start in range(0, len(joints) - length + 1, stride):
            cut.append(joints[start : start + length])
            origin.append(index)
            starts.append(start)
    if len(dims) > 1:
        raise DeepdanceError(f"cut_windows: sequences mix 2-D and 3-D joints ({sorted(dims)})")
    dim = dims.pop() if dims else 2
    joints = np.stack(cut) if cut else np.zeros((0, length, NUM_JOINTS, dim))
    origin_arr, start_arr = np.asarray(origin, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    dropped = 0
    if drop_missing and len(joints):
        keep = np.isfinite(joints).all(axis=(1, 2, 3))
        dropped = int((~keep).sum())
        joints, origin_arr, start_arr = joints[keep], origin_arr[keep], start_arr[keep]
    return Windows(joints, origin_arr, start_arr, dropped)
