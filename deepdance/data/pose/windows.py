"""Windows of keypoint sequences, as the genre datasets take clips of videos: one sample per
view, its frame indices from the one ``ClipSampler`` (a window at a random offset to train, the
centre window to validate, the ``test_plan``'s windows to test, centre first, with ``multi``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from deepdance.data.pose.normalise import NormalisedSequence, window_features
from deepdance.data.resumable import Item, item_generator
from deepdance.data.video.clip_sampling import ClipSampler


def test_windows(
    sequence: NormalisedSequence, sampler: ClipSampler, velocities: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The windows of the sampler's ``test_plan`` (centre first): features (K, T, F), mask (K, T)."""
    indices, mask = sampler.test_plan_indices(len(sequence))
    return np.stack([window_features(sequence, clip, velocities) for clip in indices]), mask


class PoseWindowDataset(Dataset):
    """``manifest`` rows (one per view) and their normalised ``sequences``; ``stage`` is
    ``train`` (jittered windows, optional mirroring), ``val`` or ``test`` (a clip axis)."""

    def __init__(
        self,
        manifest: pd.DataFrame,
        sequences: list[NormalisedSequence],
        sampler: ClipSampler,
        stage: str,
        velocities: bool = True,
        flip: bool = False,
    ) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.sequences = sequences
        self.sampler = sampler
        self.stage = stage
        self.velocities = velocities
        self.flip = flip and stage == "train"

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler): the same draws on a resume
        index, generator = item_generator(item)
        row, sequence = self.manifest.iloc[index], self.sequences[index]
        common = {"label": int(row.label), "video": int(row.video_id), "sequence": int(row.sequence_id)}
        if self.stage == "test":
            poses, mask = test_windows(sequence, self.sampler, self.velocities)
            multi = torch.tensor(self.sampler.test_plan.multi)
            return {
                "poses": torch.from_numpy(poses),
                "mask": torch.from_numpy(mask),
                "multi": multi,
                **common,
            }
        if self.stage == "train":
            # one offset for every segment (not one each, as video clips jitter): the frames stay
            # evenly spaced, so a velocity is the motion of one fixed time step
            offset = float(torch.rand((), generator=generator))
            indices, mask = (a[0] for a in self.sampler.offset_indices(len(sequence), [offset]))
        else:
            indices, mask = self.sampler.eval_indices(len(sequence))
        flip = self.flip and bool(torch.rand((), generator=generator) < 0.5)
        poses = window_features(sequence, indices, self.velocities, flip)
        return {"poses": torch.from_numpy(poses), "mask": torch.from_numpy(mask), **common}
