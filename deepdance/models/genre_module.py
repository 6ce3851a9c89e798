"""The genre classifier: a timm backbone per frame, a GRU over the frame sequence."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch

from deepdance.config.base import parse
from deepdance.config.model import ClassifierConfig
from deepdance.data.aist import GENRES
from deepdance.errors import DeepdanceError
from deepdance.models.backbones import backbone_spec, create_backbone
from deepdance.models.genre_recognizer import GenreRecognizer, GenreTestReport, view_vote_accuracy
from deepdance.models.sequence_heads import GRUHead

# the report and the view vote live with the shared steps; importable from here as before
__all__ = ["GenreClassifier", "GenreTestReport", "view_vote_accuracy"]

log = logging.getLogger(__name__)


class GenreClassifier(GenreRecognizer):
    """Frames ``(B, T, 3, S, S)`` uint8 with a frame mask ``(B, T)`` -> genre logits ``(B, C)``.

    Batches hold either decoded ``frames`` or precomputed ``features`` ``(B, T, D)``: with a
    frozen backbone the datamodule reads them from the feature store (``deepdance.features``),
    so only the GRU head runs per step. Test batches carry a clip axis (``(B, K, ...)`` and
    ``multi``): clip 0 gives the single-clip metrics ``test/*``, the averaged probabilities
    of the ``multi`` clips give ``test/*_clips{K}``, and with ``view_vote`` the cameras of a
    sequence are averaged too (``test/acc_views``).
    """

    config_class = ClassifierConfig
    input_keys = ("features", "frames")

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
        backbone, frame_diff = self.hparams.backbone, self.hparams.frame_diff
        # Loading a checkpoint brings its own weights: fetching pretrained ones first would be waste.
        backbone_args = (
            {**backbone, "pretrained": False, "weights": None} if weights_from_checkpoint else backbone
        )
        self.backbone = create_backbone(**backbone_args, in_chans=6 if frame_diff else 3)
        self.spec = backbone_spec(self.backbone, backbone["name"])
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
