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

from deepdance.config.data import GenreDataConfig
from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.genre.manifest import build_manifest
from deepdance.data.video import read_clip, sample_frame_indices
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.features.extract import (
    SAMPLING_RULE,
    ExtractionSettings,
    FrameEmbedder,
    extraction_trainer,
    fill_feature_store,
    open_store,
)
from deepdance.features.store import FeatureKey, FeatureStore, FeatureStoreError, weights_digest
from deepdance.models.genre_module import GenreClassifier
from deepdance.run.genre_data import extraction_inputs, stored_features

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
    return GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False, "freeze": True},
            "head": {"gru_sizes": [16, 8]},
            "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2},
            "img_size": 32,
        }
    )


def _settings(root: Path, features_dir: Path, test_clips: int = 3, **features: object) -> GenreDataConfig:
    """The data settings of these tests: 4 frames of 32 px, 3 clips stored per video."""
    return GenreDataConfig(
        root=str(root),
        num_frames=4,
        img_size=32,
        batch_size=8,
        num_workers=0,
        test_clips=test_clips,
        view_vote=True,
        features={
            "dir": str(features_dir),
            "clips": 3,
            "batch_size": 4,
            "inference_batch_size": 16,
            **features,
        },
    )


def _fill(settings: GenreDataConfig, model: GenreClassifier) -> tuple[FeatureStore, object]:
    """The store of every video of ``settings``, filled as a run fills it."""
    inputs = extraction_inputs(build_manifest(settings), settings, model, ("train", "val", "test"))
    return fill_feature_store(*inputs, extraction_trainer(CPU_TRAINER))


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
    store, report = _fill(_settings(videos, features_dir), _classifier())
    assert (report.total, report.reused, report.computed, report.failed) == (30, 0, 30, [])
    assert len(list(store.dir.glob("*.safetensors"))) == 30
    return videos, features_dir


def test_stored_features_equal_features_of_decoded_frames(filled: tuple[Path, Path]) -> None:
    videos, features_dir = filled
    settings, model = _settings(videos, features_dir), _classifier().eval()
    refs, sampler, embedder, extraction = extraction_inputs(
        build_manifest(settings), settings, model, ("test",)
    )
    rel, path = refs[0]
    entry = open_store(extraction, sampler, embedder, extraction_trainer(CPU_TRAINER)).load(rel, path)
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
    filled: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import decord

    def refuse(*args, **kwargs):
        raise AssertionError(f"a video was opened: {args[:1]}")

    monkeypatch.setattr(decord, "VideoReader", refuse)
    monkeypatch.setattr("deepdance.data.video.reader.read_clip", refuse)
    monkeypatch.setattr("deepdance.data.genre.clip_datasets.read_clip", refuse)
    monkeypatch.setattr("deepdance.features.extract.read_clip", refuse)
    videos, features_dir = filled
    pl.seed_everything(0)
    settings, model = _settings(videos, features_dir), _classifier()
    manifest = build_manifest(settings)
    with caplog.at_level("INFO", logger="deepdance.run.genre_data"):
        store = stored_features(manifest, settings, model, CPU_TRAINER, ("train", "val", "test"))
    assert "(30 videos: 30 reused, 0 computed)" in caplog.text
    datamodule = GenreDataModule(settings, manifest, store)
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
    # the datamodule read the store it was built with, and the video facts from entry headers
    assert datamodule.store is store
    assert "entry" in datamodule.manifest and datamodule.manifest["frames"].min() > 0


def test_extraction_reuses_good_entries_and_recomputes_bad_ones(filled: tuple[Path, Path]) -> None:
    videos, features_dir = filled
    settings, model = _settings(videos, features_dir), _classifier()
    refs, sampler, embedder, extraction = extraction_inputs(
        build_manifest(settings), settings, model, ("train", "val", "test")
    )
    trainer = extraction_trainer(CPU_TRAINER)
    store = open_store(extraction, sampler, embedder, trainer)
    refs = sorted(refs)
    (rel_a, _), (rel_b, path_b), (rel_c, _) = refs[:3]
    store.entry_path(rel_a).unlink()  # missing
    Path(path_b).touch()  # stale: the video changed
    entry_c = store.entry_path(rel_c)
    entry_c.write_bytes(entry_c.read_bytes()[:100])  # corrupt
    untouched = {rel: store.entry_path(rel).stat().st_mtime_ns for rel, _ in refs[3:]}
    filled_store, report = fill_feature_store(refs, sampler, embedder, extraction, trainer)
    assert filled_store.dir == store.dir
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
    extraction = ExtractionSettings(dir=str(features_dir), img_size=32, batch_size=4, inference_batch_size=16)
    sampler = ClipSampler(4, "exact", 3)
    first = open_store(extraction, sampler, FrameEmbedder.of_classifier(_classifier(seed=0)), trainer)
    second = open_store(extraction, sampler, FrameEmbedder.of_classifier(_classifier(seed=1)), trainer)
    assert first.dir != second.dir  # other random weights: other features, other key


def test_store_is_refused_for_a_backbone_that_trains(videos: Path, tmp_path: Path) -> None:
    from deepdance.errors import DeepdanceError

    trainable = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False},
            "head": {},
            "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
            "img_size": 32,
        }
    )
    insists = _settings(videos, tmp_path, use=True)
    with pytest.raises(DeepdanceError, match="frozen backbone"):
        stored_features(build_manifest(insists), insists, trainable, CPU_TRAINER, ("test",))
    auto = _settings(videos, tmp_path)
    # auto: a backbone that trains decodes videos end to end
    assert stored_features(build_manifest(auto), auto, trainable, CPU_TRAINER, ("test",)) is None
    assert not any(tmp_path.iterdir())


def test_test_clips_beyond_stored_clips_is_a_clear_error(filled: tuple[Path, Path]) -> None:
    from deepdance.errors import DeepdanceError

    videos, features_dir = filled
    settings = _settings(videos, features_dir, test_clips=5)
    manifest = build_manifest(settings)
    store, _ = _fill(settings, _classifier())
    datamodule = GenreDataModule(settings, manifest, store)
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
    store, report = fill_feature_store(
        [("short.mp4", str(root / "gBR_sBM_c01_d01_mBR0_ch01.mp4"))],
        ClipSampler(4, "exact", 3),
        FrameEmbedder.of_classifier(_classifier()),
        ExtractionSettings(
            dir=str(tmp_path / "features"), img_size=32, batch_size=2, inference_batch_size=64
        ),
        extraction_trainer(CPU_TRAINER),
    )
    assert report.computed == 1
    entry = store.load("short.mp4")
    assert entry.mask.tolist() == [[True, True, True, False]] * 3
    assert (entry.features[:, 3] == 0).all() and (entry.features[:, :3] != 0).any()
