"""Silhouette data: preprocessing, the on-disk cache and its key, chronological splits."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepdance.data.silhouette.cache import SilhouetteCache, cache_key
from deepdance.data.silhouette.datamodule import SilhouetteDataModule, chronological_split
from deepdance.data.silhouette.preprocess import (
    SilhouetteSettings,
    extract_silhouettes,
    sampled_indices,
    to_silhouettes,
)
from deepdance.errors import DeepdanceError
from tests.helpers.runs import SHARED_DATA

CLIPS = SHARED_DATA / "deep_dance"


@pytest.fixture(scope="module")
def dance_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 90-frame synthetic silhouette video at 6 fps (15 s), written as a real mp4."""
    from deepdance.data.synthetic import render_silhouettes
    from deepdance.data.video.writer import write_mp4

    path = tmp_path_factory.mktemp("silhouette") / "dance.mp4"
    return write_mp4(path, render_silhouettes(90, height=48, width=80, fps=6.0, seed=1), fps=6.0)


def _datamodule(root: Path, cache: Path, **kwargs) -> SilhouetteDataModule:
    settings = {
        "root": str(root),
        "cache_dir": str(cache),
        "fps": 6.0,
        "height": 24,
        "width": 40,
        "batch_size": 8,
    }
    return SilhouetteDataModule.from_config({**settings, **kwargs})


def test_frames_and_windows_have_the_configured_size(dance_video: Path, tmp_path: Path) -> None:
    frames = _datamodule(dance_video, tmp_path, height=32, width=56)
    frames.setup()
    batch = next(iter(frames.train_dataloader()))
    assert batch["frame"].shape == (8, 1, 32, 56) and str(batch["frame"].dtype) == "torch.uint8"
    windows = _datamodule(dance_video, tmp_path, context_frames=4)
    windows.setup()
    item = windows.datasets["test"][0]
    assert item["frames"].shape == (5, 24, 40)
    # A dancer is there, and not everywhere: the thresholding kept the figure.
    dancer = frames.videos[0].astype(float).mean() / 255
    assert 0.02 < dancer < 0.5


@pytest.mark.parametrize("n", [10, 37, 90, 1001])
def test_chronological_split_is_ordered_and_disjoint(n: int) -> None:
    parts = chronological_split(n, test_fraction=0.1, val_fraction=0.1)
    train, val, test = parts["train"], parts["val"], parts["test"]
    assert train[0] == 0 and train[1] == val[0] and val[1] == test[0] and test[1] == n
    assert all(stop > start for start, stop in parts.values())


def test_datamodule_splits_never_cross_the_cut(dance_video: Path, tmp_path: Path) -> None:
    dm = _datamodule(dance_video, tmp_path, context_frames=3)
    dm.setup()
    targets = {split: {t for _, t in dm.datasets[split].items} for split in ("train", "val", "test")}
    assert (
        not targets["train"] & targets["val"]
        and not targets["val"] & targets["test"]
        and not targets["train"] & targets["test"]
    )
    assert max(targets["train"]) < min(targets["val"]) and max(targets["val"]) < min(targets["test"])
    seg = {split: dm.segments[split][0] for split in targets}
    assert all(seg[s].start <= t < seg[s].stop for s in targets for t in targets[s])
    frames = _datamodule(dance_video, tmp_path)
    frames.setup()
    indices = {split: [i for _, i in frames.datasets[split].items] for split in targets}
    assert sorted(indices["train"] + indices["val"] + indices["test"]) == list(range(len(frames.videos[0])))


FIELD_CHANGES = {
    "fps": 5.0,
    "height": 32,
    "width": 48,
    "threshold_rule": "otsu",
    "threshold": 100.0,
    "polarity": "light",
    "crop": (0, 0, 40, 70),
    "ignore_boxes": ((0, 0, 4, 4),),
    "start_seconds": 1.0,
    # the person rule's and the follow crop's (tests/test_person_silhouettes.py: their defaults)
    "follow": True,
    "follow_margin": 0.3,
    "follow_seconds": 2.0,
    "pose": '{"backend": "other"}',
}


def test_cache_key_changes_with_every_setting_and_the_contents(dance_video: Path, tmp_path: Path) -> None:
    base = SilhouetteSettings.from_config({"fps": 6.0, "height": 24, "width": 40})
    assert set(FIELD_CHANGES) == {f.name for f in dataclasses.fields(SilhouetteSettings)}
    key = cache_key(dance_video, base)
    assert (
        cache_key(dance_video, SilhouetteSettings.from_config({"fps": 6.0, "height": 24, "width": 40})) == key
    )
    for name, value in FIELD_CHANGES.items():
        assert cache_key(dance_video, dataclasses.replace(base, **{name: value})) != key, name
    moved = shutil.copy(dance_video, tmp_path / "renamed.mp4")
    assert cache_key(moved, base) == key  # the contents, not the name
    with open(moved, "ab") as handle:
        handle.write(b"\0")
    assert cache_key(moved, base) != key


def test_cache_is_built_once_and_memory_mapped(dance_video: Path, tmp_path: Path) -> None:
    cache = SilhouetteCache(tmp_path)
    settings = SilhouetteSettings.from_config({"fps": 6.0, "height": 24, "width": 40})
    first = cache.load(dance_video, settings)
    path = cache.path_for(dance_video, settings)
    stamp = path.stat().st_mtime_ns
    again = cache.load(dance_video, settings)
    assert isinstance(again, np.memmap) and path.stat().st_mtime_ns == stamp
    assert np.array_equal(first, again) and first.shape == (90, 24, 40)
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary left behind


def test_threshold_rules_and_polarity() -> None:
    frame = np.full((1, 20, 30, 3), 230, dtype=np.uint8)
    frame[0, 5:15, 10:20] = 20  # a dark square on a light background
    dark = to_silhouettes(frame, SilhouetteSettings.from_config({"height": 20, "width": 30}))
    assert dark[0, 10, 15] == 255 and dark[0, 0, 0] == 0
    light = to_silhouettes(
        frame, SilhouetteSettings.from_config({"height": 20, "width": 30, "polarity": "light"})
    )
    assert light[0, 10, 15] == 0 and light[0, 0, 0] == 255
    otsu = to_silhouettes(
        frame, SilhouetteSettings.from_config({"height": 20, "width": 30, "threshold_rule": "otsu"})
    )
    assert np.array_equal(otsu, dark)
    cropped = to_silhouettes(
        frame, SilhouetteSettings.from_config({"height": 10, "width": 10, "crop": (5, 10, 15, 20)})
    )
    assert (cropped == 255).all()
    hidden = to_silhouettes(
        frame, SilhouetteSettings.from_config({"height": 20, "width": 30, "ignore_boxes": ((0, 0, 20, 15),)})
    )
    assert hidden[0, 10, 12] == 0 and hidden[0, 10, 17] == 255


def test_sampling_follows_the_requested_rate() -> None:
    assert sampled_indices(300, 30.0, 3.0).tolist() == list(range(0, 300, 10))
    assert sampled_indices(300, 30.0, 3.0, start_seconds=0.5)[0] == 15
    assert sampled_indices(5, 30.0, None).tolist() == [0, 1, 2, 3, 4]


def test_errors_name_the_file_and_the_setting(dance_video: Path, tmp_path: Path) -> None:
    with pytest.raises(DeepdanceError, match=r"dance\.mp4.*data\.crop.*outside"):
        extract_silhouettes(dance_video, SilhouetteSettings.from_config({"crop": (0, 0, 500, 80)}))
    # the data schema refuses a box upside down and an unknown polarity, naming the setting
    with pytest.raises(DeepdanceError, match=r"data.crop=\[10, 0, 5, 20\]: expected .*bottom > top"):
        _datamodule(dance_video, tmp_path, crop=[10, 0, 5, 20])
    with pytest.raises(DeepdanceError, match="data.polarity='grey': expected one of dark, light"):
        _datamodule(dance_video, tmp_path, polarity="grey")
    with pytest.raises(DeepdanceError, match="does not exist"):
        _datamodule(tmp_path / "missing", tmp_path).setup()
    with pytest.raises(DeepdanceError, match="train split has no windows"):
        _datamodule(dance_video, tmp_path, context_frames=80).setup()


@pytest.mark.skipif(
    not CLIPS.is_dir(), reason=f"the real Deep-Dance clips are not at {CLIPS} (only in the shared workplace)"
)
def test_real_clip_preset_isolates_the_dancer() -> None:
    from omegaconf import OmegaConf

    preset = OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "data" / "deep_dance_clips.yaml")
    settings = SilhouetteSettings.from_config({**OmegaConf.to_container(preset), "height": 48, "width": 80})
    frames = extract_silhouettes(CLIPS / "result_rate_3_fps_30__seed_554_No_interpolation.mp4", settings)
    assert frames.shape == (99, 48, 80)
    dancer = (frames > 127).mean(axis=(1, 2))
    assert (dancer > 0.03).all() and (dancer < 0.5).all()  # a figure in every frame, never the noise
    assert (frames[:, :, :3] < 128).all()  # nothing along the left edge: the axes' frame is cropped away
