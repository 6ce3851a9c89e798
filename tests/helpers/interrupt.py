"""A callback the reliability tests inject with ``+callbacks.interrupt=...`` to send a real
signal to the training process at an exact point, so "killed mid-epoch" is reproducible."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class SignalAt(pl.Callback):
    """Send ``signal_name`` to this process after ``step`` optimiser steps (SIGTERM: Lightning
    stops after the batch; SIGKILL: the process dies on the spot, nothing is saved)."""

    def __init__(self, step: int, signal_name: str = "SIGTERM") -> None:
        self.step = step
        self.signum = getattr(signal, signal_name)

    def on_train_batch_end(self, trainer: pl.Trainer, *args, **kwargs) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)
