"""A crop that follows the dancer: per frame a box around them, steadied over time, padded to
the silhouette frame's aspect.

A dancer filmed from a fixed camera fills a few percent of a 1080p frame, wherever they stand;
a fixed crop either cuts them off when they travel or leaves them small. So each frame gets the
box of the dancer's keypoints (the mask's box where the keypoints are missing), and the box's
centre and size are interpolated over frames where nobody was found and averaged over a
centred window, so the crop glides with the dancer instead of jittering with every keypoint.
The box then grows by a margin (the keypoints stop at the eyes, wrists and ankles, the body
does not) and to the aspect of ``data.height x data.width``. Outside the source frame is
background: the dancer stays centred near an edge instead of the box being pushed back in.

Boxes are ``(left, top, right, bottom)`` float source pixels, NaN where unknown.
"""

from __future__ import annotations

import cv2
import numpy as np

# a box needs at least two visible keypoints (one point has no extent)
MIN_KEYPOINTS = 2
# the smallest box side, in source pixels: a box of one row would scale a speck to the frame
MIN_SIDE = 4.0


def keypoint_boxes(
    keypoints: np.ndarray, min_confidence: float = 0.0, min_points: int = MIN_KEYPOINTS
) -> np.ndarray:
    """(N, K, 3) x, y, confidence -> (N, 4) boxes of the visible keypoints (finite x and y,
    confidence > 0 and >= ``min_confidence``); NaN rows where fewer than ``min_points`` are."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    xy, conf = keypoints[..., :2], np.nan_to_num(keypoints[..., 2])
    seen = np.isfinite(xy).all(axis=-1) & (conf > 0) & (conf >= min_confidence)
    boxes = np.full((len(keypoints), 4), np.nan)
    for i in np.flatnonzero(seen.sum(axis=1) >= min_points):
        points = xy[i, seen[i]]
        boxes[i] = [*points.min(axis=0), *points.max(axis=0)]
    return boxes


def mask_box(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> the (4,) box of its true pixels (right and bottom exclusive); NaN if none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return np.full(4, np.nan)
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def combine(primary: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each frame's ``primary`` box, or its ``fallback`` box where the primary is missing."""
    missing = ~np.isfinite(primary).all(axis=1)
    return np.where(missing[:, None], fallback, primary)


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """(N, C) with NaN rows -> linearly interpolated between known rows, held flat before the
    first and after the last. Raises ``ValueError`` when no row is known."""
    values = np.asarray(values, dtype=np.float64)
    known = np.isfinite(values).all(axis=1)
    if not known.any():
        raise ValueError("no frame has a box")
    frames = np.arange(len(values))
    return np.stack(
        [np.interp(frames, frames[known], values[known, c]) for c in range(values.shape[1])], axis=1
    )


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """(N, C) -> the centred mean over ``window`` frames (made odd), N rows. The ends are padded
    by point reflection (``2 x_0 - x_k``), so a box moving steadily is not pulled back at the
    first and last frames, and a still box stays where it is."""
    values = np.asarray(values, dtype=np.float64)
    half = max(0, int(window)) // 2
    if half == 0 or len(values) < 2:
        return values.copy()
    padded = np.pad(values, ((half, half), (0, 0)), mode="reflect", reflect_type="odd")
    sums = np.cumsum(np.pad(padded, ((1, 0), (0, 0))), axis=0)
    return (sums[2 * half + 1 :] - sums[: -2 * half - 1]) / (2 * half + 1)


def window_frames(seconds: float, rate: float) -> int:
    """The odd number of frames spanning about ``seconds`` at ``rate`` frames per second (at most
    one frame more: a window is centred on its frame)."""
    return 2 * int(seconds * rate / 2 + 1e-9) + 1


def pad_to_aspect(boxes: np.ndarray, margin: float, aspect: float) -> np.ndarray:
    """Grow each box by ``margin`` x its longer side on every side, then the shorter way until
    width / height == ``aspect`` exactly, about the same centre."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], MIN_SIDE)
    size = size + 2 * margin * size.max(axis=1, keepdims=True)
    height = np.maximum(size[:, 1], size[:, 0] / aspect)
    size = np.stack([height * aspect, height], axis=1)
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)


def follow_boxes(boxes: np.ndarray, window: int, margin: float, aspect: float) -> np.ndarray:
    """Per-frame dancer boxes (NaN where nobody) -> the crop of every frame: gaps interpolated,
    centre and size averaged over ``window`` frames, padded by ``margin`` to ``aspect`` (w / h)."""
    filled = fill_gaps(boxes)
    centre_size = np.concatenate([(filled[:, :2] + filled[:, 2:]) / 2, filled[:, 2:] - filled[:, :2]], axis=1)
    steady = moving_average(centre_size, window)
    corners = np.concatenate([steady[:, :2] - steady[:, 2:] / 2, steady[:, :2] + steady[:, 2:] / 2], axis=1)
    return pad_to_aspect(corners, margin, aspect)


def crop_resize(mask: np.ndarray, box: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) bool mask, a float box -> (height, width) uint8, 255 = dancer, area-resized (edges
    anti-aliased); the box's part outside the mask is background."""
    left, top = int(np.floor(box[0] + 0.5)), int(np.floor(box[1] + 0.5))
    right = max(left + 1, int(np.floor(box[2] + 0.5)))
    bottom = max(top + 1, int(np.floor(box[3] + 0.5)))
    crop = np.zeros((bottom - top, right - left), dtype=np.uint8)
    y0, y1 = max(top, 0), min(bottom, mask.shape[0])
    x0, x1 = max(left, 0), min(right, mask.shape[1])
    if y1 > y0 and x1 > x0:
        crop[y0 - top : y1 - top, x0 - left : x1 - left] = mask[y0:y1, x0:x1].astype(np.uint8) * 255
    return resize_mask(crop, height, width)


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) bool or 0/255 uint8 -> (height, width) uint8 by area (anti-aliased edges)."""
    mask = mask.astype(np.uint8) * 255 if mask.dtype == bool else mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)
