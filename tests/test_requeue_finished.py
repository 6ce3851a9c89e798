"""The documented requeue command (same command + ``ckpt_path=last``, same run dir) run on a run
that had already finished: nothing trains, and summary.json keeps the finished run's metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.runs import small_run, train_in_process

# Two tiny trainings in-process (about 15 s).
pytestmark = pytest.mark.slow


def _train_in_process(root: Path, run_dir: Path, *extra: str) -> dict[str, Any]:
    overrides = small_run(
        root, "data.batch_size=4", "data.features.use=false",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
        "logger=csv", "seed=5", f"paths.log_dir={run_dir.parent / 'logs'}", f"hydra.run.dir={run_dir}", *extra,
    )
    _, objects = train_in_process(overrides)
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
