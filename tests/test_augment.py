"""Clip augmentation: one draw per clip, so it changes looks but never adds motion."""

from __future__ import annotations

import pytest
import torch

from deepdance.data.genre.augment import ClipAugment


def test_identical_frames_stay_identical_and_keep_shape() -> None:
    frame = torch.randint(0, 255, (1, 3, 32, 32), dtype=torch.uint8)
    clip = frame.expand(6, -1, -1, -1).clone()
    out = ClipAugment(grayscale_p=0.5, invert_p=0.5)(clip, torch.Generator().manual_seed(1))
    assert out.shape == clip.shape and out.dtype == torch.uint8
    assert all(torch.equal(out[0], out[t]) for t in range(1, 6))


def test_draws_differ_between_clips_and_reproduce_with_a_seed() -> None:
    clip = torch.randint(0, 255, (4, 3, 32, 32), dtype=torch.uint8)
    augment = ClipAugment()
    first = augment(clip, torch.Generator().manual_seed(0))
    again = augment(clip, torch.Generator().manual_seed(0))
    other = augment(clip, torch.Generator().manual_seed(5))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_channel_shuffle_only_permutes_colours() -> None:
    clip = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    clip[:, 0] = 200  # a red clip
    augment = ClipAugment(crop_scale=(1.0, 1.0), grayscale_p=0, brightness=0, contrast=0)
    channels = {int(augment(clip, torch.Generator().manual_seed(s))[0, :, 0, 0].argmax()) for s in range(20)}
    assert channels == {0, 1, 2}


def test_bad_crop_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="crop_scale"):
        ClipAugment(crop_scale=(0.0, 1.0))
