"""The labelled silhouette dancers: AIST++ names, distinct dancers, black on white, owned
folders, the by-dancer silhouette split, and experiment=silhouette_genre end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdance.data.aist import build_manifest, find_videos
from deepdance.data.silhouette import SilhouetteDataModule
from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset, video_jobs
from deepdance.data.synthetic.kinematics import dancer_tempo_factor
from deepdance.data.synthetic.renderer import Appearance
from deepdance.data.video.reader import open_video
from deepdance.errors import DeepdanceError
from tests.helpers.runs import compose_config, small_run, synthetic_override, train_in_process
from tests.test_ownership import snapshot

# 10 genres x 3 dancers, one camera and music, 2 s at 10 fps, wide frames
LABELLED = {
    "seed": 4,
    "dancers_per_genre": 3,
    "cameras": 1,
    "musics": 1,
    "seconds": 2.0,
    "fps": 10,
    "size": 48,
    "width": 80,
    "silhouette": True,
    "dancer_tempo": 0.2,
}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("silhouette_dancers")
    return ensure_synthetic_dataset(root, SyntheticConfig(**LABELLED), workers=1)


def _datamodule(root: Path, cache: Path, **kwargs) -> SilhouetteDataModule:
    settings = {"root": str(root), "cache_dir": str(cache), "fps": 5.0, "height": 24, "width": 40}
    return SilhouetteDataModule.from_config({**settings, **kwargs})


# ---------------------------------------------------------------------------- the generator


def test_names_parse_and_every_dancer_is_distinct(labelled: Path) -> None:
    manifest, rejected = build_manifest(find_videos(labelled))
    assert not rejected and len(manifest) == 30
    # one genre per dancer, three dancers per genre, as in AIST++
    assert manifest.groupby("dancer")["genre"].nunique().eq(1).all()
    assert manifest.groupby("genre")["dancer"].nunique().eq(3).all()
    jobs = video_jobs(SyntheticConfig(**LABELLED))
    bodies = {Appearance.silhouette(job.dancer_seed).body for job in jobs}
    tempi = {job.tempo_factor for job in jobs}
    # body proportions and tempo are drawn per dancer: all 30 differ
    assert len(bodies) == 30 and len(tempi) == 30
    assert all(0.8 <= factor <= 1.2 for factor in tempi)


def test_silhouettes_are_black_dancers_on_white(labelled: Path) -> None:
    path = sorted(labelled.glob("gKR_*.mp4"))[0]
    reader = open_video(path)
    frames = reader.get_batch(list(range(len(reader)))).asnumpy()  # (T, H, W, 3)
    assert frames.shape == (20, 48, 80, 3)
    gray = frames.mean(axis=-1)
    # binary-ish after H.264: nearly every pixel near black or near white
    assert np.mean((gray < 40) | (gray > 215)) > 0.95
    dark = (gray < 128).mean(axis=(1, 2))
    # a dark dancer in every frame, on a mostly white background
    assert (dark > 0.02).all() and (dark < 0.4).all()
    assert (gray[:, :, :4] > 215).all() and (gray[:, :, -4:] > 215).all()


def test_colour_set_is_recorded_and_drawn_as_before() -> None:
    """New settings at their defaults leave the colour set's record (and so its stored videos)
    and every dancer's tempo as generator version 6 made them."""
    record = SyntheticConfig().to_json()
    assert set(record) == {
        "generator_version",
        "seed",
        "dancers_per_genre",
        "cameras",
        "musics",
        "seconds",
        "fps",
        "size",
        "silhouette",
    }
    assert record["generator_version"] == 6
    assert {job.tempo_factor for job in video_jobs(SyntheticConfig())} == {1.0}
    assert dancer_tempo_factor(123, 0.0) == 1.0
    labelled = SyntheticConfig(**LABELLED).to_json()
    assert labelled["dancer_tempo"] == 0.2 and labelled["width"] == 80


@pytest.mark.parametrize(
    ("change", "key"), [({"dancer_tempo": 0.35}, "dancer_tempo"), ({"width": 81}, "width")]
)
def test_bad_settings_are_refused_in_one_line(change: dict, key: str) -> None:
    with pytest.raises(DeepdanceError) as err:
        SyntheticConfig(**{**LABELLED, **change})
    assert key in str(err.value) and "\n" not in str(err.value)


def test_a_folder_with_a_foreign_video_is_refused_untouched(labelled: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "gBR_sBM_c01_d01_mBR0_ch01.mp4").write_bytes(b"a user's silhouette video" * 50)
    before = snapshot(folder)
    with pytest.raises(DeepdanceError) as err:
        ensure_synthetic_dataset(folder, SyntheticConfig(**LABELLED), workers=1)
    message = str(err.value)
    assert "\n" not in message and "gBR_sBM_c01_d01_mBR0_ch01.mp4" in message
    assert snapshot(folder) == before


# ---------------------------------------------------------------------------- the split


def test_silhouette_split_by_dancer_holds_out_whole_dancers(labelled: Path, tmp_path: Path) -> None:
    dm = _datamodule(labelled, tmp_path, split="dancer", context_frames=3)
    dm.setup()
    dancers: dict[str, set[str]] = {}
    genres: dict[str, set[str]] = {}
    for split, segments in dm.segments.items():
        names = [build_manifest([dm.paths[s.video]])[0].iloc[0] for s in segments]
        dancers[split] = {row.dancer for row in names}
        genres[split] = {row.genre for row in names}
        # whole videos: every frame of a video is in its dancer's split
        assert all(s.start == 0 and s.stop == len(dm.videos[s.video]) for s in segments)
    assert not dancers["train"] & dancers["val"]
    assert not dancers["train"] & dancers["test"] and not dancers["val"] & dancers["test"]
    # one held-out dancer per genre in val and in test
    assert len(dancers["val"]) == len(dancers["test"]) == 10
    assert genres["train"] == genres["val"] == genres["test"] and len(genres["test"]) == 10
    assert sum(len(s) for s in dm.segments.values()) == 30
    assert len(dm.datasets["test"]) > 0


def test_silhouette_split_stays_chronological_by_default(labelled: Path, tmp_path: Path) -> None:
    dm = _datamodule(labelled, tmp_path)
    assert dm.hparams.split == "chronological"
    dm.setup()
    # every video is cut in time: it has a segment in each split
    for split in ("train", "val", "test"):
        assert sorted(s.video for s in dm.segments[split]) == list(range(30))


def test_split_by_dancer_needs_aist_names(tmp_path: Path, labelled: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    source = sorted(labelled.glob("*.mp4"))[0]
    (folder / "my_dance.mp4").write_bytes(source.read_bytes())
    dm = _datamodule(folder, tmp_path / "cache", split="dancer")
    with pytest.raises(DeepdanceError) as err:
        dm.setup()
    message = str(err.value)
    assert "\n" not in message and "my_dance.mp4" in message and "data.split=chronological" in message
    with pytest.raises(DeepdanceError, match="data.split='random': expected one of chronological, dancer"):
        _datamodule(folder, tmp_path / "cache", split="random")


def test_split_by_dancer_without_a_folder_stops_at_start_up() -> None:
    from deepdance.config.validate import validate_train

    cfg = compose_config("train", ["experiment=deep_dance_ae", "data.split=dancer"])
    with pytest.raises(DeepdanceError, match=r"data.split=dancer needs data.root="):
        validate_train(cfg)


# ---------------------------------------------------------------------------- the recognizer


def test_silhouette_genre_experiment_runs_end_to_end(tmp_path: Path) -> None:
    import cv2

    tiny = {**LABELLED, "seconds": 1.0, "size": 32, "width": 56}
    # Rendered here first (the run then reuses it): spawning a pool of workers costs more.
    threads = cv2.getNumThreads()
    ensure_synthetic_dataset(tmp_path / "dancers", SyntheticConfig(**tiny), workers=1)
    cv2.setNumThreads(threads)
    metrics, _ = train_in_process(
        small_run(
            tmp_path / "dancers",
            "experiment=silhouette_genre",
            synthetic_override(tiny),
            "model.backbone.name=test_resnet",
            "trainer.max_epochs=1",
            "data.test_clips=1",
            f"hydra.run.dir={tmp_path / 'run'}",
            f"paths.log_dir={tmp_path / 'logs'}",
        )
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert float(metrics["test/acc"]) == pytest.approx(summary["test/acc"])
    # the accuracy and the confusion matrix agree with the per-video predictions
    predictions = pd.read_csv(tmp_path / "run" / "test_predictions.csv")
    matrix = pd.read_csv(tmp_path / "run" / "confusion_matrix.csv", index_col=0)
    counted = pd.crosstab(predictions["genre"], predictions["pred_single"])
    assert (matrix.loc[counted.index, counted.columns] == counted).all().all()
    assert matrix.to_numpy().sum() == len(predictions) == 10
    assert summary["test/acc"] == pytest.approx((predictions["genre"] == predictions["pred_single"]).mean())
