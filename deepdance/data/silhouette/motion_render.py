"""Silhouettes of real motion: a body drawn between 2D keypoints, no inverse kinematics.

An annotation file says where a dancer's joints were, not what their body looked like. The
silhouette models read a filled shape, so each frame is drawn as one: limbs as filled capsules,
the torso as the polygon of shoulders and hips (thickened, so a dancer seen side-on keeps a body),
the head as a disc over the face points, the neck joining it to the shoulders. Widths are fixed
fractions of the sequence's median torso length (the head's radius of its median shoulder width),
so a limb keeps its width while the body turns, instead of swelling and shrinking with
foreshortening.

Joints under ``min_confidence`` or NaN are missing: gaps up to ``max_gap`` source frames between
two seen positions are interpolated (a blink of the detector), longer ones leave out every shape
that needs the joint. Frames are the sequence's samples nearest ``fps`` from its timestamps, as a
video's silhouettes sample a video. The crop is one box per sequence and view (its keypoints'
extent grown by the drawn body and a margin, padded to the frame's aspect) or, with ``follow``,
the follow crop of ``deepdance.data.silhouette.follow`` over the keypoints' boxes.

Frames are (N, height, width) uint8, 255 = dancer, 0 = background: what the silhouette cache
holds for a video of a black dancer on white.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from deepdance.data.silhouette.follow import MIN_KEYPOINTS, follow_boxes, pad_to_aspect, window_frames
from deepdance.data.synthetic.renderer import SHIFT, SUPERSAMPLE
from deepdance.pose.skeleton import HIPS, JOINT, SHOULDERS, torso_length

_ONE = 1 << SHIFT
# the fixed crop leaves out the outermost 1 % of frames' boxes on each side
EXTENT_TRIM = 0.01
HEAD = tuple(JOINT[name] for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear"))
# limbs: (joint, joint, width as a fraction of the limb width); legs are thicker than arms
LIMBS: tuple[tuple[int, int, float], ...] = tuple(
    (JOINT[a], JOINT[b], w)
    for a, b, w in (
        ("left_hip", "left_knee", 1.35),
        ("right_hip", "right_knee", 1.35),
        ("left_knee", "left_ankle", 1.1),
        ("right_knee", "right_ankle", 1.1),
        ("left_shoulder", "left_elbow", 1.0),
        ("right_shoulder", "right_elbow", 1.0),
        ("left_elbow", "left_wrist", 0.85),
        ("right_elbow", "right_wrist", 0.85),
    )
)
# hands and feet: discs at the ends of the limbs (radius as a fraction of the limb width)
ENDS: tuple[tuple[int, float], ...] = tuple(
    (JOINT[name], r)
    for name, r in (("left_wrist", 0.55), ("right_wrist", 0.55), ("left_ankle", 0.6), ("right_ankle", 0.6))
)
# the torso's edges, drawn as capsules so its corners are round
TORSO_EDGES = (
    (SHOULDERS[0], SHOULDERS[1]),
    (HIPS[0], HIPS[1]),
    (SHOULDERS[0], HIPS[0]),
    (SHOULDERS[1], HIPS[1]),
)


@dataclass(frozen=True)
class MotionStyle:
    """How the body is drawn and fitted to the frame; every value is part of the cache key.

    ``limb_width``: an upper arm's width / the median torso length (other limbs in proportion);
    ``head_radius``: the head's radius / the median shoulder width; ``margin``: the fixed crop grows
    by this fraction of its longer side (``follow_margin`` with ``follow``); ``min_confidence``:
    joints below it are missing; ``max_gap_seconds``: the longest gap interpolated.
    """

    height: int = 120
    width: int = 200
    fps: float | None = 3.0
    start_seconds: float = 0.0
    limb_width: float = 0.2
    head_radius: float = 0.45
    min_confidence: float = 0.05
    max_gap_seconds: float = 0.5
    margin: float = 0.05
    follow: bool = False
    follow_margin: float = 0.15
    follow_seconds: float = 1.0


def valid_joints(keypoints: np.ndarray, min_confidence: float) -> np.ndarray:
    """(N, 17, 3) -> (N, 17) True where x and y are finite and the confidence reaches ``min_confidence``."""
    conf = np.nan_to_num(keypoints[..., 2], nan=0.0)
    return np.isfinite(keypoints[..., :2]).all(axis=-1) & (conf >= min_confidence)


def fill_short_gaps(points: np.ndarray, valid: np.ndarray, max_gap: int) -> np.ndarray:
    """(N, J, 2) points, (N, J) valid -> points with each joint's gaps of at most ``max_gap``
    frames between two valid frames linearly interpolated; every other invalid point NaN."""
    out = np.where(valid[..., None], points, np.nan).astype(np.float64)
    frames = np.arange(len(points))
    for j in range(points.shape[1]):
        seen = np.flatnonzero(valid[:, j])
        if len(seen) < 2 or max_gap < 1:
            continue
        # each frame's next seen frame; a missing frame is filled when its gap is short
        after = np.clip(np.searchsorted(seen, frames), 1, len(seen) - 1)
        gap = seen[after] - seen[after - 1] - 1
        fill = ~valid[:, j] & (frames > seen[0]) & (frames < seen[-1]) & (gap <= max_gap)
        for c in range(points.shape[2]):
            out[fill, j, c] = np.interp(frames[fill], seen, out[seen, j, c])
    return out


def sample_frames(timestamps: np.ndarray, fps: float | None, start_seconds: float = 0.0) -> np.ndarray:
    """Indices of the frames nearest each sampling time ``start + k / fps`` (seconds from the first
    timestamp, microseconds in ``timestamps``), up to the last frame; every frame from the start
    when ``fps`` is None. A frame is used once, as ``sampled_indices`` does for a video."""
    seconds = (np.asarray(timestamps, dtype=np.float64) - float(timestamps[0])) / 1e6
    if fps is None:
        return np.flatnonzero(seconds >= start_seconds - 1e-9)
    if len(seconds) < 2:
        return np.arange(len(seconds)) if start_seconds <= 1e-9 else np.zeros(0, dtype=np.int64)
    # the last frame lasts one frame step, as a video's last frame does
    step = float(np.median(np.diff(seconds)))
    times = np.arange(start_seconds, seconds[-1] + step / 2, 1.0 / fps)
    right = np.clip(np.searchsorted(seconds, times), 1, len(seconds) - 1)
    left = right - 1
    nearest = np.where(np.abs(seconds[left] - times) <= np.abs(seconds[right] - times), left, right)
    return np.unique(nearest)


def body_scale(points: np.ndarray) -> tuple[float, float]:
    """The sequence's median torso length and shoulder width in pixels (over frames where both
    are seen); NaN when no frame shows a torso."""
    torso = torso_length(points)
    shoulders = np.linalg.norm(points[:, SHOULDERS[0]] - points[:, SHOULDERS[1]], axis=-1)
    torso, shoulders = torso[np.isfinite(torso)], shoulders[np.isfinite(shoulders)]
    return (
        float(np.median(torso)) if len(torso) else float("nan"),
        float(np.median(shoulders)) if len(shoulders) else float("nan"),
    )


def crop_boxes(points: np.ndarray, style: MotionStyle, reach: float, rate: float) -> np.ndarray:
    """(N, 4) ``(left, top, right, bottom)`` source-pixel crops at the frame's aspect: one box for
    the whole sequence, or (``follow``) the follow crop. ``reach``: how far the drawn body extends
    past its keypoints (the head's radius, half a leg's width)."""
    aspect = style.width / style.height
    # each frame's box of its drawn joints (NaN rows where fewer than two), as keypoint_boxes
    seen = np.isfinite(points).all(axis=-1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boxes = np.concatenate([np.nanmin(points, axis=1), np.nanmax(points, axis=1)], axis=1)
    boxes[seen.sum(axis=1) < MIN_KEYPOINTS] = np.nan
    boxes[:, :2] -= reach
    boxes[:, 2:] += reach
    if style.follow:
        return follow_boxes(boxes, window_frames(style.follow_seconds, rate), style.follow_margin, aspect)
    # the extent of all but the outermost EXTENT_TRIM of frames: one stray keypoint (a detector's
    # mistake across the room) would otherwise shrink the dancer in every frame
    seen = boxes[np.isfinite(boxes).all(axis=1)]
    if len(seen) == 0:
        raise ValueError("no frame has two joints to fit a crop to")
    whole = np.array(
        [[*np.quantile(seen[:, :2], EXTENT_TRIM, axis=0), *np.quantile(seen[:, 2:], 1 - EXTENT_TRIM, axis=0)]]
    )
    return np.repeat(pad_to_aspect(whole, style.margin, aspect), len(points), axis=0)


def draw_body(canvas: np.ndarray, points: np.ndarray, limb: float, head: float) -> None:
    """Fill one pose (17, 2) canvas pixels on ``canvas`` (H, W) uint8 with 255: ``limb`` is an upper
    arm's width and ``head`` the head's radius, in canvas pixels; NaN joints skip their shapes."""
    # plain floats: a frame is ~25 shapes, and numpy's per-call cost would dominate
    xy = points.tolist()
    seen = [x == x and y == y for x, y in xy]

    def mean(joints: tuple[int, ...] | list[int]) -> list[float]:
        return [sum(xy[j][0] for j in joints) / len(joints), sum(xy[j][1] for j in joints) / len(joints)]

    def fixed(point: list[float]) -> tuple[int, int]:
        return int(round(point[0] * _ONE)), int(round(point[1] * _ONE))

    def capsule(a: list[float], b: list[float], width: float) -> None:
        cv2.line(canvas, fixed(a), fixed(b), 255, max(1, int(round(width))), cv2.LINE_AA, SHIFT)

    def disc(centre: list[float], radius: float) -> None:
        cv2.circle(canvas, fixed(centre), max(1, int(round(radius * _ONE))), 255, -1, cv2.LINE_AA, SHIFT)

    corners = [j for j in (SHOULDERS[0], SHOULDERS[1], HIPS[1], HIPS[0]) if seen[j]]
    if len(corners) >= 3:
        polygon = np.array([fixed(xy[j]) for j in corners], dtype=np.int32)
        cv2.fillPoly(canvas, [polygon], 255, cv2.LINE_AA, SHIFT)
    for a, b in TORSO_EDGES:
        if seen[a] and seen[b]:
            capsule(xy[a], xy[b], limb)
    shoulders = seen[SHOULDERS[0]] and seen[SHOULDERS[1]]
    # a body seen side-on: the trunk from the shoulders' to the hips' midpoint, a chest deep
    if shoulders and seen[HIPS[0]] and seen[HIPS[1]]:
        capsule(mean(SHOULDERS), mean(HIPS), 1.6 * limb)
    for a, b, w in LIMBS:
        if seen[a] and seen[b]:
            capsule(xy[a], xy[b], w * limb)
    for j, r in ENDS:
        if seen[j]:
            disc(xy[j], r * limb)
    face = [j for j in HEAD if seen[j]]
    if face:
        centre = mean(face)
        disc(centre, head)
        if shoulders:
            capsule(centre, mean(SHOULDERS), 0.9 * limb)


def render_keypoints(
    keypoints: np.ndarray, timestamps: np.ndarray, style: MotionStyle = MotionStyle()
) -> np.ndarray:
    """(N, 17, 3) source-pixel keypoints (x, y, confidence) with their (N,) microsecond timestamps
    -> silhouettes (T, height, width) uint8, 255 = dancer, sampled at ``style.fps``.

    A sequence where no frame shows a torso (no scale for the body) gives blank frames."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    timestamps = np.asarray(timestamps)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (17, 3) or len(timestamps) != len(keypoints):
        raise ValueError(f"keypoints (N, 17, 3) with N timestamps expected, got {keypoints.shape}")
    indices = sample_frames(timestamps, style.fps, style.start_seconds) if len(keypoints) else []
    frames = np.zeros((len(indices), style.height, style.width), dtype=np.uint8)
    if len(indices) == 0:
        return frames
    seconds = np.diff(timestamps.astype(np.float64)) / 1e6
    source_rate = 1.0 / float(np.median(seconds)) if len(seconds) and np.median(seconds) > 0 else 1.0
    valid = valid_joints(keypoints, style.min_confidence)
    points = fill_short_gaps(keypoints[..., :2], valid, int(style.max_gap_seconds * source_rate + 1e-9))
    # sizes and crops from every source frame: steadier than from the few sampled ones
    torso, shoulders = body_scale(points)
    if not np.isfinite(torso) or torso <= 0:
        return frames
    limb = style.limb_width * torso
    head = style.head_radius * shoulders if np.isfinite(shoulders) else 0.0
    # a head never smaller than a neck: shoulders seen edge-on have no width
    head = max(head, 0.9 * limb)
    boxes = crop_boxes(points, style, max(head, 0.7 * limb), source_rate)[indices]
    sh, sw = style.height * SUPERSAMPLE, style.width * SUPERSAMPLE
    for i, (pose, box) in enumerate(zip(points[indices], boxes, strict=True)):
        # source pixels -> canvas pixels of this frame's crop (pixel centres at integers)
        scale = sw / (box[2] - box[0])
        canvas_points = (pose - box[:2]) * scale - 0.5
        canvas = np.zeros((sh, sw), dtype=np.uint8)
        draw_body(canvas, canvas_points, limb * scale, head * scale)
        frames[i] = cv2.resize(canvas, (style.width, style.height), interpolation=cv2.INTER_AREA)
    return frames
