"""Tiny untrained Deep-Dance modules for the generator tests: one recipe instead of a copy per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from deepdance.models.latent_lstm_module import LatentLSTMModule

TINY_AE = {"height": 24, "width": 40, "latent_dim": 8, "channels": 4, "hidden": 16}
OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def tiny_preprocessing(fps: float = 3.0) -> dict[str, Any]:
    """The preprocessing settings of 24x40 silhouettes at ``fps``, as a checkpoint stores them."""
    return {
        "fps": fps,
        "height": 24,
        "width": 40,
        "threshold_rule": "fixed",
        "threshold": 128.0,
        "polarity": "dark",
        "crop": None,
        "ignore_boxes": [],
        "start_seconds": 0.0,
    }


def tiny_lstm(fps: float = 3.0, **settings: Any) -> LatentLSTMModule:
    """An untrained LSTM (16 units, look_back 4) over the tiny autoencoder; ``settings`` add or
    replace module arguments (``condition``, ``head``, ...)."""
    return LatentLSTMModule.from_hparams(
        dict(
            net={"hidden_sizes": [16], "dropout": 0.0},
            optimizer=OPTIMIZER,
            look_back=4,
            autoencoder=TINY_AE,
            preprocessing=tiny_preprocessing(fps),
            **settings,
        )
    )


def save_like_train(model: torch.nn.Module, path: Path, target: str, data: dict[str, Any]) -> Path:
    """What train writes and predict, generate and eval read: the weights, the hyper-parameters
    and deepdance's metadata (the model family's ``target`` and the data settings)."""
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "deepdance": {"model_target": target, "data": data},
        },
        path,
    )
    return path
