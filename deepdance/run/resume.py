"""Resuming a run from ``ckpt_path``: the checkpoint is read once, checked, and handed to Lightning.

The run reads the checkpoint before any heavy work (its model class must be this run's model,
and its step count tells afterwards whether this invocation trained at all), sharing the read
with the start-up check (``one_read_per_checkpoint``); Lightning's fit then takes that same dict
through the trainer's checkpoint IO instead of reading the file again.
Re-running a finished run trains nothing: the summary carries the finished run's metrics over
(``carry_finished_metrics``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from lightning_fabric.plugins.io.checkpoint_io import CheckpointIO
from omegaconf import DictConfig

from deepdance.models.registry import check_model_target
from deepdance.utils.checkpoints import load_checkpoint, resolve_ckpt_path

log = logging.getLogger(__name__)


class HandOverCheckpointIO(CheckpointIO):
    """The trainer's own checkpoint IO, except that the checkpoint the run has already read is
    handed over once instead of read again; every other load, save and removal is the inner IO's."""

    def __init__(self, inner: CheckpointIO, path: Path, checkpoint: dict[str, Any]) -> None:
        self.inner = inner
        self.path = path.resolve()
        self.checkpoint: dict[str, Any] | None = checkpoint

    def load_checkpoint(
        self, path: Any, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        if self.checkpoint is not None and Path(path).resolve() == self.path:
            checkpoint, self.checkpoint = self.checkpoint, None
            return checkpoint
        if map_location is None:
            return self.inner.load_checkpoint(path, weights_only=weights_only)
        return self.inner.load_checkpoint(path, map_location=map_location, weights_only=weights_only)

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        self.inner.save_checkpoint(checkpoint, path, storage_options=storage_options)

    def remove_checkpoint(self, path: Any) -> None:
        self.inner.remove_checkpoint(path)

    def teardown(self) -> None:
        self.inner.teardown()


@dataclass
class ResumePoint:
    """Where a run resumes: the checkpoint's path and the optimizer steps it had done (None: fresh)."""

    path: Path | None = None
    steps: int | None = None
    checkpoint: dict[str, Any] | None = None

    @classmethod
    def of_run(cls, cfg: DictConfig) -> ResumePoint:
        """``cfg.ckpt_path`` (a path, ``last`` or null) read once; a checkpoint of another model
        class stops the run here, before any data or model is built."""
        path = resolve_ckpt_path(cfg.get("ckpt_path"), cfg.paths.output_dir, cfg.paths.log_dir, cfg.task_name)
        if path is None:
            return cls()
        checkpoint = load_checkpoint(path)
        check_model_target(checkpoint.get("deepdance") or {}, cfg.model._target_, path)
        return cls(path, int(checkpoint.get("global_step", 0)), checkpoint)

    def hand_to(self, trainer: pl.Trainer) -> None:
        """Let ``trainer.fit(ckpt_path=self.path)`` take the checkpoint read here."""
        if self.checkpoint is None:
            return
        strategy = trainer.strategy
        strategy.checkpoint_io = HandOverCheckpointIO(strategy.checkpoint_io, self.path, self.checkpoint)
        # the trainer holds it now, until fit restores it
        self.checkpoint = None

    def trained_nothing(self, trainer: pl.Trainer) -> bool:
        """Did this invocation resume a run that had already finished (no optimizer step now)?"""
        return self.steps is not None and trainer.global_step == self.steps


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
