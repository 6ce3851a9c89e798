"""``python -m deepdance.train``: compose the train config, run it, return the swept metric.

    python -m deepdance.train                          # embedded default (synthetic dancers)
    python -m deepdance.train experiment=genre_gru data=aist data.root=/path/to/aist
    python -m deepdance.train experiment=deep_dance     # two stages, see deepdance/run/stages.py

A leaf: nothing imports it. The run itself is ``deepdance.run.fit.train``; an experiment with
``stages`` goes to ``deepdance.run.stages.run_stages``.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from deepdance.run.fit import train
from deepdance.run.stages import run_stages
from deepdance.utils.run import metric_value


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """The value of ``optimized_metric``, which Hydra's sweepers (Optuna) optimise."""
    # Several runs in one command (experiment=deep_dance), else one.
    task = run_stages if cfg.get("stages") else train
    metrics, _ = task(cfg)
    return metric_value(metrics, cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
