"""Several training stages in one command, each stage a normal training run (``fit_and_test``).

An experiment with a ``stages`` mapping (see conf/experiment/deep_dance.yaml) composes, for
each stage in order, the ``train`` config with that stage's experiment, the command line's
own overrides and the stage's extra overrides; a stage may take an earlier stage's best
checkpoint as ``model.autoencoder_ckpt``. Every stage writes its own run directory under the
command's; the command's ``summary.json`` holds the last stage's metrics and ``best_ckpt``,
and earlier stages' under ``<stage>/``.

``run_stages`` is one task: one ``task_wrapper``, so one DDP scope for all stages (the ranks that
the first stage starts live on to the next); each stage closes its loggers (W&B: one run each).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from deepdance.config.validate import validate_stages
from deepdance.errors import DeepdanceError
from deepdance.run.fit import fit_and_test
from deepdance.utils.run import close_loggers, task_wrapper, write_summary
from deepdance.utils.run_info import write_run_info

log = logging.getLogger(__name__)


def _quoted(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


def passthrough_overrides() -> list[str]:
    """The command line's overrides that every stage gets (all but the experiment and stages)."""
    if not HydraConfig.initialized():
        return []
    keep = []
    for override in HydraConfig.get().overrides.task:
        key = override.split("=", 1)[0].lstrip("+~")
        if key != "experiment" and key != "stages" and not key.startswith("stages."):
            keep.append(override)
    return keep


@task_wrapper
def run_stages(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train every stage of ``cfg.stages`` in order; returns the last stage's (metrics, objects)."""
    started = time.perf_counter()
    out_dir = Path(cfg.paths.output_dir)
    shared = passthrough_overrides()
    best: dict[str, str] = {}
    summary: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    objects: dict[str, Any] = {}
    names = list(cfg.stages)

    def stage_overrides(name: str, stage: DictConfig) -> list[str]:
        return [
            f"experiment={stage.experiment}",
            *shared,
            *stage.get("overrides", []),
            f"paths.output_dir={_quoted(str(out_dir / name))}",
        ]

    # Every stage's settings are checked before the first one trains.
    def compose(name: str, stage: DictConfig) -> DictConfig:
        return hydra.compose(config_name="train", overrides=stage_overrides(name, stage))

    validate_stages(cfg, compose)
    # the pipeline's own record, beside the summary.json that gathers every stage's metrics
    write_run_info(out_dir, cfg)
    for index, name in enumerate(names):
        stage = cfg.stages[name]
        overrides = stage_overrides(name, stage)
        source = stage.get("autoencoder_from")
        if source:
            if not best.get(source):
                raise DeepdanceError(
                    f"stages.{name}.autoencoder_from={source}: that stage left no best checkpoint"
                )
            overrides.append(f"model.autoencoder_ckpt={_quoted(best[source])}")
        log.info("stage %d/%d %s: %s", index + 1, len(names), name, " ".join(overrides))
        stage_cfg = hydra.compose(config_name="train", overrides=overrides)
        metrics, objects = fit_and_test(stage_cfg)
        close_loggers(exit_code=0)
        trainer = objects["trainer"]
        best[name] = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if index < len(names) - 1:
            summary.update({f"{name}/{key}": value for key, value in metrics.items()})
            summary[f"{name}/best_ckpt"] = best[name]
    summary.update(metrics)
    write_summary(
        out_dir,
        summary,
        best_ckpt=best[names[-1]],
        seed=cfg.get("seed"),
        experiment=cfg.get("task_name"),
        stages=",".join(names),
        # wall time of all stages together, for study reports
        **{"time/run_s": round(time.perf_counter() - started, 1)},
    )
    log.info("summary: %s", out_dir / "summary.json")
    return summary, objects
