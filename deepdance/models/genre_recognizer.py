"""What every genre recognizer shares once its inputs are turned into logits: the loss, the
train/val/test metrics, the test pass (single clip, K clips averaged, views voted), its
confusion-matrix report and the best val accuracy kept in checkpoints. The video classifier
(``deepdance.models.genre_module``) and the skeleton classifier (``deepdance.models.pose_module``)
differ only in ``_logits`` and the batch key their inputs come under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torchmetrics import ConfusionMatrix, MaxMetric, MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from deepdance.models.base import DeepdanceModule


def view_vote_accuracy(outputs: dict[str, torch.Tensor]) -> float:
    """Accuracy when the K-clip probabilities of all cameras of one sequence are averaged."""
    sequences, inverse = torch.unique(outputs["sequence"], return_inverse=True)
    summed = torch.zeros(len(sequences), outputs["clips"].shape[-1]).index_add_(
        0, inverse, outputs["clips"].float()
    )
    labels = torch.zeros(len(sequences), dtype=torch.long).index_copy_(0, inverse, outputs["label"].long())
    return float((summed.argmax(-1) == labels).float().mean())


@dataclass
class GenreTestReport:
    """What one test pass found, for the report callbacks (``deepdance.callbacks.ConfusionMatrixReport``).

    ``outputs`` holds one row per test video (``video``, ``label``, ``single`` and ``clips``
    probabilities), gathered from every rank; ``None`` when the test set was empty."""

    confusion: torch.Tensor
    class_names: list[str]
    accuracy: float
    num_clips: int
    outputs: dict[str, torch.Tensor] | None


class GenreRecognizer(DeepdanceModule):
    """Batches hold a model input under one of ``input_keys`` (``(B, T, ...)``, or ``(B, K, T, ...)``
    with ``multi`` in test batches), a frame ``mask`` and ``label``; ``_logits`` turns a flat batch
    into logits ``(B, C)``. Subclasses call ``_build_metrics`` with the number of classes and keep
    ``class_names`` in their hyper-parameters."""

    # the batch keys a model input may come under, the first found is read
    input_keys: ClassVar[tuple[str, ...]] = ()

    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _build_metrics(self, num_classes: int) -> None:
        """One torchmetrics set per stage, the test pass's extras and its report."""
        self.criterion = nn.CrossEntropyLoss()

        def summary_metrics() -> MetricCollection:
            return MetricCollection(
                {
                    "acc": MulticlassAccuracy(num_classes, average="micro"),
                    "acc_macro": MulticlassAccuracy(num_classes, average="macro"),
                    "f1_macro": MulticlassF1Score(num_classes, average="macro"),
                }
            )

        self.train_metrics = summary_metrics()
        self.val_metrics = summary_metrics()
        self.test_metrics = summary_metrics()
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_acc_best = MaxMetric()
        # K-clip averaged probabilities
        self.test_metrics_clips = summary_metrics()
        # per-video probabilities for view voting and the CSV
        self.test_outputs: list[dict[str, torch.Tensor]] = []
        self.test_num_clips = 1
        self.test_per_class = MulticlassAccuracy(num_classes, average=None)
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=num_classes)
        # Set by each test pass; the report callbacks render it.
        self.test_report: GenreTestReport | None = None

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self._logits(batch)
        return self.criterion(logits, batch["label"]), logits

    def training_step(self, batch: dict[str, torch.Tensor] | None, batch_idx: int) -> torch.Tensor | None:
        # every clip of the batch was a bad video (data.on_bad_video=skip)
        if batch is None:
            return None
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
        self.train_metrics.reset()
        self.train_loss.reset()  # noqa: E702

    def validation_step(self, batch: dict[str, torch.Tensor] | None, batch_idx: int) -> None:
        if batch is None:
            return
        loss, logits = self._step(batch)
        self.val_loss(loss)
        self.val_metrics.update(logits, batch["label"])
        self.log(
            "val/loss", self.val_loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(logits)
        )

    def on_validation_epoch_end(self) -> None:
        metrics = self.val_metrics.compute()
        self.val_metrics.reset()
        self.log_dict({f"val/{k}": v for k, v in metrics.items()}, prog_bar=True, sync_dist=True)
        if not self.trainer.sanity_checking:
            self.val_acc_best(metrics["acc"])
        self.log(
            "val/acc_best",
            self.val_acc_best.compute() if self.val_acc_best.update_called else metrics["acc"],
            sync_dist=True,
        )

    def test_step(self, batch: dict[str, torch.Tensor] | None, batch_idx: int) -> None:
        if batch is None:
            return
        clip_keys = (*self.input_keys, "mask")
        # a plain single-clip batch
        if "multi" not in batch:
            batch = {
                **{k: v.unsqueeze(1) for k, v in batch.items() if k in clip_keys},
                **{k: v for k, v in batch.items() if k not in clip_keys},
                "multi": torch.ones(len(batch["label"]), 1, dtype=torch.bool, device=batch["label"].device),
            }
        data_key = next(key for key in self.input_keys if key in batch)
        clips = batch[data_key].shape[:2]  # (B, K)
        flat = {data_key: batch[data_key].flatten(0, 1), "mask": batch["mask"].flatten(0, 1)}
        logits = self._logits(flat).view(*clips, -1)  # (B, K, C)
        probs = logits.softmax(dim=-1)
        multi = batch["multi"].to(probs.dtype).unsqueeze(-1)  # (B, K, 1)
        # (B, C): averaged probabilities
        clip_probs = (probs * multi).sum(dim=1) / multi.sum(dim=1)
        single, labels = logits[:, 0], batch["label"]
        self.test_num_clips = int(batch["multi"][0].sum())
        self.test_loss(self.criterion(single, labels))
        self.test_metrics.update(single, labels)
        self.test_metrics_clips.update(clip_probs, labels)
        self.test_per_class.update(single, labels)
        self.test_confusion.update(single, labels)
        self.test_outputs.append(
            {
                "video": batch["video"],
                "sequence": batch.get("sequence", batch["video"]),
                "label": labels,
                "single": probs[:, 0].detach(),
                "clips": clip_probs.detach(),
            }
        )
        self.log("test/loss", self.test_loss, on_step=False, on_epoch=True, batch_size=len(labels))

    def on_test_epoch_end(self) -> None:
        metrics = {f"test/{k}": v for k, v in self.test_metrics.compute().items()}
        names = self.hparams.class_names
        metrics.update({f"test/acc_{name}": acc for name, acc in zip(names, self.test_per_class.compute())})
        if self.test_num_clips > 1:
            metrics.update(
                {
                    f"test/{k}_clips{self.test_num_clips}": v
                    for k, v in self.test_metrics_clips.compute().items()
                }
            )
        outputs = self._gather_test_outputs()
        if self._view_vote_enabled() and outputs is not None:
            metrics["test/acc_views"] = torch.tensor(view_vote_accuracy(outputs), device=self.device)
        self.log_dict(metrics, sync_dist=True)
        matrix = self.test_confusion.compute().cpu()
        for metric in (self.test_metrics, self.test_metrics_clips, self.test_per_class, self.test_confusion):
            metric.reset()
        accuracy = float(metrics["test/acc"])
        self.test_report = GenreTestReport(
            confusion=matrix,
            class_names=list(names),
            accuracy=accuracy,
            num_clips=self.test_num_clips,
            outputs=outputs,
        )

    def _view_vote_enabled(self) -> bool:
        datamodule = getattr(self.trainer, "datamodule", None)
        return bool(datamodule is not None and datamodule.hparams.get("view_vote", False))

    def _gather_test_outputs(self) -> dict[str, torch.Tensor] | None:
        """Per-video test outputs from every rank, each video once (samplers pad with repeats)."""
        if not self.test_outputs:
            return None
        local = {key: torch.cat([o[key] for o in self.test_outputs]) for key in self.test_outputs[0]}
        self.test_outputs.clear()
        # (W, N, ...) -> (W * N, ...); DistributedSampler gives every rank N
        if self.trainer.world_size > 1:
            local = {key: value.flatten(0, 1) for key, value in self.all_gather(local).items()}
        _, first = np.unique(local["video"].cpu().numpy(), return_index=True)
        index = torch.as_tensor(first, device=local["video"].device)
        return {key: value[index].cpu() for key, value in local.items()}

    # ------------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # torchmetrics states are not in the state_dict: keep the best val accuracy so a resumed
        # run reports the same val/acc_best as an uninterrupted one.
        if self.val_acc_best.update_called:
            checkpoint["val_acc_best"] = float(self.val_acc_best.compute())

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if checkpoint.get("val_acc_best") is not None:
            self.val_acc_best.update(torch.tensor(checkpoint["val_acc_best"]))
