"""One training run: fit, test the best checkpoint, write summary.json.

Re-running a finished run with ``ckpt_path=last`` trains nothing and keeps its results: the
summary carries the finished run's metrics over (``carry_finished_metrics``).

``train`` is the task (``task_wrapper``: one-line user errors, loggers closed, one DDP scope);
``fit_and_test`` is the same run unwrapped, for the stages runner, which holds that scope itself.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from deepdance.callbacks import RunMetadata
from deepdance.config_checks import validate_train
from deepdance.features.extract import prepare_feature_store
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.checkpoints import check_model_target, load_checkpoint, resolve_ckpt_path
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


def fit_and_test(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit, then test with the best checkpoint; returns (metrics, objects). Settings are
    checked first (``validate_train``), before any data or model is built."""
    validate_train(cfg)
    started = time.perf_counter()
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    if cfg.get("print_config"):
        print_config_tree(cfg)
    write_run_info(cfg.paths.output_dir, cfg)
    ckpt_path = resolve_ckpt_path(
        cfg.get("ckpt_path"), cfg.paths.output_dir, cfg.paths.log_dir, cfg.task_name
    )
    # Refuse an unsafe file or another model family before any heavy work.
    if ckpt_path is not None:
        check_model_target(load_checkpoint(ckpt_path).get("deepdance") or {}, cfg.model._target_, ckpt_path)
    datamodule: pl.LightningDataModule = hydra.utils.instantiate(cfg.data)
    model: pl.LightningModule = hydra.utils.instantiate(cfg.model, _recursive_=False)
    callbacks = with_run_metadata(instantiate_callbacks(cfg), cfg)
    loggers = instantiate_loggers(cfg)
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    # A frozen backbone reads its features from the store (filled here on first use), never the videos.
    splits = ("train", "val", "test") if cfg.get("train", True) else ("test",)
    prepare_feature_store(
        datamodule, model, cfg.trainer, splits, fast_dev_run=bool(cfg.trainer.get("fast_dev_run"))
    )
    # Read before fit, which overwrites last.ckpt: did this invocation train at all?
    steps_before = checkpoint_steps(ckpt_path)
    if cfg.get("train", True):
        try:
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        except SIGTERMException:
            log.warning(
                "stopped by SIGTERM; run the same command with ckpt_path=last "
                "(and the same hydra.run.dir) to resume"
            )
            # 128 + SIGTERM: "terminated", not "failed"
            raise SystemExit(143) from None
    save_manifest(datamodule, cfg.paths.output_dir)
    metrics = dict(trainer.callback_metrics)
    best_ckpt = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.get("test", True):
        ckpt = best_ckpt or None
        if ckpt is None:
            log.warning("no best checkpoint was saved; testing the weights in memory")
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
        metrics.update(trainer.callback_metrics)
    if cfg.get("train", True) and steps_before is not None and trainer.global_step == steps_before:
        metrics = carry_finished_metrics(metrics, cfg.paths.output_dir, ckpt_path)
    bad_videos = getattr(datamodule, "bad_videos", None)
    write_summary(
        cfg.paths.output_dir,
        metrics,
        best_ckpt=best_ckpt,
        seed=cfg.get("seed"),
        split=cfg.data.get("split"),
        experiment=cfg.get("task_name"),
        resumed_from=str(ckpt_path) if ckpt_path else None,
        # wall time of this invocation (data preparation, fit and test), for study reports
        **{"time/run_s": round(time.perf_counter() - started, 1)},
        **({"bad_videos": len(bad_videos.read())} if bad_videos is not None else {}),
    )
    log.info("summary: %s", Path(cfg.paths.output_dir) / "summary.json")
    return metrics, {"cfg": cfg, "datamodule": datamodule, "model": model, "trainer": trainer}


def with_run_metadata(callbacks: list[pl.Callback], cfg: DictConfig) -> list[pl.Callback]:
    """Add ``RunMetadata`` whatever ``callbacks=`` says: eval, predict and generate refuse a
    checkpoint without the model class and data settings it stores."""
    if any(isinstance(callback, RunMetadata) for callback in callbacks):
        return callbacks
    return [*callbacks, RunMetadata(model_target=cfg.model._target_, data=cfg.data)]


def checkpoint_steps(ckpt_path: str | Path | None) -> int | None:
    """The optimizer steps a checkpoint has done (``None`` without one)."""
    if ckpt_path is None:
        return None
    return int(load_checkpoint(ckpt_path).get("global_step", 0))


def carry_finished_metrics(metrics: dict[str, Any], out_dir: str, ckpt_path: str | Path) -> dict[str, Any]:
    """Re-running a finished run (``ckpt_path=last``, the requeue command) trains nothing, so it
    logs no ``train/`` or ``val/`` metric: take every metric of the finished run's summary.json
    (this run dir's, else the one beside the checkpoint's ``checkpoints/`` folder), and let the
    metrics of this invocation (the test, run again on the same checkpoint) replace theirs."""
    for run_dir in (Path(out_dir), Path(ckpt_path).resolve().parent.parent):
        summary = run_dir / "summary.json"
        if summary.is_file():
            previous = {k: v for k, v in json.loads(summary.read_text()).items() if "/" in k}
            log.warning(
                "%s had already finished training: nothing trained now; its train/ and val/ metrics "
                "are carried over from %s",
                ckpt_path,
                summary,
            )
            return {**previous, **metrics}
    log.warning(
        "%s had already finished training, and no summary.json of that run was found: "
        "summary.json holds only the metrics of this invocation",
        ckpt_path,
    )
    return metrics


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
