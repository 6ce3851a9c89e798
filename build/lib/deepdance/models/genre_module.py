"""The genre classifier: a timm backbone per frame, a GRU over the frame sequence."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import ConfusionMatrix, MaxMetric, MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from deepdance.data.aist import GENRES
from deepdance.errors import DeepdanceError
from deepdance.models.backbones import backbone_spec, create_backbone
from deepdance.models.sequence_heads import GRUHead

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """Hydra configs become plain dicts so checkpoints hold data, not OmegaConf objects."""
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


class GenreClassifier(pl.LightningModule):
    """Frames ``(B, T, 3, S, S)`` uint8 with a frame mask ``(B, T)`` -> genre logits ``(B, C)``.

    With a frozen backbone each clip's features are computed once and kept (float16, CPU)
    for later epochs: only the GRU head trains, so recomputing them would be pure waste.
    """

    def __init__(
        self,
        backbone: dict[str, Any],
        head: dict[str, Any],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        img_size: int | None = None,
        class_names: list[str] | None = None,
        channels_last: bool = True,
        compile: bool = False,
        weights_from_checkpoint: bool = False,
    ) -> None:
        super().__init__()
        backbone, head, optimizer, scheduler = map(_plain, (backbone, head, optimizer, scheduler))
        class_names = list(class_names or GENRES)
        self.save_hyperparameters({"backbone": backbone, "head": head, "optimizer": optimizer, "scheduler": scheduler,
                                   "img_size": img_size, "class_names": class_names, "channels_last": channels_last,
                                   "compile": compile})
        # Loading a checkpoint brings its own weights: fetching pretrained ones first would be waste.
        self.backbone = create_backbone(**{**backbone, "pretrained": False, "weights": None} if weights_from_checkpoint else backbone)
        self.spec = backbone_spec(self.backbone, backbone["name"])
        if img_size is not None and img_size < self.spec.min_size:
            raise DeepdanceError(f"data.img_size={img_size} is below {backbone['name']}'s minimum input size {self.spec.min_size}")
        self.frozen = bool(backbone.get("freeze", False))
        self.head = GRUHead(self.spec.num_features, len(class_names), **head)
        self.register_buffer("mean", torch.tensor(self.spec.mean).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(self.spec.std).view(1, 3, 1, 1) * 255, persistent=False)
        if channels_last:
            self.backbone = self.backbone.to(memory_format=torch.channels_last)
        if compile:  # in place: state_dict keys stay those of the eager model, checkpoints interchange
            self.backbone.compile()  # kernels cached in TORCHINDUCTOR_CACHE_DIR (paths.compile_cache_dir)
        self.feature_cache: dict[tuple[int, bytes], torch.Tensor] = {}
        self.criterion = nn.CrossEntropyLoss()
        num_classes = len(class_names)

        def summary_metrics() -> MetricCollection:
            return MetricCollection({
                "acc": MulticlassAccuracy(num_classes, average="micro"),
                "acc_macro": MulticlassAccuracy(num_classes, average="macro"),
                "f1_macro": MulticlassF1Score(num_classes, average="macro"),
            })

        self.train_metrics = summary_metrics()
        self.val_metrics = summary_metrics()
        self.test_metrics = summary_metrics()
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_acc_best = MaxMetric()
        self.test_per_class = MulticlassAccuracy(num_classes, average=None)
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=num_classes)

    @staticmethod
    def checkpoint_overrides() -> dict[str, Any]:
        """Keyword arguments for ``load_from_checkpoint``: weights come from the file."""
        return {"weights_from_checkpoint": True, "compile": False}  # a single test pass does not repay compiling

    # ----------------------------------------------------------------------------- forward
    def train(self, mode: bool = True) -> "GenreClassifier":
        super().train(mode)
        if self.frozen:
            self.backbone.eval()  # frozen means frozen BatchNorm statistics too
        return self

    def frame_features(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """uint8 frames (B, T, 3, S, S) -> features (B, T, D); padded frames stay zero."""
        valid = frames[mask]  # (N, 3, S, S): only real frames go through the CNN
        x = (valid.float() - self.mean) / self.std
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            features = self.backbone(x)  # (N, D)
        out = features.new_zeros(*mask.shape, features.shape[-1])
        out[mask] = features
        return out

    def cached_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frozen backbone: look clip features up by (video, frame indices), compute the missing ones."""
        keys = [(int(v), idx.cpu().numpy().tobytes()) for v, idx in zip(batch["video"], batch["indices"])]
        missing = [i for i, key in enumerate(keys) if key not in self.feature_cache]
        if missing:
            rows = torch.tensor(missing, device=batch["frames"].device)
            fresh = self.frame_features(batch["frames"][rows], batch["mask"][rows])
            for i, features in zip(missing, fresh):
                self.feature_cache[keys[i]] = features.detach().to("cpu", torch.float16)
        return torch.stack([self.feature_cache[key] for key in keys]).to(self.device, torch.float32)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.frame_features(frames, mask), mask)

    # ------------------------------------------------------------------------------ steps
    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.frozen and "indices" in batch:
            features = self.cached_features(batch)
        else:
            features = self.frame_features(batch["frames"], batch["mask"])
        logits = self.head(features.float(), batch["mask"])
        return self.criterion(logits.float(), batch["label"]), logits

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, logits = self._step(batch)
        self.train_loss.update(loss, weight=len(logits))
        self.train_metrics.update(logits, batch["label"])
        return loss

    def on_train_epoch_end(self) -> None:
        # Computed here, on every rank in the same order. Logging the metric objects from
        # training_step instead lets the progress bar (rank 0 only, whose epoch-end hook runs
        # first) trigger their cross-rank sync alone: a collective mismatch under DDP.
        metrics = {f"train/{k}": v for k, v in self.train_metrics.compute().items()}
        self.log("train/loss", self.train_loss.compute(), prog_bar=True, sync_dist=True)
        self.log_dict(metrics, sync_dist=True)
        self.train_metrics.reset(); self.train_loss.reset()  # noqa: E702

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logits = self._step(batch)
        self.val_loss(loss)
        self.val_metrics.update(logits, batch["label"])
        self.log("val/loss", self.val_loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(logits))

    def on_validation_epoch_end(self) -> None:
        metrics = self.val_metrics.compute()
        self.val_metrics.reset()
        self.log_dict({f"val/{k}": v for k, v in metrics.items()}, prog_bar=True, sync_dist=True)
        if not self.trainer.sanity_checking:
            self.val_acc_best(metrics["acc"])
        self.log("val/acc_best", self.val_acc_best.compute() if self.val_acc_best.update_called else metrics["acc"], sync_dist=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logits = self._step(batch)
        self.test_loss(loss)
        self.test_metrics.update(logits, batch["label"])
        self.test_per_class.update(logits, batch["label"])
        self.test_confusion.update(logits, batch["label"])
        self.log("test/loss", self.test_loss, on_step=False, on_epoch=True, batch_size=len(logits))

    def on_test_epoch_end(self) -> None:
        metrics = {f"test/{k}": v for k, v in self.test_metrics.compute().items()}
        names = self.hparams.class_names
        metrics.update({f"test/acc_{name}": acc for name, acc in zip(names, self.test_per_class.compute())})
        self.log_dict(metrics, sync_dist=True)
        matrix = self.test_confusion.compute().cpu()
        self.test_metrics.reset(); self.test_per_class.reset(); self.test_confusion.reset()  # noqa: E702
        if self.trainer.is_global_zero:
            from deepdance.utils.plots import log_figure, save_confusion_matrix

            figure = save_confusion_matrix(matrix, names, Path(self.trainer.default_root_dir), title=f"test accuracy {float(metrics['test/acc']):.3f}")
            log_figure(self.loggers, "test/confusion_matrix", figure)

    # ------------------------------------------------------------------------ optimisers
    def configure_optimizers(self) -> dict[str, Any]:
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = hydra.utils.instantiate(self.hparams.optimizer)(params=params)  # _partial_: true
        if not self.hparams.scheduler:
            return {"optimizer": optimizer}
        scheduler = hydra.utils.instantiate(self.hparams.scheduler)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val/loss", "interval": "epoch"}}
