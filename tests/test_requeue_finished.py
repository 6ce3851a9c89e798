"""The documented requeue command (same command + ``ckpt_path=last``, same run dir) run on a run
that had already finished: nothing trains, and summary.json keeps the finished run's metrics."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, open_dict

from tests.helpers.runs import run_train

# Two tiny trainings in-process (about 15 s).
pytestmark = pytest.mark.slow


def _train(cfg: DictConfig) -> dict[str, Any]:
    _, objects = run_train(cfg)
    summary = Path(cfg.hydra.run.dir) / "summary.json"
    return {"summary": json.loads(summary.read_text()), "steps": objects["trainer"].global_step}


def test_requeue_of_a_finished_run_keeps_its_metrics(cfg_train: DictConfig) -> None:
    with open_dict(cfg_train):
        cfg_train.data.batch_size = 4
        cfg_train.data.features.use = False
        cfg_train.trainer.limit_train_batches = 2
        cfg_train.trainer.limit_val_batches = 1
        cfg_train.trainer.limit_test_batches = 1
        cfg_train.seed = 5
    # the same command, same run dir, plus ckpt_path=last
    requeued = copy.deepcopy(cfg_train)
    requeued.ckpt_path = "last"
    finished = _train(cfg_train)
    before = {k: v for k, v in finished["summary"].items() if "/" in k and not k.startswith("time/")}
    assert {"val/acc_best", "val/acc", "train/loss", "test/acc"} <= set(before)

    again = _train(requeued)
    assert again["steps"] == finished["steps"] == 4  # nothing trained the second time
    after = {k: v for k, v in again["summary"].items() if "/" in k and not k.startswith("time/")}
    assert after == before  # the test metrics, run again on the same checkpoint, agree too
    assert again["summary"]["resumed_from"].endswith("last.ckpt")
