"""The genre classifier: a timm backbone per frame, a GRU over the frame sequence."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torchmetrics import ConfusionMatrix, MaxMetric, MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from deepdance.config.base import parse
from deepdance.config.model import ClassifierConfig
from deepdance.data.aist import GENRES
from deepdance.errors import DeepdanceError
from deepdance.models.backbones import backbone_spec, create_backbone
from deepdance.models.base import DeepdanceModule
from deepdance.models.sequence_heads import GRUHead

log = logging.getLogger(__name__)


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


class GenreClassifier(DeepdanceModule):
    """Frames ``(B, T, 3, S, S)`` uint8 with a frame mask ``(B, T)`` -> genre logits ``(B, C)``.

    Batches hold either decoded ``frames`` or precomputed ``features`` ``(B, T, D)``: with a
    frozen backbone the datamodule reads them from the feature store (``deepdance.features``),
    so only the GRU head runs per step. Test batches carry a clip axis (``(B, K, ...)`` and
    ``multi``): clip 0 gives the single-clip metrics ``test/*``, the averaged probabilities
    of the ``multi`` clips give ``test/*_clips{K}``, and with ``view_vote`` the cameras of a
    sequence are averaged too (``test/acc_views``).
    """

    config_class = ClassifierConfig

    def __init__(self, config: ClassifierConfig, weights_from_checkpoint: bool = False) -> None:
        super().__init__()
        # null: the ten AIST++ genres, stored as the list they are
        self.config = config.model_copy(update={"class_names": list(config.class_names or GENRES)})
        self.save_config(self.config)
        self._build_network(weights_from_checkpoint)
        self._build_metrics(len(self.config.class_names))

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any], from_checkpoint: bool = False) -> GenreClassifier:
        """The classifier from flat settings; from a checkpoint, the weights come from it next
        (no pretrained download first) and it is not compiled (one test pass does not repay it)."""
        settings = cls.settings(hparams)
        if from_checkpoint:
            settings["compile"] = False
        return cls(parse(ClassifierConfig, settings, "model"), weights_from_checkpoint=from_checkpoint)

    def _build_network(self, weights_from_checkpoint: bool) -> None:
        """The backbone (its input statistics as buffers) and the GRU head, from the hyper-parameters."""
        backbone, img_size, frame_diff = self.hparams.backbone, self.hparams.img_size, self.hparams.frame_diff
        # Loading a checkpoint brings its own weights: fetching pretrained ones first would be waste.
        backbone_args = (
            {**backbone, "pretrained": False, "weights": None} if weights_from_checkpoint else backbone
        )
        self.backbone = create_backbone(**backbone_args, in_chans=6 if frame_diff else 3)
        self.spec = backbone_spec(self.backbone, backbone["name"])
        if img_size is not None and img_size < self.spec.min_size:
            raise DeepdanceError(
                f"data.img_size={img_size} is below {backbone['name']}'s minimum input size "
                f"{self.spec.min_size}"
            )
        self.frozen = bool(backbone.get("freeze", False))
        self.head = GRUHead(self.spec.num_features, len(self.hparams.class_names), **self.hparams.head)
        self.register_buffer("mean", torch.tensor(self.spec.mean).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(self.spec.std).view(1, 3, 1, 1) * 255, persistent=False)
        if self.hparams.channels_last:
            self.backbone = self.backbone.to(memory_format=torch.channels_last)
        # in place: state_dict keys stay those of the eager model, checkpoints interchange
        if self.hparams.compile:
            # kernels cached in TORCHINDUCTOR_CACHE_DIR (paths.compile_cache_dir)
            self.backbone.compile()

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

    # ----------------------------------------------------------------------------- forward
    def train(self, mode: bool = True) -> GenreClassifier:
        super().train(mode)
        if self.frozen:
            # frozen means frozen BatchNorm statistics too
            self.backbone.eval()
        return self

    def normalise(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames (..., 3, S, S) -> float, normalised with the backbone's mean/std.

        The result is on the model's device.
        """
        return (frames.float() - self.mean) / self.std

    def run_backbone(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised inputs (N, C, S, S) -> backbone features (N, D); no gradient when frozen."""
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return self.backbone(x)

    def embed_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames (N, 3, S, S) -> backbone features (N, D), each frame on its own
        (a ``frame_diff`` model needs a frame's clip: use ``frame_features``)."""
        if self.hparams.frame_diff:
            raise DeepdanceError(
                "a model.frame_diff=true classifier embeds frames within their clip: call frame_features"
            )
        return self.run_backbone(self.normalise(frames))

    def frame_features(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """uint8 frames (B, T, 3, S, S) -> features (B, T, D); padded frames stay zero.

        With ``frame_diff`` the backbone sees each frame and its difference from the previous
        sampled frame of the clip (the first frame's difference is zero: no motion yet)."""
        if self.hparams.frame_diff:
            # (B, T, 3, S, S), each frame normalised once
            x = self.normalise(frames)
            previous = torch.cat([x[:, :1], x[:, :-1]], dim=1)
            features = self.run_backbone(torch.cat([x, x - previous], dim=2)[mask])  # (N, 6, S, S) -> (N, D)
        else:
            # (N, D): only real frames go through the CNN
            features = self.embed_frames(frames[mask])
        out = features.new_zeros(*mask.shape, features.shape[-1])
        out[mask] = features
        return out

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.frame_features(frames, mask), mask)

    def clip_logits(
        self, frames: torch.Tensor, mask: torch.Tensor, clip_index: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits (K, C) of K clips of one video: what ``deepdance.predict`` ranks genres by.

        ``frames`` are the clips ``(K, T, 3, S, S)`` uint8, or, with ``clip_index`` ``(K, T)``,
        the distinct frames ``(U, 3, S, S)`` the clips index into: overlapping clips then embed
        each frame once (a ``frame_diff`` model sees every frame beside its clip's previous one,
        so it embeds clip by clip)."""
        if clip_index is None:
            features = self.frame_features(frames, mask)
        elif self.hparams.frame_diff:
            features = self.frame_features(frames[clip_index], mask)
        else:
            features = self.embed_frames(frames)[clip_index]
            # padded positions stay zero, as in frame_features
            features = features * mask[..., None].to(features.dtype)
        return self.head(features.float(), mask).float()

    def clip_outputs(self, frames: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 clips (B, T, 3, S, S) -> pooled clip features (B, H) and logits (B, C).

        The features are the GRU head's state before its classifier: what the generation
        metrics (``deepdance.models.generation_scoring``) compare generated and real clips in."""
        pooled = self.head.pool(self.frame_features(frames, mask).float(), mask)
        return pooled.float(), self.head.classifier(pooled).float()

    # ------------------------------------------------------------------------------ steps
    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B, C) from stored ``features`` (B, T, D) or decoded ``frames`` (B, T, 3, S, S)."""
        if "features" in batch:
            features = batch["features"].float()
        else:
            features = self.frame_features(batch["frames"], batch["mask"])
        return self.head(features.float(), batch["mask"]).float()

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
        # a plain single-clip batch
        if "multi" not in batch:
            batch = {
                **{k: v.unsqueeze(1) for k, v in batch.items() if k in ("frames", "features", "mask")},
                **{k: v for k, v in batch.items() if k not in ("frames", "features", "mask")},
                "multi": torch.ones(len(batch["label"]), 1, dtype=torch.bool, device=batch["label"].device),
            }
        data_key = "features" if "features" in batch else "frames"
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
