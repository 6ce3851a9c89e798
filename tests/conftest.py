"""Shared fixtures: every test runs offline, on CPU, writing only under tmp_path.

``cfg_train`` / ``cfg_eval`` are the composed configs of a small run (as lightning-hydra-template's
fixtures of the same names); ``tests.helpers.runs`` runs them in this process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from tests.helpers.runs import TINY_SYNTHETIC, compose_config, small_run

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

# One intra-op thread per test process, and (through the environment) per CLI subprocess: the
# test models are tiny, and on a busy 2-core machine two OpenMP threads spin-wait for each other.
# A small run's training costs about half the CPU time with one thread (11.7 s user instead of
# 24 s for the resume test's 3 x 3 steps), and every process of a comparison uses the same count.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic AIST++-named dataset, generated once per test session. Rendered in this
    process: its 30 small videos take well under a second, less than starting a pool of spawned
    workers (seconds, tens of them on a loaded machine); the videos do not depend on the workers."""
    import cv2

    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("synthetic")
    # the in-process render sets OpenCV to one thread (as in a worker): put it back for the tests
    threads = cv2.getNumThreads()
    ensure_synthetic_dataset(root, SyntheticConfig(**TINY_SYNTHETIC), workers=1)
    cv2.setNumThreads(threads)
    return root


def _with_hydra(cfg: DictConfig, run_dir: Path) -> Iterator[DictConfig]:
    """Yield ``cfg`` with HydraConfig set (``paths.output_dir`` resolves to ``run_dir``), then unset it."""
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    yield cfg
    HydraConfig.instance().cfg = None


@pytest.fixture
def cfg_train(tiny_synthetic: Path, tmp_path: Path) -> Iterator[DictConfig]:
    """The train config of the small run on the tiny synthetic set; run dir ``tmp_path/run``, logs
    under ``tmp_path/logs``. Change it in a test, then ``run_train(cfg_train)``."""
    run_dir = tmp_path / "run"
    cfg = compose_config(
        "train", small_run(tiny_synthetic, f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path / 'logs'}")
    )
    yield from _with_hydra(cfg, run_dir)


@pytest.fixture
def cfg_eval(tmp_path: Path) -> Iterator[DictConfig]:
    """The eval config, on CPU, run dir ``tmp_path/eval``; set ``ckpt_path``, then ``run_eval(cfg_eval)``."""
    run_dir = tmp_path / "eval"
    cfg = compose_config(
        "eval", ["trainer.accelerator=cpu", f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path / 'logs'}"]
    )
    yield from _with_hydra(cfg, run_dir)
