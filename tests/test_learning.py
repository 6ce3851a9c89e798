"""The models learn: tests that fail when training stops improving the model, not only when
it crashes. Both run ``deepdance.run.fit.train`` in-process on a config composed the way the
CLI composes it, on tiny synthetic dancers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from conftest import REPO


@pytest.fixture
def hydra_run() -> Iterator[None]:
    """Leave no Hydra run config behind for the next test."""
    yield
    HydraConfig.instance().cfg = None


def compose_run(overrides: list[str], out_dir: Path) -> DictConfig:
    """The train config as ``python -m deepdance.train OVERRIDES hydra.run.dir=OUT_DIR`` sees it."""
    import deepdance.utils.run  # noqa: F401  (registers the config resolvers)

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(out_dir)
    HydraConfig.instance().set_config(cfg)
    # a task function gets the config without its hydra node
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def small(root: Path, *extra: str) -> list[str]:
    return [
        f"data.root={root}", "data.synthetic=null", "data.num_frames=4", "data.img_size=32",
        "data.num_workers=0", "data.persistent_workers=false", "++callbacks.rich_progress_bar=null",
        "print_config=false", "logger=csv", *extra,
    ]


def epoch_values(out_dir: Path, key: str) -> list[float]:
    """One value of ``key`` per epoch, from the run's CSV log."""
    with open(out_dir / "csv" / "metrics.csv", newline="") as handle:
        return [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]


def test_debug_overfit_memorises_a_few_batches(tiny_synthetic: Path, tmp_path: Path, hydra_run) -> None:
    from deepdance.run.fit import train

    # 2 batches of 4 clips, 10 genres, 30 epochs: the preset as written (no checkpoints: time)
    overrides = small(tiny_synthetic, "debug=overfit", "data.batch_size=4", "test=false", "seed=1",
                      "callbacks=none")
    cfg = compose_run(overrides, tmp_path)
    metrics, objects = train(cfg)
    trainer = objects["trainer"]
    assert (trainer.overfit_batches, trainer.current_epoch) == (2, 30)
    accuracy = epoch_values(tmp_path, "train/acc")
    # it starts near chance (0.1) and ends with every training clip right
    assert len(accuracy) == 30 and accuracy[0] <= 0.5, accuracy
    assert float(metrics["train/acc"]) >= 0.95, accuracy
