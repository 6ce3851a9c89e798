"""Silhouettes from person masks (data.threshold_rule=person) and the crop that follows the dancer
(data.follow): the pure box and mask functions, then whole videos through a fake pose estimator
that returns known masks and keypoints, the cache key, and the preview CLI."""

from __future__ import annotations

import numpy as np
import pytest

from deepdance.data.silhouette.follow import (
    crop_resize,
    fill_gaps,
    follow_boxes,
    keypoint_boxes,
    moving_average,
    pad_to_aspect,
    window_frames,
)
from deepdance.data.silhouette.person import dancer_boxes, person_silhouettes
from deepdance.data.silhouette.preprocess import SilhouetteSettings


def test_padded_boxes_have_the_frame_aspect_exactly_and_keep_their_centre() -> None:
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 500, (50, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 400, (50, 2))], axis=1)
    for aspect in (200 / 120, 1.0, 0.5):
        padded = pad_to_aspect(boxes, margin=0.15, aspect=aspect)
        size = padded[:, 2:] - padded[:, :2]
        assert np.all(size[:, 0] / size[:, 1] == pytest.approx(aspect, rel=1e-12))
        np.testing.assert_allclose((padded[:, :2] + padded[:, 2:]) / 2, (boxes[:, :2] + boxes[:, 2:]) / 2)
        # the box and its margin (0.15 of its longer side) are inside the crop
        grow = 0.15 * (boxes[:, 2:] - boxes[:, :2]).max(axis=1, keepdims=True)
        assert np.all(padded[:, :2] <= boxes[:, :2] - grow + 1e-9)
        assert np.all(padded[:, 2:] >= boxes[:, 2:] + grow - 1e-9)


def test_gaps_are_interpolated_and_the_ends_held() -> None:
    values = np.array([[np.nan], [0.0], [np.nan], [np.nan], [3.0], [np.nan]])
    assert fill_gaps(values)[:, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="no frame"):
        fill_gaps(np.full((4, 4), np.nan))


def test_moving_average_keeps_length_a_still_box_and_a_straight_path() -> None:
    still = np.full((9, 2), 7.0)
    assert np.array_equal(moving_average(still, 5), still)
    line = np.arange(20, dtype=float)[:, None]
    smoothed = moving_average(line, 5)
    assert smoothed.shape == line.shape
    # a centred window leaves a straight path where it is (away from the held ends)
    np.testing.assert_allclose(smoothed[2:-2], line[2:-2])
    assert window_frames(1.0, 3.0) == 3 and window_frames(1.0, 30.0) == 31 and window_frames(0.0, 30.0) == 1


def test_smoothing_reduces_jitter_of_the_crop() -> None:
    rng = np.random.default_rng(1)
    n = 120
    centre_x = np.linspace(100, 500, n)
    jitter = rng.normal(0, 12, (n, 2))
    boxes = np.stack([centre_x - 40, np.full(n, 100.0), centre_x + 40, np.full(n, 300.0)], axis=1)
    noisy = boxes + np.concatenate([jitter, jitter + rng.normal(0, 6, (n, 2))], axis=1)
    aspect = 200 / 120
    truth = pad_to_aspect(boxes, 0.15, aspect)
    raw = pad_to_aspect(noisy, 0.15, aspect)
    steady = follow_boxes(noisy, window=9, margin=0.15, aspect=aspect)

    def error(crops: np.ndarray) -> float:
        inner = slice(5, -5)
        return float(np.abs((crops - truth)[inner]).mean())

    assert error(steady) < 0.5 * error(raw)
    # frame-to-frame steps (jitter) shrink too
    assert np.abs(np.diff(steady, axis=0)).mean() < 0.3 * np.abs(np.diff(raw, axis=0)).mean()


def test_keypoint_box_uses_confident_points_and_falls_back_to_the_mask() -> None:
    keypoints = np.zeros((3, 17, 3), np.float32)
    keypoints[0, :, :2] = [[10 + k, 20 + 2 * k] for k in range(17)]
    keypoints[0, :, 2] = 0.9
    keypoints[0, 16] = [500, 500, 0.1]  # below the confidence: not in the box
    keypoints[1, :, :2] = np.nan  # nobody's keypoints: the mask's box instead
    keypoints[2, :, :2] = np.nan
    # masks at half the source size (100 x 80 source, w x h)
    masks = np.zeros((3, 40, 50), np.uint8)
    masks[1, 10:20, 5:15] = 1
    boxes = dancer_boxes(keypoints, masks, (100, 80), min_confidence=0.3)
    np.testing.assert_allclose(boxes[0], [10, 20, 25, 50])
    np.testing.assert_allclose(boxes[1], [10, 20, 30, 40])
    assert np.isnan(boxes[2]).all()
    assert np.isnan(keypoint_boxes(keypoints[:1], min_confidence=0.95)).all()


def test_person_rule_keeps_the_masks_and_the_follow_crop_centres_them() -> None:
    masks = np.zeros((2, 60, 100), np.uint8)
    masks[0, 10:50, 20:40] = 1
    masks[1, 10:50, 60:80] = 1
    settings = SilhouetteSettings.from_config({"threshold_rule": "person", "height": 30, "width": 50})
    whole = person_silhouettes(masks, settings, (100, 60))
    # the whole frame at half size: the masks themselves
    assert np.array_equal(whole > 127, masks[:, ::2, ::2] > 0)
    right_half = SilhouetteSettings.from_config({**settings.to_json(), "ignore_boxes": [[0, 50, 60, 100]]})
    hidden = person_silhouettes(masks, right_half, (100, 60))
    assert hidden[1].max() == 0 and np.array_equal(hidden[0], whole[0])
    crops = pad_to_aspect(dancer_boxes(np.full((2, 17, 3), np.nan), masks, (100, 60)), 0.1, 50 / 30)
    followed = person_silhouettes(masks, settings, (100, 60), crops)
    assert np.array_equal(followed[0], followed[1])  # same figure, wherever it stands
    rows, cols = np.nonzero(followed[0] > 127)
    assert abs(rows.mean() - 14.5) < 1 and abs(cols.mean() - 24.5) < 1
    assert rows.max() - rows.min() + 1 >= 0.8 * 30  # the figure fills the frame's height


def test_crop_outside_the_frame_is_background() -> None:
    mask = np.ones((10, 10), bool)
    out = crop_resize(mask, np.array([-10.0, 0.0, 10.0, 10.0]), 10, 20)
    assert out[:, :10].max() == 0 and out[:, 10:].min() == 255
