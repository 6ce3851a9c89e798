"""Kinetic motion features, FACT's and Bailando's FID_k features, on COCO-17 joints.

Both papers take fairmotion's manual kinetic extractor: for each joint, over the frames of a
window, the mean squared horizontal speed, the mean squared vertical speed (their "average
kinetic energy", unit mass, no 1/2) and the mean acceleration magnitude (their "energy
expenditure"). Velocities are one-step differences averaged over a centred window of
``2 * smoothing + 1`` steps (fairmotion's ``sliding_window=2``), truncated at the window's ends;
accelerations are second differences averaged the same way. Both are taken at the true ``fps``.
Per window: 17 joints x (horizontal energy, vertical energy, expenditure) = 51 numbers, in the
input's units squared per second squared (energies) and units per second squared
(expenditure).

Adapted to COCO-17: the joints are AIST++'s 17 keypoints rather than SMPL's 24, and 2-D joints
split into image x (horizontal) and the image's vertical axis.
"""

from __future__ import annotations

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.metrics.motion.joints import as_windows, check_fps, height, horizontal, up_axis

# fairmotion's sliding_window: each velocity averages 2 * 2 + 1 one-step differences
SMOOTHING = 2
KINETIC_PARTS = ("kinetic_horizontal", "kinetic_vertical", "energy_expenditure")


def _centred_mean(x: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """Mean of ``x`` (N, K, ...) along axis 1 over [c - half, c + half] clipped to [0, K - 1],
    for each centre c: (N, len(centres), ...)."""
    k = x.shape[1]
    sums = np.concatenate([np.zeros_like(x[:, :1]), np.cumsum(x, axis=1)], axis=1)
    lo = np.clip(centres - half, 0, k)
    hi = np.clip(centres + half + 1, 0, k)
    counts = (hi - lo).reshape((1, -1) + (1,) * (x.ndim - 2))
    return (sums[:, hi] - sums[:, lo]) / counts


def kinetic_features(
    windows: np.ndarray, fps: float, up: str | None = None, smoothing: int = SMOOTHING
) -> np.ndarray:
    """(N, T, 17, D) windows (T >= 3) -> (N, 51) kinetic features, per joint in COCO-17 order:
    mean squared horizontal speed, mean squared vertical speed, mean acceleration magnitude.

    Frames i = 1..T-1 each contribute one value, as in fairmotion: the velocity of frame i
    averages the steps i-1-s..i-1+s, its acceleration the second differences centred on
    i-s..i+s (s = ``smoothing``), clipped to those that exist. A joint moving at constant
    velocity v gives (|v_h|^2, v_up^2, 0).
    """
    joints = as_windows(windows, "kinetic_features windows")
    frame_time = 1.0 / check_fps(fps, "kinetic_features")
    n, t = joints.shape[:2]
    if t < 3:
        raise DeepdanceError(f"kinetic_features: windows need at least 3 frames, got {t}")
    direction = up_axis(joints.shape[-1], up)
    steps = np.diff(joints, axis=1)
    # step m = i - 1 is frame i's own step
    velocity = _centred_mean(steps, np.arange(t - 1), smoothing) / frame_time
    # second difference q is centred on frame q + 1; frame i's window is centred on q = i - 1
    second = np.diff(joints, n=2, axis=1)
    acceleration = _centred_mean(second, np.arange(t - 1), smoothing) / frame_time**2
    energy_h = np.square(horizontal(velocity, direction)).sum(-1).mean(1)
    energy_v = np.square(height(velocity, direction)).mean(1)
    expenditure = np.linalg.norm(acceleration, axis=-1).mean(1)
    return np.stack([energy_h, energy_v, expenditure], axis=-1).reshape(n, -1)
