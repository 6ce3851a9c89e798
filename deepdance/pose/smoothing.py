"""Temporal smoothing of one dancer's keypoints: One-Euro or Savitzky-Golay, NaN-aware.

A joint is filtered only over the frames where it was seen (finite, confidence at least
``min_confidence``); each run of such frames is filtered on its own, so a frame with nobody stays
NaN and no value is smeared across a gap. Positions are filtered in units of the frame's height:
the same settings fit a 256 px render and a 1080p studio video. Confidences are never changed.
"""

from __future__ import annotations

import numpy as np

from deepdance.config.pose import SmoothingConfig


def seen_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D mask."""
    padded = np.r_[False, valid, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    tau = 1.0 / (2 * np.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


def one_euro(
    xy: np.ndarray, valid: np.ndarray, seconds: np.ndarray, min_cutoff: float, beta: float, d_cutoff: float
) -> np.ndarray:
    """One-Euro filter (Casiez et al. 2012) of ``xy`` (N, J, 2) over time ``seconds`` (N,);
    a joint's filter restarts after every frame where ``valid`` (N, J) is False."""
    out = xy.copy()
    previous = np.zeros(xy.shape[1:], np.float64)
    velocity = np.zeros(xy.shape[1:], np.float64)
    live = np.zeros(xy.shape[1], bool)
    last_time = None
    for i in range(len(xy)):
        dt = float(seconds[i] - last_time) if last_time is not None else 0.0
        # equal or missing timestamps: assume 30 fps
        dt = dt if dt > 0 else 1 / 30
        last_time = seconds[i]
        seen = valid[i]
        x = xy[i].astype(np.float64)
        step = live & seen
        raw_velocity = (x - previous) / dt
        a_d = _alpha(d_cutoff, dt)
        new_velocity = a_d * raw_velocity + (1 - a_d) * velocity
        speed = np.linalg.norm(new_velocity, axis=-1, keepdims=True)
        a = _alpha(min_cutoff + beta * speed, dt)
        filtered = a * x + (1 - a) * previous
        fresh = seen & ~live
        previous = np.where(step[:, None], filtered, np.where(fresh[:, None], x, previous))
        velocity = np.where(step[:, None], new_velocity, np.where(fresh[:, None], 0.0, velocity))
        out[i][step] = filtered[step]
        live = seen
    return out


def savgol(xy: np.ndarray, valid: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """Savitzky-Golay of ``xy`` (N, J, 2) over each joint's runs of seen frames; a run shorter
    than ``window`` takes the longest odd window it holds (left as it is if that is <= polyorder)."""
    from scipy.signal import savgol_filter

    out = xy.copy()
    for joint in range(xy.shape[1]):
        for start, stop in seen_runs(valid[:, joint]):
            length = stop - start
            size = min(window, length if length % 2 else length - 1)
            if size <= polyorder:
                continue
            out[start:stop, joint] = savgol_filter(xy[start:stop, joint], size, polyorder, axis=0)
    return out


def smooth_keypoints(
    keypoints: np.ndarray, seconds: np.ndarray, height: int, config: SmoothingConfig, min_confidence: float
) -> np.ndarray:
    """``keypoints`` (N, J, 3) x, y, confidence smoothed by ``config.method``; NaN stays NaN."""
    if config.method == "none" or len(keypoints) == 0:
        return keypoints
    xy = keypoints[..., :2].astype(np.float64) / height
    valid = np.isfinite(xy).all(axis=-1) & (keypoints[..., 2] >= min_confidence) & (keypoints[..., 2] > 0)
    if config.method == "one_euro":
        smoothed = one_euro(xy, valid, seconds, config.min_cutoff, config.beta, config.d_cutoff)
    else:
        smoothed = savgol(xy, valid, config.window, config.polyorder)
    out = keypoints.copy()
    out[..., :2] = np.where(valid[..., None], smoothed * height, keypoints[..., :2])
    return out
