"""Image metrics for silhouettes, one definition shared by the autoencoder, the LSTM and its
baselines, so every number in a results table is computed the same way.

Frames are (B, 1, H, W) in [0, 1] with 1 = dancer. MSE is the mean over pixels and frames;
IoU is per frame (dancer pixels at 0.5) and then averaged, a frame with no dancer in either
image counting as 1; SSIM and PSNR are torchmetrics' with data range 1.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure
from torchmetrics.regression import MeanSquaredError


def frame_iou(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-frame IoU of the dancer masks, (B, 1, H, W) -> (B,)."""
    p, t = (pred > threshold).flatten(1), (target > threshold).flatten(1)
    inter, union = (p & t).sum(1).float(), (p | t).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


class SilhouetteIoU(Metric):
    """Mean per-frame IoU (gathered across ranks as a sum and a count)."""

    higher_is_better = True
    full_state_update = False

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        iou = frame_iou(pred, target, self.threshold)
        self.total += iou.sum().double()
        self.count += iou.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count.clamp(min=1)).float()


class PixelAccuracy(Metric):
    """Fraction of pixels on the right side of 0.5."""

    higher_is_better = True
    full_state_update = False

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold
        self.add_state("correct", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        self.correct += ((pred > self.threshold) == (target > self.threshold)).sum()
        self.count += target.numel()

    def compute(self) -> torch.Tensor:
        return self.correct.float() / self.count.clamp(min=1)


class FlatMSE(MeanSquaredError):
    """torchmetrics' MSE over every pixel of (B, 1, H, W) frames."""

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:  # type: ignore[override]
        super().update(pred.flatten(), target.flatten())


def silhouette_metrics(full: bool = True) -> MetricCollection:
    """MSE, IoU and SSIM (and with ``full`` PSNR and pixel accuracy) as one collection."""
    metrics: dict[str, Metric] = {
        "mse": FlatMSE(),
        "iou": SilhouetteIoU(),
        "ssim": StructuralSimilarityIndexMeasure(data_range=1.0),
    }
    if full:
        metrics["psnr"] = PeakSignalNoiseRatio(data_range=1.0)
        metrics["pixel_acc"] = PixelAccuracy()
    return MetricCollection(metrics)
