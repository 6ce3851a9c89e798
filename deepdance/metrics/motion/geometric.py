"""Geometric motion features, Bailando's FID_g features, adapted to COCO-17 joints.

Bailando (after FACT's "manual" features and fairmotion) scores 32 boolean relations between
body parts per frame, from Müller et al.'s relational features (Efficient content-based retrieval
of motion capture data, SIGGRAPH 2005): a hand above a plane, a joint bent, a hand moving fast...,
and averages each over the window: the share of frames in which the relation holds.

COCO-17 has no neck, chest, spine, root or toes, and 2-D keypoints have no depth, so this is a
documented subset that reads the same in 2-D and 3-D (``GEOMETRIC_FEATURES``, 26 per window).
Relations in front of / behind a body plane (foot in front, hand in front of the chest) need
depth and are left out. Bailando's thresholds are multiples of the SMPL template's humerus
length, about half a torso; here every length is in torso lengths (the window's median
shoulders-to-hips distance, ``joints.body_scale``), and speeds in torso lengths per second at
the true fps, so that pixels, centimetres and normalised keypoints give the same features.
Angles seen in 2-D are angles of the projection: a limb pointing at the camera looks bent.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepdance.metrics.motion.joints import (
    Up,
    as_windows,
    body_scale,
    check_fps,
    height,
    horizontal,
    up_axis,
)
from deepdance.pose.skeleton import HIPS, JOINT, SHOULDERS

# Bailando's humerus length in torso lengths: its thresholds (1.2 hl, 2.5 hl/s...) convert with it
HUMERUS = 0.5
BENT_DEGREES = 110.0
ARM_OUT_DEGREES = 25.0
THIGH_RAISED_DEGREES = 50.0
HANDS_WIDE = 2.0
HANDS_TOGETHER = 0.25
FOOT_RAISED = 1.2 * HUMERUS
HAND_LOW = 1.2 * HUMERUS
FEET_WIDE = 1.0
TORSO_HORIZONTAL_DEGREES = (70.0, 110.0)
LIMB_FAST = 2.5 * HUMERUS
ROOT_FAST = 2.3 * HUMERUS

# name -> what it measures (the share of the window's frames, or steps for "fast", where it holds)
GEOMETRIC_FEATURES: dict[str, str] = {
    **{f"{s}_wrist_above_head": f"{s} wrist higher than the nose" for s in ("left", "right")},
    **{f"{s}_wrist_above_shoulder": f"{s} wrist higher than its shoulder" for s in ("left", "right")},
    **{f"{s}_elbow_bent": f"{s} elbow angle below {BENT_DEGREES:g} degrees" for s in ("left", "right")},
    **{f"{s}_knee_bent": f"{s} knee angle below {BENT_DEGREES:g} degrees" for s in ("left", "right")},
    **{
        f"{s}_arm_out": f"{s} upper arm more than {ARM_OUT_DEGREES:g} degrees off the torso's downward line"
        for s in ("left", "right")
    },
    **{
        f"{s}_thigh_raised": f"{s} thigh more than {THIGH_RAISED_DEGREES:g} degrees off the torso's line"
        for s in ("left", "right")
    },
    "hands_wide": f"wrists more than {HANDS_WIDE:g} torso lengths apart",
    "hands_together": f"wrists less than {HANDS_TOGETHER:g} torso lengths apart",
    **{
        f"{s}_foot_raised": f"{s} ankle over {FOOT_RAISED:g} torso lengths above the frame's lowest joint"
        for s in ("left", "right")
    },
    "feet_wide": f"ankles more than {FEET_WIDE:g} torso lengths apart across the up direction",
    **{
        f"{s}_hand_low": f"{s} wrist less than {HAND_LOW:g} torso lengths above the frame's lowest joint"
        for s in ("left", "right")
    },
    "torso_horizontal": "hips-to-shoulders line {:g}-{:g} degrees from up".format(*TORSO_HORIZONTAL_DEGREES),
    "torso_inverted": f"hips-to-shoulders line more than {TORSO_HORIZONTAL_DEGREES[1]:g} degrees from up",
    **{f"{s}_wrist_fast": f"{s} wrist faster than {LIMB_FAST:g} torso lengths/s" for s in ("left", "right")},
    **{f"{s}_ankle_fast": f"{s} ankle faster than {LIMB_FAST:g} torso lengths/s" for s in ("left", "right")},
    "root_fast": f"hips' midpoint faster than {ROOT_FAST:g} torso lengths/s (0 for root-centred joints)",
}


def _holds(value: np.ndarray, condition: np.ndarray) -> np.ndarray:
    """``condition`` as 0/1, NaN where ``value`` is NaN (a missing joint decides nothing)."""
    return np.where(np.isnan(value), np.nan, condition.astype(np.float64))


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Degrees between vectors (..., D); NaN where one has zero length."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def _point(joints: np.ndarray, name: str) -> np.ndarray:
    """One joint's track, (..., D)."""
    return joints[..., JOINT[name], :]


def _limb_relations(joints: np.ndarray, h: np.ndarray, torso_up: np.ndarray) -> list[np.ndarray]:
    """Wrists above the head and shoulders, elbows and knees bent, arms out and thighs raised."""
    pose: list[np.ndarray] = []
    for side in ("left", "right"):
        value = h[..., JOINT[f"{side}_wrist"]] - h[..., JOINT["nose"]]
        pose.append(_holds(value, value > 0))
    for side in ("left", "right"):
        value = h[..., JOINT[f"{side}_wrist"]] - h[..., JOINT[f"{side}_shoulder"]]
        pose.append(_holds(value, value > 0))
    for upper, middle, lower in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle")):
        for side in ("left", "right"):
            centre = _point(joints, f"{side}_{middle}")
            value = _angle(
                _point(joints, f"{side}_{upper}") - centre, _point(joints, f"{side}_{lower}") - centre
            )
            pose.append(_holds(value, value < BENT_DEGREES))
    for base, tip, limit in (("shoulder", "elbow", ARM_OUT_DEGREES), ("hip", "knee", THIGH_RAISED_DEGREES)):
        for side in ("left", "right"):
            value = _angle(-torso_up, _point(joints, f"{side}_{tip}") - _point(joints, f"{side}_{base}"))
            pose.append(_holds(value, value > limit))
    return pose


def _spacing_relations(
    joints: np.ndarray, h: np.ndarray, scale: np.ndarray, direction: Up
) -> list[np.ndarray]:
    """Hands wide or together, feet raised or wide, hands low, all in torso lengths."""
    lowest = h.min(axis=-1)
    hands = np.linalg.norm(_point(joints, "left_wrist") - _point(joints, "right_wrist"), axis=-1) / scale
    pose = [_holds(hands, hands > HANDS_WIDE), _holds(hands, hands < HANDS_TOGETHER)]
    for side in ("left", "right"):
        value = (h[..., JOINT[f"{side}_ankle"]] - lowest) / scale
        pose.append(_holds(value, value > FOOT_RAISED))
    apart = horizontal(_point(joints, "left_ankle") - _point(joints, "right_ankle"), direction)
    feet = np.linalg.norm(apart, axis=-1) / scale
    pose.append(_holds(feet, feet > FEET_WIDE))
    for side in ("left", "right"):
        value = (h[..., JOINT[f"{side}_wrist"]] - lowest) / scale
        pose.append(_holds(value, value < HAND_LOW))
    return pose


def _torso_relations(torso_up: np.ndarray, direction: Up) -> list[np.ndarray]:
    """The hips-to-shoulders line lying down, or upside down."""
    up_vector = np.zeros(torso_up.shape[-1])
    up_vector[direction.axis] = direction.sign
    tilt = _angle(torso_up, np.broadcast_to(up_vector, torso_up.shape))
    low, high = TORSO_HORIZONTAL_DEGREES
    return [_holds(tilt, (tilt > low) & (tilt < high)), _holds(tilt, tilt >= high)]


def _speed_relations(
    joints: np.ndarray, hip_mid: np.ndarray, fps: float, scale: np.ndarray
) -> list[np.ndarray]:
    """Wrists, ankles and the hips' midpoint moving fast, one value per step."""

    # in torso lengths per second in torso lengths per second, one per step
    def speed(track: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.diff(track, axis=1), axis=-1) * fps / scale

    fast: list[np.ndarray] = []
    for name in ("wrist", "ankle"):
        for side in ("left", "right"):
            value = speed(_point(joints, f"{side}_{name}"))
            fast.append(_holds(value, value > LIMB_FAST))
    value = speed(hip_mid)
    fast.append(_holds(value, value > ROOT_FAST))
    return fast


def geometric_features(windows: np.ndarray, fps: float, up: str | None = None) -> np.ndarray:
    """(N, T, 17, D) windows -> (N, 26) shares of frames in which each ``GEOMETRIC_FEATURES``
    relation holds (pose relations over the T frames, speeds over the T - 1 steps)."""
    joints = as_windows(windows, "geometric_features windows")
    fps = check_fps(fps, "geometric_features")
    direction = up_axis(joints.shape[-1], up)
    # (N, 1): lengths below are divided by it
    scale = body_scale(joints)[:, None]
    h = height(joints, direction)
    hip_mid = joints[..., HIPS, :].mean(-2)
    torso_up = joints[..., SHOULDERS, :].mean(-2) - hip_mid
    pose = [
        *_limb_relations(joints, h, torso_up),
        *_spacing_relations(joints, h, scale, direction),
        *_torso_relations(torso_up, direction),
    ]
    fast = _speed_relations(joints, hip_mid, fps, scale)
    # an all-NaN window keeps NaN features, without numpy's empty-slice warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shares = [np.nanmean(np.stack(pose, -1), axis=1), np.nanmean(np.stack(fast, -1), axis=1)]
    return np.concatenate(shares, axis=-1)
