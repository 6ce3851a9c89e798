"""The feature store: keyed, atomic, verified entries; extraction that resumes and repairs;
training and testing from the store without opening a single video file."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.video import read_clip, sample_frame_indices
from deepdance.features.extract import (
    SAMPLING_RULE,
    extract_missing,
    extraction_trainer,
    open_store,
    prepare_feature_store,
)
from deepdance.features.store import FeatureKey, FeatureStore, FeatureStoreError, weights_digest
from deepdance.models.genre_module import GenreClassifier

KEY = FeatureKey(
    backbone="resnet10t",
    weights="w" * 64,
    img_size=32,
    num_frames=4,
    clips=3,
    sampling=SAMPLING_RULE,
    decoder="decord",
    normalisation="imagenet",
    precision="fp32",
)
CPU_TRAINER = {
    "_target_": "pytorch_lightning.Trainer",
    "accelerator": "cpu",
    "devices": 1,
    "logger": False,
    "enable_progress_bar": False,
}


def _entry(store: FeatureStore, video: Path, rel: str = "a/video.mp4") -> torch.Tensor:
    features = torch.randn(3, 4, 8)
    mask = torch.tensor([[1, 1, 1, 0]] * 3, dtype=torch.bool)
    stamp = os.stat(video)
    info = {
        "path": str(video),
        "size": stamp.st_size,
        "mtime": int(stamp.st_mtime),
        "frames": 3,
        "height": 64,
        "width": 96,
        "fps": 30.0,
    }
    store.write(rel, info, [1 / 6, 0.5, 5 / 6], torch.arange(12).view(3, 4), mask, features)
    return features


def test_entry_roundtrip_and_every_kind_of_bad_entry(tmp_path: Path) -> None:
    video = tmp_path / "video.mp4"
    video.write_bytes(b"stand-in: the store never opens videos, it only stats them")
    store = FeatureStore(tmp_path / "store", KEY)
    assert store.check("a/video.mp4", video) == ("missing", "no entry")
    features = _entry(store, video)
    assert store.check("a/video.mp4", video)[0] == "ok"
    entry = store.load("a/video.mp4", video)
    assert entry.features.dtype == torch.float16 and torch.allclose(
        entry.features.float(), features, atol=1e-2
    )
    assert entry.mask.tolist() == [[True, True, True, False]] * 3 and entry.video["width"] == 96
    assert (store.dir / "key.json").is_file() and KEY.digest in store.dir.name

    os.utime(video, (1, 1))  # the video changed after extraction
    assert store.check("a/video.mp4", video)[0] == "stale"
    with pytest.raises(FeatureStoreError, match="stale"):
        store.load("a/video.mp4", video)
    _entry(store, video)

    path = store.entry_path("a/video.mp4")
    data = bytearray(path.read_bytes())
    header_len = int.from_bytes(data[:8], "little")
    start, _ = json.loads(data[8 : 8 + header_len])["features"]["data_offsets"]
    data[8 + header_len + start + 5] ^= 0x01  # a flipped bit inside the features
    path.write_bytes(bytes(data))
    assert store.check("a/video.mp4", video)[0] == "ok"  # headers are fine ...
    with pytest.raises(FeatureStoreError, match=f"{path}.*checksum"):
        store.load("a/video.mp4", video)  # ... the CRC is not

    path.write_bytes(bytes(data[: len(data) // 2]))  # truncated by a crash of something else
    state, reason = store.check("a/video.mp4", video)
    assert state == "corrupt" and "unreadable" in reason

    other = FeatureStore(tmp_path / "store", dataclasses.replace(KEY, img_size=64))
    _entry(other, video)
    shutil.copy(other.entry_path("a/video.mp4"), path)  # an entry of another key under this name
    assert store.check("a/video.mp4", video)[0] == "corrupt"


def test_key_changes_with_every_setting_and_with_the_weights() -> None:
    digests = {KEY.digest}
    for name, value in [
        ("backbone", "resnet18"),
        ("weights", "v" * 64),
        ("img_size", 64),
        ("num_frames", 8),
        ("clips", 5),
        ("sampling", "other"),
        ("decoder", "pyav"),
        ("normalisation", "none"),
        ("precision", "bf16"),
        ("version", 2),
        ("libraries", KEY.libraries.replace("torch ", "torch 0.0.0+")),
    ]:
        digests.add(dataclasses.replace(KEY, **{name: value}).digest)
    assert len(digests) == 12
    # An upgrade of torch, timm or the decoder never reuses entries: the versions are in the key.
    for library in ("torch ", "timm ", "decord"):
        assert library in KEY.libraries
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    before = weights_digest(net)
    net[1].running_mean += 1e-3  # buffers count too
    assert weights_digest(net) != before


# ------------------------------------------------------------------------------------- pipeline


def _classifier(seed: int = 0) -> GenreClassifier:
    torch.manual_seed(seed)
    return GenreClassifier(
        backbone={"name": "resnet10t", "pretrained": False, "freeze": True},
        head={"gru_sizes": [16, 8]},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2},
        img_size=32,
    )


def _datamodule(root: Path, features_dir: Path) -> GenreDataModule:
    return GenreDataModule(
        root=str(root),
        num_frames=4,
        img_size=32,
        batch_size=8,
        num_workers=0,
        test_clips=3,
        view_vote=True,
        features={"dir": str(features_dir), "clips": 3, "batch_size": 4, "inference_batch_size": 16},
    )


@pytest.fixture(scope="module")
def videos(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the tiny dataset: these tests change files' mtimes."""
    root = tmp_path_factory.mktemp("store_videos")
    for path in tiny_synthetic.glob("*.mp4"):
        shutil.copy2(path, root / path.name)
    return root


@pytest.fixture(scope="module")
def filled(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    features_dir = tmp_path_factory.mktemp("features")
    datamodule, model = _datamodule(videos, features_dir), _classifier()
    report = prepare_feature_store(datamodule, model, CPU_TRAINER)
    assert report is not None and (report.total, report.reused, report.computed, report.failed) == (
        30,
        0,
        30,
        [],
    )
    assert datamodule.store is not None
    return videos, features_dir


def test_stored_features_equal_features_of_decoded_frames(filled: tuple[Path, Path]) -> None:
    videos, features_dir = filled
    datamodule, model = _datamodule(videos, features_dir), _classifier().eval()
    manifest = datamodule.load_manifest()
    rel, path = datamodule.video_refs(manifest)[0]
    store = open_store(datamodule.feature_settings, model, 32, 4, extraction_trainer(CPU_TRAINER))
    entry = store.load(rel, path)
    assert entry.features.shape == (3, 4, model.spec.num_features) and entry.offsets == pytest.approx(
        [1 / 6, 0.5, 5 / 6]
    )
    indices, mask = sample_frame_indices(entry.video["frames"], 4, random=False, offset=0.5)
    with torch.no_grad():
        decoded = model.frame_features(read_clip(path, indices, 32)[None], torch.from_numpy(mask)[None])[0]
    assert entry.indices[1].tolist() == indices.tolist()
    torch.testing.assert_close(
        entry.features[1].float(), decoded, rtol=1e-2, atol=1e-2 * decoded.abs().max().item()
    )


def test_training_and_testing_from_the_store_never_open_a_video(
    filled: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import decord

    def refuse(*args, **kwargs):
        raise AssertionError(f"a video was opened: {args[:1]}")

    monkeypatch.setattr(decord, "VideoReader", refuse)
    monkeypatch.setattr("deepdance.data.video.reader.read_clip", refuse)
    monkeypatch.setattr("deepdance.data.genre.datamodule.read_clip", refuse)
    monkeypatch.setattr("deepdance.data.genre.clip_datasets.read_clip", refuse)
    videos, features_dir = filled
    pl.seed_everything(0)
    datamodule, model = _datamodule(videos, features_dir), _classifier()
    report = prepare_feature_store(datamodule, model, CPU_TRAINER)
    assert (report.reused, report.computed) == (30, 0)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(features_dir.parent / "run"),
    )
    trainer.fit(model, datamodule=datamodule)
    assert {"train/loss", "val/acc"} <= set(trainer.callback_metrics)
    trainer.test(model, datamodule=datamodule, verbose=False)
    metrics = trainer.callback_metrics
    for name in ("test/acc", "test/acc_clips3", "test/acc_macro_clips3", "test/acc_views"):
        assert name in metrics, name
    assert (
        "entry" in datamodule.manifest and datamodule.manifest["frames"].min() > 0
    )  # video facts from entry headers


def test_extraction_reuses_good_entries_and_recomputes_bad_ones(filled: tuple[Path, Path]) -> None:
    videos, features_dir = filled
    datamodule, model = _datamodule(videos, features_dir), _classifier()
    refs = datamodule.video_refs(datamodule.load_manifest())
    trainer = extraction_trainer(CPU_TRAINER)
    store = open_store(datamodule.feature_settings, model, 32, 4, trainer)
    (rel_a, _), (rel_b, path_b), (rel_c, _) = refs[:3]
    store.entry_path(rel_a).unlink()  # missing
    Path(path_b).touch()  # stale: the video changed
    entry_c = store.entry_path(rel_c)
    entry_c.write_bytes(entry_c.read_bytes()[:100])  # corrupt
    untouched = {rel: store.entry_path(rel).stat().st_mtime_ns for rel, _ in refs[3:]}
    report = extract_missing(store, refs, model, trainer, num_frames=4, img_size=32, batch_size=4)
    assert (report.total, report.reused, report.computed, len(report.recomputed), report.failed) == (
        30,
        27,
        3,
        2,
        [],
    )
    assert {
        rel: store.entry_path(rel).stat().st_mtime_ns for rel, _ in refs[3:]
    } == untouched  # finished videos not recomputed
    assert all(store.check(rel, path)[0] == "ok" for rel, path in refs)


def test_a_different_model_fills_its_own_store(filled: tuple[Path, Path]) -> None:
    videos, features_dir = filled
    trainer = extraction_trainer(CPU_TRAINER)
    datamodule = _datamodule(videos, features_dir)
    first = open_store(datamodule.feature_settings, _classifier(seed=0), 32, 4, trainer)
    second = open_store(datamodule.feature_settings, _classifier(seed=1), 32, 4, trainer)
    assert first.dir != second.dir  # other random weights: other features, other key


def test_store_is_refused_for_a_backbone_that_trains(videos: Path, tmp_path: Path) -> None:
    from deepdance.errors import DeepdanceError

    datamodule = GenreDataModule(
        root=str(videos), num_frames=4, img_size=32, features={"use": True, "dir": str(tmp_path)}
    )
    trainable = GenreClassifier(
        backbone={"name": "resnet10t", "pretrained": False},
        head={},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        img_size=32,
    )
    with pytest.raises(DeepdanceError, match="frozen backbone"):
        prepare_feature_store(datamodule, trainable, CPU_TRAINER)
    datamodule = GenreDataModule(root=str(videos), num_frames=4, img_size=32, features={"dir": str(tmp_path)})
    assert (
        prepare_feature_store(datamodule, trainable, CPU_TRAINER) is None
    )  # auto: end to end decodes videos
    assert not any(tmp_path.iterdir())


def test_test_clips_beyond_stored_clips_is_a_clear_error(filled: tuple[Path, Path]) -> None:
    from deepdance.errors import DeepdanceError

    videos, features_dir = filled
    datamodule = GenreDataModule(
        root=str(videos),
        num_frames=4,
        img_size=32,
        test_clips=5,
        features={"dir": str(features_dir), "clips": 3},
    )
    model = _classifier()
    datamodule.use_feature_store(
        open_store(datamodule.feature_settings, model, 32, 4, extraction_trainer(CPU_TRAINER))
    )
    with pytest.raises(DeepdanceError, match="data.test_clips=5 exceeds data.features.clips=3"):
        datamodule.setup("test")


def test_short_video_entries_mask_padding(tmp_path: Path) -> None:
    """A video shorter than num_frames: padded positions are masked and zero."""
    from deepdance.data.video.writer import write_mp4

    root = tmp_path / "videos"
    write_mp4(
        root / "gBR_sBM_c01_d01_mBR0_ch01.mp4",
        np.full((3, 64, 96, 3), 128, np.uint8),
        fps=10,
        preset="ultrafast",
    )
    model = _classifier()
    store = FeatureStore(
        tmp_path / "features", dataclasses.replace(KEY, weights=weights_digest(model.backbone))
    )
    report = extract_missing(
        store,
        [("short.mp4", str(root / "gBR_sBM_c01_d01_mBR0_ch01.mp4"))],
        model,
        extraction_trainer(CPU_TRAINER),
        num_frames=4,
        img_size=32,
    )
    assert report.computed == 1
    entry = store.load("short.mp4")
    assert entry.mask.tolist() == [[True, True, True, False]] * 3
    assert (entry.features[:, 3] == 0).all() and (entry.features[:, :3] != 0).any()
