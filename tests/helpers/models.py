"""Tiny untrained Deep-Dance modules for the generator tests: one recipe instead of a copy per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from deepdance.config.pose_motion import PoseLSTMConfig, PoseMotionConfig
from deepdance.data.pose.motion import PoseMotionDataModule
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.pose_lstm_module import PoseLSTMModule

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


def fit_tiny_pose_lstm(
    root: Path, look_back: int, steps: int, condition: str | None = None, fps: float = 30.0
) -> tuple[PoseLSTMModule, dict[str, Any]]:
    """A 16-unit ``PoseLSTMModule`` fitted for ``steps`` one-step batches on the keypoint folder's
    training windows at ``fps``, in eval mode, and its data node as a checkpoint stores it."""
    torch.manual_seed(0)
    data_config = PoseMotionConfig(root=str(root), context_frames=look_back, normalized_2d=False, fps=fps)
    data = PoseMotionDataModule(data_config)
    config = PoseLSTMConfig(
        optimizer={"_target_": "torch.optim.Adam", "lr": 0.01},
        look_back=look_back,
        condition=condition,
        net={"hidden_sizes": [16]},
        fps=fps,
    )
    model = PoseLSTMModule(config)
    model.use_sequences(data.sequences(), fit=True)
    optimizer = torch.optim.Adam(model.lstm.parameters(), lr=0.01)
    loader = torch.utils.data.DataLoader(data.datasets["train"], batch_size=32, shuffle=True)
    model.train()
    for step, batch in enumerate(loader):
        z = model.normalize(model.batch_latents(batch))
        loss = torch.nn.functional.mse_loss(model.lstm(z[:, :-1], model.window_genres(batch)), z[:, -1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= steps:
            break
    return model.eval(), data_config.model_dump(mode="json", by_alias=True)
