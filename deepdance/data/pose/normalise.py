"""Keypoints -> the per-frame features a skeleton model reads: pure numpy functions.

A sequence is normalised once: each frame centred on its root (the hips' midpoint), every frame
divided by one scale, the sequence's median torso length (a per-frame scale would erase the
torso's own foreshortening, which is pose). Joints whose confidence is below ``min_confidence``
or whose coordinates are NaN (a frame where the front end found nobody) are zeroed and marked
invalid; the model sees the validity as a mask channel. A window's velocities are each joint's
displacement from the previous *sampled* frame (root motion included), zero for the first frame,
so ``data.num_frames=1`` sees no motion at all: the single-frame control.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepdance.pose.skeleton import FLIP_ORDER, HIPS, NUM_JOINTS, SHOULDERS, torso_length

# Torso length / body extent of an upright figure: the fallback scale when no frame shows
# both shoulders and both hips.
EXTENT_PER_TORSO = 3.0


@dataclass(frozen=True)
class NormalisedSequence:
    """One view of one sequence, normalised: ``joints`` (N, J, D) root-centred and scaled, zero
    where invalid; ``root`` (N, D) in the same units (for velocities); ``valid`` (N, J) bool."""

    joints: np.ndarray
    root: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.joints)


def feature_size(dims: int, velocities: bool, joints: int = NUM_JOINTS) -> int:
    """Features per frame: coordinates, velocities (optional) and the validity mask."""
    return joints * dims * (2 if velocities else 1) + joints


def joint_validity(points: np.ndarray, confidence: np.ndarray | None, min_confidence: float) -> np.ndarray:
    """``points`` (..., J, D), ``confidence`` (..., J) or None -> (..., J) bool: finite
    coordinates and (when given) a confidence of at least ``min_confidence``."""
    valid = np.isfinite(points).all(axis=-1)
    if confidence is not None:
        with np.errstate(invalid="ignore"):
            valid &= np.nan_to_num(confidence, nan=-1.0) >= min_confidence
    return valid


def root_positions(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The root of each frame (N, D): the mean of its valid hips, else of all its valid joints
    (zero for a frame without any)."""
    hips = list(HIPS)
    weights = np.zeros(valid.shape, dtype=np.float64)
    weights[:, hips] = valid[:, hips]
    no_hips = weights.sum(axis=1) == 0
    weights[no_hips] = valid[no_hips]
    total = weights.sum(axis=1, keepdims=True)
    summed = np.einsum("nj,njd->nd", weights, np.where(valid[..., None], points, 0.0))
    return np.divide(summed, total, out=np.zeros_like(summed), where=total > 0)


def sequence_scale(points: np.ndarray, valid: np.ndarray) -> float:
    """The median torso length over frames that show both shoulders and both hips; else the
    median body extent / ``EXTENT_PER_TORSO``; 1 when no frame shows two joints."""
    torso = valid[:, [*SHOULDERS, *HIPS]].all(axis=1)
    if torso.any():
        length = float(np.median(torso_length(points[torso])))
        if length > 0:
            return length
    extents = [np.ptp(frame[ok], axis=0).max() for frame, ok in zip(points, valid) if ok.sum() >= 2]
    extent = float(np.median(extents)) if extents else 0.0
    return extent / EXTENT_PER_TORSO if extent > 0 else 1.0


def normalise_sequence(
    points: np.ndarray,
    confidence: np.ndarray | None = None,
    min_confidence: float = 0.0,
    normalise: bool = True,
) -> NormalisedSequence:
    """``points`` (N, J, D) in pixels or cm, ``confidence`` (N, J) or None -> the normalised
    sequence. ``normalise=False`` keeps the source units (root at the origin, scale 1)."""
    points = np.asarray(points, dtype=np.float64)
    valid = joint_validity(points, confidence, min_confidence)
    if normalise:
        root, scale = root_positions(points, valid), sequence_scale(points, valid)
    else:
        root, scale = np.zeros((len(points), points.shape[-1])), 1.0
    joints = np.where(valid[..., None], (points - root[:, None]) / scale, 0.0)
    return NormalisedSequence(joints.astype(np.float32), (root / scale).astype(np.float32), valid)


def flip_window(joints: np.ndarray, root: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """The mirror image: x negated, left and right joints swapped (``FLIP_ORDER``)."""
    order = list(FLIP_ORDER)
    joints, root = joints[:, order].copy(), root.copy()
    joints[..., 0] *= -1
    root[..., 0] *= -1
    return joints, root, valid[:, order]


def window_features(
    sequence: NormalisedSequence,
    indices: np.ndarray,
    velocities: bool = True,
    flip: bool = False,
) -> np.ndarray:
    """The features (T, F) of the frames ``indices`` (T,): joints, velocities, validity.

    A velocity is kept where the joint is valid in both frames, else zero."""
    joints, root, valid = sequence.joints[indices], sequence.root[indices], sequence.valid[indices]
    if flip:
        joints, root, valid = flip_window(joints, root, valid)
    parts = [joints.reshape(len(indices), -1)]
    if velocities:
        absolute = joints + root[:, None]
        motion = np.zeros_like(joints)
        motion[1:] = absolute[1:] - absolute[:-1]
        both = np.zeros_like(valid)
        both[1:] = valid[1:] & valid[:-1]
        parts.append(np.where(both[..., None], motion, 0.0).reshape(len(indices), -1))
    parts.append(valid.astype(np.float32))
    return np.concatenate(parts, axis=1).astype(np.float32)
