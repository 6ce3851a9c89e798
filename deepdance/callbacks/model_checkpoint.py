"""Lightning's ModelCheckpoint, fixed for resuming."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

log = logging.getLogger(__name__)


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
        state["best_k_models"] = {
            moved(p): score for p, score in (state_dict.get("best_k_models") or {}).items()
        }
        state["best_model_path"] = moved(state_dict.get("best_model_path", ""))
        state["kth_best_model_path"] = moved(state_dict.get("kth_best_model_path", ""))
        # this run writes its own last.ckpt
        state["last_model_path"] = ""
        log.info("resuming %s in %s: copied its best checkpoint(s) here", old_dir, new_dir)
        super().load_state_dict(state)
