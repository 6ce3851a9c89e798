"""Train the silhouette autoencoder: reconstruction loss, image metrics, example grids."""

from __future__ import annotations

from typing import Any

import hydra
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf

from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.silhouette_metrics import silhouette_metrics
from deepdance.utils.media import frame_grid, log_image, to_display


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


class SilhouetteAEModule(pl.LightningModule):
    """Batches ``{"frame": (B, 1, H, W) uint8}`` (255 = dancer) -> reconstructions in [0, 1]."""

    def __init__(
        self,
        net: dict[str, Any],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        loss: str = "bce",
        log_images_every_n_epochs: int = 5,
        num_logged_images: int = 8,
    ) -> None:
        super().__init__()
        net, optimizer, scheduler = map(_plain, (net, optimizer, scheduler))
        if loss not in ("mse", "bce"):
            raise DeepdanceError(f"model.loss={loss!r} is not known; use mse or bce")
        self.save_hyperparameters({"net": net, "optimizer": optimizer, "scheduler": scheduler, "loss": loss,
                                   "log_images_every_n_epochs": log_images_every_n_epochs, "num_logged_images": num_logged_images})
        self.net = SilhouetteAutoencoder(**net)
        self.metrics = torch.nn.ModuleDict({split: silhouette_metrics(full=True) for split in ("val", "test")})

    @staticmethod
    def checkpoint_overrides() -> dict[str, Any]:
        return {}

    def _frames(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        frame = batch["frame"]
        expected = (self.net.config["height"], self.net.config["width"])
        if tuple(frame.shape[-2:]) != expected:
            raise DeepdanceError(f"data frames are {tuple(frame.shape[-2:])} but model.net expects {expected}; set model.net.height/width to data.height/width")
        return frame.float() / 255.0

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.hparams.loss == "bce":  # sharper edges than MSE on near-binary targets
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(torch.sigmoid(logits), target)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x = self._frames(batch)
        loss = self._loss(self.net.decode_logits(self.net.encode(x)), x)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def _eval_step(self, split: str, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        x = self._frames(batch)
        logits = self.net.decode_logits(self.net.encode(x))
        recon = torch.sigmoid(logits)
        self.log(f"{split}/loss", self._loss(logits, x), on_step=False, on_epoch=True, prog_bar=split == "val", batch_size=len(x), sync_dist=True)
        self.metrics[split].update(recon, x)
        if batch_idx == 0 and self._should_log_images(split):
            n = self.hparams.num_logged_images
            grid = frame_grid([to_display(x[:n, 0]), to_display(recon[:n, 0])])
            log_image(self.loggers, f"{split}/reconstructions", grid, self.global_step)

    def _should_log_images(self, split: str) -> bool:
        every = self.hparams.log_images_every_n_epochs
        return bool(every) and self.trainer.is_global_zero and not self.trainer.sanity_checking and (
            split == "test" or self.current_epoch % every == 0)

    def _log_metrics(self, split: str) -> None:
        self.log_dict({f"{split}/{k}": v for k, v in self.metrics[split].compute().items()}, prog_bar=False, sync_dist=True)
        self.metrics[split].reset()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("val", batch, batch_idx)

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("test", batch, batch_idx)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = hydra.utils.instantiate(self.hparams.optimizer)(params=self.parameters())
        if not self.hparams.scheduler:
            return {"optimizer": optimizer}
        scheduler = hydra.utils.instantiate(self.hparams.scheduler)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val/loss", "interval": "epoch"}}
