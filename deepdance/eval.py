"""Evaluate a checkpoint on its test split and write summary.json.

    python -m deepdance.eval ckpt_path=logs/train/runs/.../checkpoints/epoch_007.ckpt

The checkpoint carries its model class and data settings (see ``RunMetadata``); any
``data.*`` given on the command line replaces the stored value.
"""

from __future__ import annotations

import logging
from typing import Any

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from deepdance.config.validate import validate_eval
from deepdance.data.genre.manifest import one_manifest_per_run
from deepdance.models.registry import load_model
from deepdance.run.genre_data import build_datamodule
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import instantiate_loggers, print_config_tree, task_wrapper, write_summary
from deepdance.utils.run_info import write_run_info

log = logging.getLogger("deepdance.eval")


@task_wrapper
@one_manifest_per_run()
def evaluate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Test a checkpoint on its data as a task, so task_wrapper logs failures and closes loggers."""
    # the checkpoint (its family, read as data) and the data it is tested on, before anything
    # heavy; the module comes from the same read of the file
    with one_read_per_checkpoint():
        metadata, data_cfg = validate_eval(cfg)
        model, _, family = load_model(cfg.ckpt_path, "eval")
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    write_run_info(cfg.paths.output_dir, cfg)
    if cfg.get("print_config"):
        print_config_tree(OmegaConf.merge(cfg, {"data": data_cfg}))
    fast_dev_run = bool(cfg.trainer.get("fast_dev_run"))
    datamodule = build_datamodule(data_cfg, model, cfg.trainer, ("test",), fast_dev_run)
    # the family's reports (e.g. the confusion matrix) go to the run dir and every logger
    trainer: pl.Trainer = hydra.utils.instantiate(
        cfg.trainer, logger=instantiate_loggers(cfg) or False, callbacks=family.report_callbacks()
    )
    trainer.test(model, datamodule=datamodule)
    metrics = dict(trainer.callback_metrics)
    write_summary(
        cfg.paths.output_dir,
        metrics,
        ckpt_path=str(cfg.ckpt_path),
        seed=cfg.get("seed"),
        split=data_cfg.get("split"),
    )
    return metrics, {"datamodule": datamodule, "model": model, "trainer": trainer}


@hydra.main(version_base="1.3", config_path="../conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from evaluate() so tests can call the task with a composed config."""
    evaluate(cfg)


if __name__ == "__main__":
    main()
