"""The documented requeue command (same command + ``ckpt_path=last``, same run dir) run on a run
that had already finished: nothing trains, and summary.json keeps the finished run's metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TINY_SYNTHETIC

# Two tiny trainings in-process (about 15 s).
pytestmark = pytest.mark.slow


def _train_in_process(root: Path, run_dir: Path, *extra: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from deepdance.run.fit import train

    synthetic = ",".join(f"{k}:{v}" for k, v in TINY_SYNTHETIC.items())
    overrides = [
        f"data.root={root}", f"data.synthetic={{{synthetic}}}", "data.num_frames=4", "data.img_size=32",
        "data.batch_size=4", "data.num_workers=0", "data.persistent_workers=false", "data.features.use=false",
        "model.backbone.name=resnet10t", "trainer.max_epochs=2", "trainer.accelerator=cpu",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
        "callbacks.rich_progress_bar=null", "logger=csv", "print_config=false", "seed=5",
        f"paths.log_dir={run_dir.parent / 'logs'}", *extra,
    ]
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        # What Hydra hands a task: the job's config without the hydra node.
        del cfg["hydra"]
    _, objects = train(cfg)
    return {"summary": json.loads((run_dir / "summary.json").read_text()), "steps": objects["trainer"].global_step}


def test_requeue_of_a_finished_run_keeps_its_metrics(tiny_synthetic: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    finished = _train_in_process(tiny_synthetic, run_dir)
    before = {k: v for k, v in finished["summary"].items() if "/" in k}
    assert {"val/acc_best", "val/acc", "train/loss", "test/acc"} <= set(before)

    again = _train_in_process(tiny_synthetic, run_dir, "ckpt_path=last")
    assert again["steps"] == finished["steps"] == 4  # nothing trained the second time
    after = {k: v for k, v in again["summary"].items() if "/" in k}
    assert after == before  # the test metrics, run again on the same checkpoint, agree too
    assert again["summary"]["resumed_from"].endswith("last.ckpt")
