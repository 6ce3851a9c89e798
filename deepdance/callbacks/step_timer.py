"""Step time and peak memory of a training run."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl


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

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._start = self._now(pl_module)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        end = self._now(pl_module)
        self.step_ms.append((end - self._start) * 1000)
        # aligned with step_ms
        self.loop_ms.append((end - (self._start if self._last_end is None else self._last_end)) * 1000)
        self._last_end = end
        if len(self.step_ms) > self.warmup:
            self.samples += (
                len(batch["label"])
                if isinstance(batch, dict) and "label" in batch
                else trainer.train_dataloader.batch_size
            )

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import json
        import statistics
        from pathlib import Path

        import torch

        if not trainer.is_global_zero:
            return
        timed, looped = self.step_ms[self.warmup :], self.loop_ms[self.warmup :]
        cuda = pl_module.device.type == "cuda"
        result = {
            "device": torch.cuda.get_device_name(pl_module.device) if cuda else "cpu",
            "precision": str(trainer.precision),
            "compile": bool(pl_module.hparams.get("compile", False)),
            "batch_size": trainer.train_dataloader.batch_size
            if trainer.train_dataloader is not None
            else None,
            "steps_timed": len(timed),
            "warmup_steps": min(self.warmup, len(self.step_ms)),
            "warmup_ms_total": sum(self.step_ms[: self.warmup]),
            "step_ms_median": statistics.median(timed) if timed else None,
            "loop_ms_median": statistics.median(looped) if looped else None,
            "samples_per_s": self.samples / (sum(timed) / 1000) if timed else None,
            "peak_memory_mib": torch.cuda.max_memory_allocated(pl_module.device) / 2**20 if cuda else None,
        }
        path = Path(trainer.default_root_dir) / self.filename
        path.write_text(json.dumps(result, indent=2) + "\n")
