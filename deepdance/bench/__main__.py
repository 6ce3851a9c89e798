"""Benchmark feature extraction and training speed; results in the run directory.

python -m deepdance.bench                         # AIST++-shaped stand-ins, inception_v3 at 299
python -m deepdance.bench bench=smoke             # a few tiny videos, seconds
python -m deepdance.bench bench.videos=/path/to/videos
python -m deepdance.bench bench.out_dir=experiments/bench   # also update the committed tables
"""

from __future__ import annotations

from typing import Any

import hydra
from omegaconf import DictConfig

from deepdance.bench.config import validate_bench
from deepdance.bench.runner import run_benchmark
from deepdance.utils.run import task_wrapper


@task_wrapper
def bench(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The benchmark as a task, so task_wrapper logs failures and closes loggers as for training."""
    validate_bench(cfg)
    return run_benchmark(cfg), {"cfg": cfg}


@hydra.main(version_base="1.3", config_path="../../conf", config_name="bench")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from bench() so tests can call the task with a composed config."""
    bench(cfg)


if __name__ == "__main__":
    main()
