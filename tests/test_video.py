"""Frame sampling and masks: which frames a clip reads, and which are padding."""

from __future__ import annotations

import numpy as np
import pytest

from deepdance.data.video import decode_size, sample_frame_indices


def test_eval_indices_sit_at_segment_centres() -> None:
    indices, mask = sample_frame_indices(100, 10, random=False)
    assert indices.tolist() == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert mask.all()


def test_offsets_move_eval_clips() -> None:
    first, _ = sample_frame_indices(100, 10, random=False, offset=0.0)
    last, _ = sample_frame_indices(100, 10, random=False, offset=0.99)
    assert first.tolist() == list(range(0, 100, 10)) and last.tolist() == list(range(9, 100, 10))


def test_train_indices_stay_inside_their_segments() -> None:
    rng = np.random.default_rng(0)
    draws = np.stack([sample_frame_indices(200, 8, random=True, rng=rng)[0] for _ in range(200)])
    segment = draws // 25
    assert (segment == np.arange(8)).all()
    assert len(np.unique(draws[:, 0])) > 10  # jitter really varies
    assert (np.diff(draws, axis=1) > 0).all()


def test_short_video_is_padded_and_masked() -> None:
    indices, mask = sample_frame_indices(3, 6, random=True)
    assert indices.tolist() == [0, 1, 2, 2, 2, 2]
    assert mask.tolist() == [True, True, True, False, False, False]


@pytest.mark.parametrize("bad", [0, -1])
def test_rejects_non_positive_frame_counts(bad: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        sample_frame_indices(10, bad, random=False)


def test_decode_size_keeps_aspect_with_short_side_at_target() -> None:
    assert decode_size(1080, 1920, 299) == (299, 532)
    assert decode_size(300, 200, 100) == (150, 100)


@pytest.mark.parametrize("img_size", [24, 48, 64, 72])
def test_read_clip_returns_requested_size_even_at_decord_bad_widths(tmp_path, img_size: int) -> None:
    from deepdance.data.video import read_clip
    from deepdance.data.video_writer import write_mp4

    frames = np.zeros((6, 90, 160, 3), dtype=np.uint8)
    frames[:, :, 70:90] = 255  # a white bar in the centre
    path = write_mp4(tmp_path / "bar.mp4", frames, fps=10)
    clip = read_clip(path, np.array([0, 2, 5]), img_size)
    assert clip.shape == (3, 3, img_size, img_size)
    centre = clip[0, :, :, img_size // 2].float().mean()
    assert centre > 200  # the crop is centred on the bar
