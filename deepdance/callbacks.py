"""Lightning callbacks that are deepdance's own (the rest come from Lightning)."""

from __future__ import annotations

import logging
import random
import shutil
from pathlib import Path
import time
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)


class RunMetadata(pl.Callback):
    """Store the model class and data settings in every checkpoint, so ``deepdance.eval
    ckpt_path=...`` rebuilds the same pipeline without the training command line."""

    def __init__(self, model_target: str, data: dict[str, Any] | DictConfig) -> None:
        self.metadata = {
            "model_target": model_target,
            "data": OmegaConf.to_container(data, resolve=True) if isinstance(data, DictConfig) else dict(data),
        }

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint["deepdance"] = self.metadata


class CheckpointOnInterrupt(pl.Callback):
    """Save ``<dirpath>/last.ckpt`` when fitting stops early: SIGTERM (``kill``, ``timeout``,
    Kubernetes, SLURM), Ctrl-C, or a crash, so ``ckpt_path=last`` resumes from that point.

    Lightning turns SIGTERM into a clean stop after the current batch on any machine (not only
    under SLURM); this callback adds the checkpoint. Nothing is saved before the first
    optimiser step (a config or data error at start-up leaves the last good checkpoint alone).
    Unlike Lightning's ``OnExceptionCheckpoint`` it neither deletes the file after a
    successful fit nor makes a later ``fit(ckpt_path=None)`` resume from it silently.
    """

    def __init__(self, dirpath: str, filename: str = "last") -> None:
        self.ckpt_path = str(Path(dirpath) / f"{filename}.ckpt")

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if trainer.state.fn != "fit" or trainer.global_step == 0:
            return
        trainer.save_checkpoint(self.ckpt_path, weights_only=False)  # the full training state
        why = "SIGTERM" if isinstance(exception, SIGTERMException) else type(exception).__name__
        log.warning("%s at epoch %d, step %d: saved %s; resume with ckpt_path=last", why, trainer.current_epoch, trainer.global_step, self.ckpt_path)


class ResumableRandomness(pl.Callback):
    """Store the torch / numpy / python random states in every checkpoint and restore them
    when training resumes, so a resumed run draws the same dropout (and anything else the model
    draws) as an uninterrupted one; with ``trainer.deterministic`` and the datamodules'
    ``ResumableTrainOrder`` (shuffles and per-clip draws), exactly so, mid-epoch included.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        kind, keys, pos, has_gauss, gauss = np.random.get_state()
        state = {
            "torch": torch.get_rng_state(),
            "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
            "python": random.getstate(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning loads callback states before this hook and builds the data iterators after
        # it; our loaders draw their worker seeds from their own generator, so from here the
        # global stream is the model's alone, as in the uninterrupted run.
        state, self._pending = self._pending, None
        if not state:
            return
        torch.set_rng_state(state["torch"])
        numpy_state = state["numpy"]
        np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32), numpy_state["pos"], numpy_state["has_gauss"], numpy_state["gauss"]))
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


class ModelCheckpoint(pl.callbacks.ModelCheckpoint):
    """Lightning's ModelCheckpoint with two fixes that resuming depends on.

    * ``last.ckpt`` is the newest state after every validation (or training epoch end, when
      that is where Lightning saves), whether or not the monitored metric improved. Lightning
      2.6 writes it only when a top-k checkpoint is written at the same step, so with
      ``save_top_k=1`` it is a copy of the best epoch: ``ckpt_path=last`` after a kill would
      silently go back to the best epoch and redo the epochs since, and a run that never
      improved after a resume got its only ``last.ckpt`` from ``on_train_end``, recording
      ``epoch = max_epochs`` (one past the last epoch trained).
    * Resuming another run's checkpoint in a new run dir (``ckpt_path=last`` found an earlier
      run) keeps its best-k bookkeeping: the best checkpoints are copied into this run's
      ``checkpoints/`` and tracked from there, so "best" still means best over the whole
      training and the earlier run dir is never modified. (Lightning alone forgets the best
      scores when the directory changes.)
    """

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_stale(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_stale(trainer)

    def _save_last_if_stale(self, trainer: pl.Trainer) -> None:
        """Write ``last.ckpt`` unless this step was saved already (then Lightning wrote it too)."""
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        old_dir = state_dict.get("dirpath")
        if old_dir is None or self.dirpath is None or Path(old_dir) == Path(self.dirpath):
            return super().load_state_dict(state_dict)
        new_dir = Path(self.dirpath)
        new_dir.mkdir(parents=True, exist_ok=True)

        def moved(path: str) -> str:
            if not path or Path(path).parent != Path(old_dir):
                return path
            target = new_dir / Path(path).name
            if Path(path).is_file() and not target.exists():
                shutil.copy2(path, target)
            return str(target)

        state = dict(state_dict)
        state["dirpath"] = self.dirpath
        state["best_k_models"] = {moved(p): score for p, score in (state_dict.get("best_k_models") or {}).items()}
        state["best_model_path"] = moved(state_dict.get("best_model_path", ""))
        state["kth_best_model_path"] = moved(state_dict.get("kth_best_model_path", ""))
        state["last_model_path"] = ""  # this run writes its own last.ckpt
        log.info("resuming %s in %s: copied its best checkpoint(s) here", old_dir, new_dir)
        super().load_state_dict(state)


class StepTimer(pl.Callback):
    """Time training steps and record peak GPU memory into ``step_time.json`` (rank 0).

    ``step_ms`` is forward + backward + optimiser only (the device is synchronised at both ends),
    ``loop_ms`` the whole loop iteration including waiting for data: when loop_ms is much larger,
    the data loaders, not the model, set the pace. The first ``warmup`` steps (cuDNN autotuning,
    torch.compile) are left out of the medians and reported apart.
        +callbacks.step_timer._target_=deepdance.callbacks.StepTimer
    """

    def __init__(self, warmup: int = 10, filename: str = "step_time.json") -> None:
        self.warmup = warmup
        self.filename = filename
        self.step_ms: list[float] = []
        self.loop_ms: list[float] = []
        self.samples = 0
        self._start = self._last_end = None

    @staticmethod
    def _now(pl_module: pl.LightningModule) -> float:
        import time

        import torch

        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        return time.perf_counter()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import torch

        if pl_module.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(pl_module.device)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int) -> None:
        self._start = self._now(pl_module)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        end = self._now(pl_module)
        self.step_ms.append((end - self._start) * 1000)
        self.loop_ms.append((end - (self._start if self._last_end is None else self._last_end)) * 1000)  # aligned with step_ms
        self._last_end = end
        if len(self.step_ms) > self.warmup:
            self.samples += len(batch["label"]) if isinstance(batch, dict) and "label" in batch else trainer.train_dataloader.batch_size

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import json
        import statistics
        from pathlib import Path

        import torch

        if not trainer.is_global_zero:
            return
        timed, looped = self.step_ms[self.warmup:], self.loop_ms[self.warmup:]
        cuda = pl_module.device.type == "cuda"
        result = {
            "device": torch.cuda.get_device_name(pl_module.device) if cuda else "cpu",
            "precision": str(trainer.precision),
            "compile": bool(pl_module.hparams.get("compile", False)),
            "batch_size": trainer.train_dataloader.batch_size if trainer.train_dataloader is not None else None,
            "steps_timed": len(timed),
            "warmup_steps": min(self.warmup, len(self.step_ms)),
            "warmup_ms_total": sum(self.step_ms[:self.warmup]),
            "step_ms_median": statistics.median(timed) if timed else None,
            "loop_ms_median": statistics.median(looped) if looped else None,
            "samples_per_s": self.samples / (sum(timed) / 1000) if timed else None,
            "peak_memory_mib": torch.cuda.max_memory_allocated(pl_module.device) / 2**20 if cuda else None,
        }
        path = Path(trainer.default_root_dir) / self.filename
        path.write_text(json.dumps(result, indent=2) + "\n")


class EpochTimer(pl.Callback):
    """Log each epoch's training time (``time/train_epoch_s``: its training batches, without the
    validation and checkpointing that follow), so the cost of an epoch that decodes videos and of
    one that reads stored features compare like for like."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start, self._train_seconds = time.perf_counter(), None

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if getattr(self, "_start", None) is not None and not trainer.sanity_checking and self._train_seconds is None:
            self._train_seconds = time.perf_counter() - self._start

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        seconds = self._train_seconds if self._train_seconds is not None else time.perf_counter() - self._start
        pl_module.log("time/train_epoch_s", seconds, on_epoch=True, sync_dist=True)
