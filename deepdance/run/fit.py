"""One training run: fit, test the best checkpoint, write summary.json.

The data walk one way (``deepdance.run.genre_data``): videos, manifest, feature store,
datamodule; ``ckpt_path`` is read once (``deepdance.run.resume``). Re-running a finished run
with ``ckpt_path=last`` trains nothing and keeps its results.

``train`` is the task (``task_wrapper``: one-line user errors, loggers closed, one DDP scope);
``fit_and_test`` is the same run unwrapped, for the stages runner, which holds that scope itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from deepdance.callbacks import RunMetadata
from deepdance.config.validate import validate_train
from deepdance.data.genre.manifest import one_manifest_per_run
from deepdance.models.registry import build_model
from deepdance.run.genre_data import build_datamodule
from deepdance.run.resume import ResumePoint, carry_finished_metrics
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import (
    instantiate_callbacks,
    instantiate_loggers,
    print_config_tree,
    task_wrapper,
    write_summary,
)
from deepdance.utils.run_info import manifest_hash, write_run_info

log = logging.getLogger("deepdance.train")


@task_wrapper
def train(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run as a task of its own (``python -m deepdance.train``, tests, notebooks)."""
    return fit_and_test(cfg)


@one_manifest_per_run()
def fit_and_test(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit, then test with the best checkpoint; returns (metrics, objects). Settings are
    checked first (``validate_train``), before any data or model is built."""
    started = time.perf_counter()
    # the start-up check and the resume point share one read of ckpt_path
    with one_read_per_checkpoint():
        validate_train(cfg)
        resume = ResumePoint.of_run(cfg)
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    if cfg.get("print_config"):
        print_config_tree(cfg)
    write_run_info(cfg.paths.output_dir, cfg)
    model: pl.LightningModule = build_model(cfg.model)
    splits = ("train", "val", "test") if cfg.get("train", True) else ("test",)
    fast_dev_run = bool(cfg.trainer.get("fast_dev_run"))
    datamodule = build_datamodule(cfg.data, model, cfg.trainer, splits, fast_dev_run)
    trainer = build_trainer(cfg)
    resume.hand_to(trainer)
    if cfg.get("train", True):
        fit(trainer, model, datamodule, resume.path)
    save_manifest(datamodule, cfg.paths.output_dir)
    metrics = dict(trainer.callback_metrics)
    best_ckpt = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.get("test", True):
        if not best_ckpt:
            log.warning("no best checkpoint was saved; testing the weights in memory")
        trainer.test(model, datamodule=datamodule, ckpt_path=best_ckpt or None, weights_only=True)
        metrics.update(trainer.callback_metrics)
    if cfg.get("train", True) and resume.trained_nothing(trainer):
        metrics = carry_finished_metrics(metrics, cfg.paths.output_dir, resume.path)
    bad_videos = getattr(datamodule, "bad_videos", None)
    write_summary(
        cfg.paths.output_dir,
        metrics,
        best_ckpt=best_ckpt,
        seed=cfg.get("seed"),
        split=cfg.data.get("split"),
        experiment=cfg.get("task_name"),
        resumed_from=str(resume.path) if resume.path else None,
        # wall time of this invocation (data preparation, fit and test), for study reports
        **{"time/run_s": round(time.perf_counter() - started, 1)},
        **({"bad_videos": len(bad_videos.read())} if bad_videos is not None else {}),
    )
    log.info("summary: %s", Path(cfg.paths.output_dir) / "summary.json")
    return metrics, {"cfg": cfg, "datamodule": datamodule, "model": model, "trainer": trainer}


def build_trainer(cfg: DictConfig) -> pl.Trainer:
    """The run's Trainer with its callbacks (``RunMetadata`` always) and loggers, which get the config."""
    callbacks = with_run_metadata(instantiate_callbacks(cfg), cfg)
    loggers = instantiate_loggers(cfg)
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return trainer


def fit(trainer: pl.Trainer, model: pl.LightningModule, datamodule: Any, ckpt_path: Path | None) -> None:
    """``trainer.fit``; SIGTERM (preemption, ``timeout``) ends the command with exit code 143."""
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except SIGTERMException:
        log.warning(
            "stopped by SIGTERM; run the same command with ckpt_path=last "
            "(and the same hydra.run.dir) to resume"
        )
        # 128 + SIGTERM: "terminated", not "failed"
        raise SystemExit(143) from None


def with_run_metadata(callbacks: list[pl.Callback], cfg: DictConfig) -> list[pl.Callback]:
    """Add ``RunMetadata`` whatever ``callbacks=`` says: eval, predict and generate refuse a
    checkpoint without the model class and data settings it stores."""
    if any(isinstance(callback, RunMetadata) for callback in callbacks):
        return callbacks
    return [*callbacks, RunMetadata(model_target=cfg.model._target_, data=cfg.data)]


def save_manifest(datamodule: pl.LightningDataModule, out_dir: str) -> None:
    """Keep the exact videos and split of the run beside its results; its hash goes in run_info.json."""
    manifest = getattr(datamodule, "manifest", None)
    if (
        manifest is not None
        and getattr(datamodule, "trainer", None) is not None
        and datamodule.trainer.is_global_zero
    ):
        # Its bytes are what is hashed.
        atomic_write_text(Path(out_dir) / "manifest.csv", manifest.to_csv(index=False))
        write_run_info(out_dir, manifest_sha256=manifest_hash(manifest), videos=len(manifest))
