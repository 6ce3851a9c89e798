"""A skeleton genre recognizer (``experiment=pose_gru``) looking at generated poses.

The pose generator's poses are what ``deepdance.data.pose.normalise`` makes of a view (root-centred,
scaled by the sequence's median torso length, gaps filled), without the root's own path: the
generated dancer dances in place. The recognizer (``PoseClassifier``) read windows of
``data.num_frames`` frames spread over a whole sequence, each frame its normalised joints, their
velocities (root motion included) and a validity mask. Real and generated clips cross that gap by
one road, so a Fréchet distance between them compares like with like:

* **joints**: taken as they are (both sides normalise alike: a different ``normalise`` or
  ``kind`` is refused in one line); the root stays at the origin, so velocities are the joints'
  own motion, for real windows as for rollouts;
* **time**: a clip of any length is sampled as the recognizer samples a sequence
  (``ClipSampler.eval_indices``): ``num_frames`` frames spread over it. The recognizer was trained
  on whole sequences, so on 4 s clips its time step is shorter than in training, for real and
  generated clips alike; ``genre_acc_real`` shows what that costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from deepdance.config.base import parse
from deepdance.config.pose_data import PoseDataConfig
from deepdance.data.pose.normalise import NormalisedSequence, window_features
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError

# Clips per forward pass.
CLIPS_PER_BATCH = 64


class PoseRecognizer:
    """A ``PoseClassifier`` applied to pose clips (N, T, 17, D) in the generator's normalisation.

    ``outputs`` gives each clip's pooled features (the GRU head's state, before its classifier)
    and logits; ``class_names`` maps logits to genres."""

    def __init__(
        self, classifier: torch.nn.Module, data: Mapping[str, Any], kind: str, normalise: bool
    ) -> None:
        theirs = str(classifier.hparams.kind)
        if theirs != kind:
            raise DeepdanceError(
                f"recognizer_ckpt: a {theirs} skeleton classifier (model.kind={theirs}), but this pose "
                f"generator dances in {kind} (data.kind={kind}); give a pose_gru of data.kind={kind}"
            )
        settings = parse(PoseDataConfig, {**dict(data), "root": "-", "synthetic": None}, "data")
        if settings.normalise != normalise:
            raise DeepdanceError(
                f"recognizer_ckpt: trained with data.normalise={settings.normalise}, but the pose generator "
                f"with data.normalise={normalise}; give a recognizer trained on poses normalised alike"
            )
        self.classifier = classifier.eval()
        self.sampler = ClipSampler(settings.num_frames)
        self.velocities = bool(classifier.hparams.velocities)
        self.class_names: list[str] = list(classifier.hparams.class_names)

    def features(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, T, 17, D) poses -> the recognizer's frame features (N, T', F) and mask (N, T')."""
        index, mask = self.sampler.eval_indices(clips.shape[1])
        rows = []
        for clip in np.asarray(clips, dtype=np.float32):
            valid = np.isfinite(clip).all(axis=-1)
            joints = np.where(valid[..., None], clip, 0.0).astype(np.float32)
            root = np.zeros((len(clip), clip.shape[-1]), dtype=np.float32)
            rows.append(window_features(NormalisedSequence(joints, root, valid), index, self.velocities))
        masks = torch.from_numpy(np.asarray(mask, dtype=bool))[None].expand(len(rows), -1)
        return torch.from_numpy(np.stack(rows)), masks

    @torch.no_grad()
    def outputs(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Pose clips (N, T, 17, D) -> pooled clip features (N, H) and logits (N, C), on the CPU."""
        poses, masks = self.features(clips)
        device = next(self.classifier.parameters()).device
        features, logits = [], []
        for chunk, mask in zip(poses.split(CLIPS_PER_BATCH), masks.split(CLIPS_PER_BATCH)):
            chunk, mask = chunk.to(device), mask.to(device)
            head = self.classifier.head
            pooled = head.pool(self.classifier.encoder(chunk, mask), mask)
            features.append(pooled.float().cpu())
            logits.append(head.classifier(pooled).float().cpu())
        return torch.cat(features), torch.cat(logits)

    def classes(self, genres: list[str | None]) -> torch.Tensor | None:
        """(N,) class index of each genre; None when any is not a class of the recognizer."""
        if not genres or any(g not in self.class_names for g in genres):
            return None
        return torch.tensor([self.class_names.index(g) for g in genres])


def load_pose_recognizer(path: str, kind: str, normalise: bool, device: str = "cpu") -> PoseRecognizer:
    """A ``PoseRecognizer`` from a skeleton genre classifier checkpoint; any other family is refused."""
    from deepdance.models.registry import POSE_CLASSIFIER, load_model

    classifier, metadata, family = load_model(path, "recognizer_ckpt", device, setting="recognizer_ckpt")
    if family is not POSE_CLASSIFIER:
        raise DeepdanceError(
            f"recognizer_ckpt={path}: a {family.short}; a pose generator's dances are graded by a "
            f"skeleton genre classifier ({POSE_CLASSIFIER.hint})"
        )
    return PoseRecognizer(classifier, metadata["data"], kind, normalise)
