"""Train the silhouette autoencoder: reconstruction loss, image metrics.

Validation and test steps return the inputs and reconstructions of their batch; the
``FrameStrips`` callback turns the first batch into a picture for the run dir and the loggers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deepdance.config.model import AutoencoderConfig
from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.base import DeepdanceModule
from deepdance.models.silhouette_metrics import silhouette_metrics


class SilhouetteAEModule(DeepdanceModule):
    """Batches ``{"frame": (B, 1, H, W) uint8}`` (255 = dancer) -> reconstructions in [0, 1]."""

    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        self.save_config(config)
        self.net = SilhouetteAutoencoder(**self.hparams.net)
        self.metrics = torch.nn.ModuleDict(
            {split: silhouette_metrics(full=True) for split in ("val", "test")}
        )

    def _frames(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        frame = batch["frame"]
        expected = (self.net.config["height"], self.net.config["width"])
        if tuple(frame.shape[-2:]) != expected:
            raise DeepdanceError(
                f"data frames are {tuple(frame.shape[-2:])} but model.net expects {expected}; set "
                "model.net.height/width to data.height/width"
            )
        return frame.float() / 255.0

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # sharper edges than MSE on near-binary targets
        if self.hparams.loss == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(torch.sigmoid(logits), target)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x = self._frames(batch)
        loss = self._loss(self.net.decode_logits(self.net.encode(x)), x)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def _eval_step(self, split: str, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Logs loss and metrics; returns ``{"frames", "reconstructions"}`` ``(B, 1, H, W)`` in [0, 1]."""
        x = self._frames(batch)
        logits = self.net.decode_logits(self.net.encode(x))
        recon = torch.sigmoid(logits)
        loss = self._loss(logits, x)
        self.log(
            f"{split}/loss",
            loss,
            on_step=False,
            on_epoch=True,
            prog_bar=split == "val",
            batch_size=len(x),
            sync_dist=True,
        )
        self.metrics[split].update(recon, x)
        return {"frames": x.detach(), "reconstructions": recon.detach()}

    def _log_metrics(self, split: str) -> None:
        self.log_dict(
            {f"{split}/{k}": v for k, v in self.metrics[split].compute().items()},
            prog_bar=False,
            sync_dist=True,
        )
        self.metrics[split].reset()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        return self._eval_step("val", batch)

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        return self._eval_step("test", batch)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")
