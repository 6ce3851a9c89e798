"""Silhouettes from the pose front end's person masks (``data.threshold_rule=person``).

A gray-level threshold keeps dark clothes and loses a bare face, hands and any light clothing;
a difference from the median frame keeps fragments. The person mask of a pose model is the
dancer whatever they wear and whatever the floor, so this rule thresholds the mask instead of
the pixels. The probability cut is the front end's (``data.pose.mask_threshold``): its masks
(``VideoPoses.masks``) are uint8, nonzero = the dancer, so one setting decides the mask for the
pose store, ``extract_poses`` and the silhouettes alike. Masks are at the source frame's size or
a scaled copy of it: boxes in source pixels are scaled to the mask.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from deepdance.data.silhouette.follow import combine, crop_resize, keypoint_boxes, mask_box, resize_mask


class FrameSettings(Protocol):
    """What this rule reads of ``SilhouetteSettings`` (a protocol, so preprocess can import this module)."""

    height: int
    width: int
    crop: list[int] | None
    ignore_boxes: list[list[int]]


def person_pixels(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 mask (0/1 or 0/255) -> bool, True on the dancer."""
    return np.asarray(mask) > 0


def mask_scale(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(sx, sy, sx, sy): source pixels -> mask pixels, for a source frame of ``size`` (w, h)."""
    width, height = size
    return np.array([masks.shape[-1] / width, masks.shape[-2] / height] * 2, dtype=np.float64)


def dancer_boxes(
    keypoints: np.ndarray, masks: np.ndarray | None, size: tuple[int, int], min_confidence: float = 0.0
) -> np.ndarray:
    """(N, 4) source-pixel boxes of the dancer: the box of the keypoints with ``min_confidence``,
    the mask's where fewer than two are visible, NaN where neither finds anyone."""
    boxes = keypoint_boxes(keypoints, min_confidence)
    if masks is None or len(masks) == 0:
        return boxes
    scale = mask_scale(masks, size)
    from_masks = np.stack([mask_box(person_pixels(m)) for m in masks]) / scale
    return combine(boxes, from_masks)


def person_silhouettes(
    masks: np.ndarray,
    settings: FrameSettings,
    size: tuple[int, int],
    boxes: np.ndarray | None = None,
) -> np.ndarray:
    """(N, H, W) uint8 person masks -> (N, height, width) uint8 silhouettes, 255 = dancer.

    ``boxes``: the follow crop of every frame (source pixels); without them, ``settings.crop``
    (or the whole frame) is kept. ``settings.ignore_boxes`` are background, as in the other rules.
    """
    scale = mask_scale(masks, size)
    out = np.empty((len(masks), settings.height, settings.width), dtype=np.uint8)
    for i, mask in enumerate(masks):
        pixels = person_pixels(mask)
        for box in settings.ignore_boxes:
            top, left, bottom, right = _to_mask(box, scale)
            pixels[top:bottom, left:right] = False
        if boxes is not None:
            out[i] = crop_resize(pixels, boxes[i] * scale, settings.height, settings.width)
            continue
        if settings.crop is not None:
            top, left, bottom, right = _to_mask(settings.crop, scale)
            pixels = pixels[top:bottom, left:right]
        out[i] = resize_mask(pixels, settings.height, settings.width)
    return out


def _to_mask(box: tuple[int, int, int, int], scale: np.ndarray) -> tuple[int, int, int, int]:
    """A (top, left, bottom, right) source box in mask pixels (rounded outwards)."""
    top, left, bottom, right = box
    sx, sy = scale[0], scale[1]
    return (
        int(np.floor(top * sy)),
        int(np.floor(left * sx)),
        int(np.ceil(bottom * sy)),
        int(np.ceil(right * sx)),
    )
