"""Shared fixtures: every test runs offline, on CPU, writing only under tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# A small synthetic dataset: 10 genres x 3 dancers, one camera, one music, 1 s at 15 fps.
TINY_SYNTHETIC = {"seed": 3, "dancers_per_genre": 3, "cameras": 1, "musics": 1, "seconds": 1.0, "fps": 15, "size": 64}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic AIST++-named dataset, generated once per test session."""
    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("synthetic")
    ensure_synthetic_dataset(root, SyntheticConfig(**TINY_SYNTHETIC))
    return root


def run_cli(module: str, *overrides: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python -m module overrides...`` as a user would; output captured for asserts."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", module, *overrides], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
