"""data.sampling=keyframe: sampled frames snapped to key frames, so each costs a short decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdance.config.base import parse
from deepdance.config.data import GenreDataConfig
from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.video import keyframe_indices, read_clip, snap_to_keyframes
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.data.video.writer import write_mp4
from deepdance.errors import DeepdanceError, VideoError


def test_aist_shaped_video_gets_short_runs_after_each_keyframe() -> None:
    keys = np.arange(0, 599, 120)  # 10 s at 59.94 fps, a key frame every 2 s
    indices, mask = ClipSampler(20, "keyframe").eval_indices(599, keys)
    assert mask.all() and (np.diff(indices) > 0).all()
    runs = {int(k): int(((indices >= k) & (indices < k + 120)).sum()) for k in keys}
    assert sum(runs.values()) == 20 and max(runs.values()) <= 6  # spread over every GOP
    behind = indices - keys[np.searchsorted(keys, indices, side="right") - 1]
    assert behind.max() < 6  # no sampled frame is more than a few frames past its key frame


def test_single_keyframe_gives_the_first_frames() -> None:
    indices, _ = ClipSampler(12, "keyframe").eval_indices(90, np.array([0]))
    assert indices.tolist() == list(range(12))


def test_exact_sampling_is_unchanged_by_keyframes() -> None:
    exact = ClipSampler(10)
    assert exact.eval_indices(100)[0].tolist() == list(range(5, 100, 10))
    assert exact.eval_indices(100, np.array([0, 50]))[0].tolist() == list(range(5, 100, 10))
    two = exact.test_indices(100, k=2)[0].tolist()
    assert exact.test_indices(100, np.array([0, 50]), k=2)[0].tolist() == two


def test_short_video_keeps_its_padding_mask_with_keyframes() -> None:
    sampler = ClipSampler(6, "keyframe", clips=2)
    indices, mask = sampler.eval_indices(3, np.array([0]))
    assert indices.tolist() == [0, 1, 2, 2, 2, 2] and mask.sum() == 3
    indices, mask = sampler.test_indices(3, np.array([0]))
    assert indices.tolist() == [[0, 1, 2, 2, 2, 2]] * 2 and mask.sum(axis=1).tolist() == [3, 3]


@settings(max_examples=200, deadline=None)
@given(
    video_frames=st.integers(1, 2000),
    num=st.integers(1, 40),
    gop=st.integers(1, 300),
    seed=st.integers(0, 2**31),
)
def test_snapped_indices_stay_valid_increasing_and_close_to_a_keyframe(
    video_frames: int, num: int, gop: int, seed: int
) -> None:
    keys = np.arange(0, video_frames, gop)
    generator = torch.Generator().manual_seed(seed)
    indices, mask = ClipSampler(num, "keyframe").train_indices(video_frames, keys, generator)
    valid = indices[mask]
    assert valid.min() >= 0 and valid.max() < video_frames
    assert (np.diff(valid) > 0).all()
    if video_frames - keys[-1] >= num:  # (a run that would overflow the video's end is pushed back)
        behind = valid - keys[np.searchsorted(keys, valid, side="right") - 1]
        assert behind.max() < num  # each frame is at most num-1 frames past a key frame


def test_snap_preserves_the_order_of_unsorted_indices() -> None:
    assert snap_to_keyframes(np.array([5, 3, 100]), np.array([0, 98]), 101).tolist() == [1, 0, 98]


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = np.zeros((40, 64, 96, 3), dtype=np.uint8)
    frames[:, :, :, 0] = np.arange(40, dtype=np.uint8)[:, None, None] * 6  # frame number in the red channel
    return write_mp4(tmp_path_factory.mktemp("gop") / "clip.mp4", frames, fps=20, crf=0, gop=10)


def test_keyframe_indices_read_the_container_gop(gop_video: Path) -> None:
    assert keyframe_indices(gop_video).tolist() == [0, 10, 20, 30]


def test_snapped_frames_decode_to_the_requested_frames(gop_video: Path) -> None:
    sampler = ClipSampler(8, "keyframe")
    indices, _ = sampler.eval_indices(40, sampler.keyframes_of(gop_video))
    assert indices.tolist() == [0, 10, 11, 20, 21, 30, 31, 32]  # centres 2, 7, 12, ... 37 -> nearest key
    clip = read_clip(gop_video, indices, 40)  # decodes at 40x60 (decord misreads width 48)
    red = clip[:, 0].float().mean(dim=(1, 2)).numpy()
    assert np.allclose(red, indices * 6, atol=3)


def test_keyframe_indices_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        keyframe_indices(tmp_path / "missing.mp4")


def test_datamodule_keyframe_sampling(tiny_synthetic: Path) -> None:
    small = {"root": str(tiny_synthetic), "num_frames": 4, "img_size": 32, "num_workers": 0}
    dm = GenreDataModule(GenreDataConfig(**small, sampling="keyframe"))
    dm.setup()
    assert "keyframes" in dm.manifest and all(k[0] == 0 for k in dm.manifest["keyframes"])
    item = dm.datasets["test"][0]
    assert item["indices"].tolist() == [[0, 1, 2, 3]]  # (clips, T); 1 s clips: a single key frame at 0
    assert item["frames"].shape == (1, 4, 3, 32, 32)
    exact = GenreDataModule(GenreDataConfig(**small))
    exact.setup()
    assert exact.config.sampling == "exact" and "keyframes" not in exact.manifest
    assert exact.datasets["test"][0]["indices"].tolist() != [[0, 1, 2, 3]]


def test_data_config_rejects_unknown_sampling(tiny_synthetic: Path) -> None:
    with pytest.raises(DeepdanceError, match="data.sampling='nearest'.*exact.*keyframe"):
        parse(GenreDataConfig, {"root": str(tiny_synthetic), "sampling": "nearest"}, "data")
