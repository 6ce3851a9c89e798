"""The models learn: tests that fail when training stops improving the model, not only when
it crashes. They run the train task in-process (``tests.helpers.runs``) on a config composed
the way the CLI composes it, on tiny synthetic dancers."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.helpers.runs import train_in_process


def small(root: Path, *extra: str) -> list[str]:
    # no callbacks.rich_progress_bar=null: with callbacks=none that key does not exist (a composition error)
    return [
        f"data.root={root}", "data.synthetic=null", "data.num_frames=4", "data.img_size=32",
        "data.num_workers=0", "data.persistent_workers=false",
        "print_config=false", "logger=csv", *extra,
    ]


def epoch_values(out_dir: Path, key: str) -> list[float]:
    """One value of ``key`` per epoch, from the run's CSV log."""
    with open(out_dir / "csv" / "metrics.csv", newline="") as handle:
        return [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]


def test_debug_overfit_memorises_a_few_batches(tiny_synthetic: Path, tmp_path: Path) -> None:
    # 2 batches of 4 clips, 10 genres, 30 epochs: the preset as written (no checkpoints: time)
    overrides = small(tiny_synthetic, "debug=overfit", "data.batch_size=4", "test=false", "seed=1",
                      "callbacks=none", f"hydra.run.dir={tmp_path}")
    metrics, objects = train_in_process(overrides)
    trainer = objects["trainer"]
    assert (trainer.overfit_batches, trainer.current_epoch) == (2, 30)
    accuracy = epoch_values(tmp_path, "train/acc")
    # it starts near chance (0.1) and ends with every training clip right
    assert len(accuracy) == 30 and accuracy[0] <= 0.5, accuracy
    assert float(metrics["train/acc"]) >= 0.95, accuracy
