"""Augmented LSTM training windows: phases of the source frame rate, time-warp, whole-window
mirrors, rollout-loss targets; validation and test untouched, bad values refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.data.silhouette.augment import warp_span
from deepdance.data.silhouette.datamodule import Segment, SilhouetteDataModule, SilhouetteWindows
from deepdance.errors import DeepdanceError
from tests.helpers.runs import compose_config


def _video(folder: Path, fps: float, seconds: float) -> Path:
    from deepdance.data.synthetic import render_silhouettes
    from deepdance.data.video.writer import write_mp4

    frames = render_silhouettes(round(seconds * fps), height=48, width=80, fps=fps, seed=1)
    return write_mp4(folder / f"dance{fps:g}.mp4", frames, fps=fps)


@pytest.fixture(scope="module")
def video30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of synthetic dance at 30 fps: 36 frames at 3 fps, ten phases between them."""
    return _video(tmp_path_factory.mktemp("augment"), 30.0, 12.0)


def _datamodule(root: Path, cache: Path, **kwargs: object) -> SilhouetteDataModule:
    settings = {"root": str(root), "cache_dir": str(cache), "fps": 3.0, "height": 24, "width": 40}
    return SilhouetteDataModule.from_config({**settings, "context_frames": 4, "batch_size": 4, **kwargs})


def test_phases_multiply_the_cached_frames_and_the_training_windows(video30: Path, tmp_path: Path) -> None:
    one = _datamodule(video30, tmp_path / "one")
    one.setup()
    three = _datamodule(video30, tmp_path / "three", phases=3)
    three.prepare_data()
    cached = [np.load(path, mmap_mode="r") for path in (tmp_path / "three").glob("*.npy")]
    base = len(one.videos[0])
    assert len(cached) == 3 and 3 * base - 2 <= sum(len(frames) for frames in cached) <= 3 * base
    three.setup()
    assert len(three.videos) == 3 and len(three.segments["train"]) == 3
    train_one, train_three = len(one.datasets["train"]), len(three.datasets["train"])
    assert 3 * train_one - 2 <= train_three <= 3 * train_one
    # the phases differ from the first: other frames of the same dance
    assert not np.array_equal(three.videos[1][:10], three.videos[0][:10])
    for split in ("val", "test"):
        assert three.segments[split] == one.segments[split]
        assert len(three.datasets[split]) == len(one.datasets[split])


def test_phases_need_a_source_of_a_higher_frame_rate(tmp_path: Path) -> None:
    slow = _video(tmp_path, 6.0, 12.0)
    needs = r"data.phases=3 needs a source of at least 3 x data.fps=3 = 9 fps; .* has 6 fps"
    with pytest.raises(DeepdanceError, match=needs):
        _datamodule(slow, tmp_path / "cache", phases=3).setup()
    with pytest.raises(
        DeepdanceError, match=r"data.phases=2 shifts the sampling times of data.fps, which is null"
    ):
        _datamodule(slow, tmp_path / "cache", phases=2, fps=None)


def test_time_warped_windows_span_their_speed() -> None:
    video = np.repeat(np.arange(60, dtype=np.uint8)[:, None, None], 2, axis=1)  # frame i holds i
    windows = SilhouetteWindows([video], [Segment(0, 0, 60)], 4, targets=2, time_warp=(0.8, 1.25))
    # the first target leaves room for 6 frames at the top speed
    assert windows.items[0] == (0, warp_span(6, (0.8, 1.25))) == (0, 7)
    speeds = set()
    for seed in range(20):
        item = windows[(5, seed)]
        positions = item["positions"].numpy()
        steps = np.diff(positions)
        assert len(positions) == 6 and positions[-1] == item["target"] and positions[0] >= 0
        assert np.allclose(steps, steps[0]) and 0.8 - 1e-9 <= steps[0] <= 1.25 + 1e-9
        assert item["frames"][:, 0, 0].tolist() == np.round(positions).astype(int).tolist()
        speeds.add(round(float(steps[0]), 6))
    assert len(speeds) > 10
    # without time-warp: consecutive frames, the first window as early as it fits
    plain = SilhouetteWindows([video], [Segment(0, 0, 60)], 4, targets=2)[0]
    assert "positions" not in plain and plain["frames"][:, 0, 0].tolist() == list(range(0, 6))


def test_a_mirrored_window_mirrors_every_frame(video30: Path, tmp_path: Path) -> None:
    data = _datamodule(video30, tmp_path / "cache", flip=True, target_frames=2)
    data.setup()
    mirror = len(data.videos) - 1
    assert data.sequences().target_frames == 2 and len(data.videos) == 2
    assert all(segment.video != mirror for split in data.segments.values() for segment in split)
    train = data.datasets["train"]
    seen = {"plain": 0, "mirrored": 0}
    for seed in range(16):
        item = train[(3, seed)]
        original = torch.from_numpy(np.array(data.videos[0][item["target"] - 5 : item["target"] + 1]))
        assert item["frames"].shape == (6, 24, 40)
        if item["video"] == mirror:
            seen["mirrored"] += 1
            assert torch.equal(item["frames"], original.flip(-1))
        else:
            seen["plain"] += 1
            assert torch.equal(item["frames"], original)
    assert seen["plain"] and seen["mirrored"]
    # evaluation windows are never mirrored and hold one target
    val = data.datasets["val"]
    assert all(val[i]["video"] == 0 and len(val[i]["frames"]) == 5 for i in range(len(val)))


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["data.phases=0"], "data.phases=0: expected an integer >= 1"),
        (
            ["data.time_warp=[1.25,0.8]"],
            r"data.time_warp=\[1.25, 0.8\]: expected null or \[low, high\] with 0 <",
        ),
        (["data.time_warp=fast"], "data.time_warp='fast': expected null or"),
        (["data.target_frames=2"], "data.target_frames=2 must equal model.rollout_loss_steps=1"),
        (["model.head=gmm"], "model.head='gmm': expected one of point, mdn"),
        (["model.scheduled_sampling=2"], "model.scheduled_sampling=2: expected"),
    ],
)
def test_bad_augmentation_and_remedy_settings_stop_at_start_up(overrides: list[str], message: str) -> None:
    from deepdance.config.validate import validate_train

    cfg = compose_config("train", ["experiment=deep_dance_lstm", *overrides])
    with pytest.raises(DeepdanceError, match=message) as err:
        validate_train(cfg, allow_missing=("model.autoencoder_ckpt",))
    assert "\n" not in str(err.value)


def test_the_rollout_loss_sets_the_targets_of_training_windows() -> None:
    cfg = compose_config("train", ["experiment=deep_dance_lstm", "model.rollout_loss_steps=3"])
    assert cfg.data.target_frames == 3 and cfg.data.context_frames == cfg.model.look_back
