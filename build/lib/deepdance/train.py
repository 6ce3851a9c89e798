"""Train a model from a composed Hydra config, test its best checkpoint, write summary.json.

    python -m deepdance.train                          # embedded default (synthetic dancers)
    python -m deepdance.train experiment=genre_gru data=aist data.root=/path/to/aist
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from deepdance.utils.run import (
    instantiate_callbacks,
    instantiate_loggers,
    metric_value,
    print_config_tree,
    task_wrapper,
    write_summary,
)

log = logging.getLogger("deepdance.train")


@task_wrapper
def train(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit, then test with the best checkpoint; returns (metrics, objects)."""
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    if cfg.get("print_config"):
        print_config_tree(cfg)
    datamodule: pl.LightningDataModule = hydra.utils.instantiate(cfg.data)
    model: pl.LightningModule = hydra.utils.instantiate(cfg.model, _recursive_=False)
    callbacks = instantiate_callbacks(cfg)
    loggers = instantiate_loggers(cfg)
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    if cfg.get("train", True):
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    save_manifest(datamodule, cfg.paths.output_dir)
    metrics = dict(trainer.callback_metrics)
    best_ckpt = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.get("test", True):
        ckpt = best_ckpt or None
        if ckpt is None:
            log.warning("no best checkpoint was saved; testing the weights in memory")
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, weights_only=False)
        metrics.update(trainer.callback_metrics)
    write_summary(
        cfg.paths.output_dir, metrics,
        best_ckpt=best_ckpt, seed=cfg.get("seed"), split=cfg.data.get("split"), experiment=cfg.get("task_name"),
    )
    log.info("summary: %s", Path(cfg.paths.output_dir) / "summary.json")
    return metrics, {"cfg": cfg, "datamodule": datamodule, "model": model, "trainer": trainer}


def save_manifest(datamodule: pl.LightningDataModule, out_dir: str) -> None:
    """Keep the exact videos and split of the run beside its results."""
    manifest = getattr(datamodule, "manifest", None)
    if manifest is not None and getattr(datamodule, "trainer", None) is not None and datamodule.trainer.is_global_zero:
        manifest.to_csv(Path(out_dir) / "manifest.csv", index=False)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics, _ = train(cfg)
    return metric_value(metrics, cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
