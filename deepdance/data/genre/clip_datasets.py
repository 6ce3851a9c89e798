"""Datasets beyond one decoded clip per video: several test clips per video, and clips read
from the feature store instead of the video file.

Test items carry a clip axis: clip 0 is the single centre clip (``test/acc``), and ``multi``
marks the K clips whose class probabilities are averaged (``test/acc_clips{K}``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from deepdance.data.video.clip_sampling import CENTRE, EvalClipPlan, nearest_clips
from deepdance.data.resumable import Item, item_generator
from deepdance.data.video.reader import VideoInfo, read_clip, sample_frame_indices


def _common(row: Any) -> dict[str, Any]:
    return {"label": int(row.label), "video": int(row.video_id), "sequence": int(row.sequence_id)}


class MultiClipVideoDataset(Dataset):
    """Test clips at the plan's offsets, decoded in one pass: frames ``(K, T, 3, S, S)``."""

    def __init__(self, manifest: pd.DataFrame, num_frames: int, img_size: int, plan: EvalClipPlan, sampling: str = "exact") -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.num_frames = num_frames
        self.img_size = img_size
        self.plan = plan
        self.sampling = sampling

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        keyframes = np.asarray(row.keyframes) if self.sampling == "keyframe" else None
        picks = [sample_frame_indices(info.num_frames, self.num_frames, random=False, offset=o, keyframes=keyframes) for o in self.plan.offsets]
        indices = np.stack([p[0] for p in picks])  # (K, T)
        mask = np.stack([p[1] for p in picks])  # (K, T)
        unique, inverse = np.unique(indices.ravel(), return_inverse=True)  # clips overlap on short videos
        frames = read_clip(row.path, unique, self.img_size, info)  # (U, 3, S, S)
        return {
            "frames": frames[torch.from_numpy(inverse.reshape(indices.shape))],  # (K, T, 3, S, S) uint8
            "mask": torch.from_numpy(mask),
            "indices": torch.from_numpy(indices),
            "multi": torch.tensor(self.plan.multi),  # (K,)
            **_common(row),
        }


class StoredClipDataset(Dataset):
    """Stored features of each video's clips; never opens a video file.

    Training picks one stored clip per epoch at random (``random_clip``: temporal jitter
    from the stored set) or the centre one; with a ``plan`` (test) it returns the stored
    clips nearest to the plan's offsets, centre first, with the clip axis and ``multi``.
    """

    def __init__(self, manifest: pd.DataFrame, store: Any, random_clip: bool, plan: EvalClipPlan | None = None) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.store = store
        self.random_clip = random_clip
        self.plan = plan

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        index, generator = item_generator(item)  # training items carry their own seed (ResumableSampler)
        row = self.manifest.iloc[index]
        entry = self.store.load(row.entry, row.path)
        if self.plan is None:
            if self.random_clip:
                clip = int(torch.randint(len(entry.offsets), (), generator=generator).item())
            else:
                clip = nearest_clips(entry.offsets, [CENTRE])[0]
            return {"features": entry.features[clip], "mask": entry.mask[clip], **_common(row)}  # (T, D), (T,)
        centre = nearest_clips(entry.offsets, [CENTRE])[0]
        wanted = [o for o, m in zip(self.plan.offsets, self.plan.multi) if m]
        multi_clips = nearest_clips(entry.offsets, wanted)
        clips = [centre] + [c for c in multi_clips if c != centre]
        multi = [centre in multi_clips] + [True] * (len(clips) - 1)
        return {
            "features": entry.features[clips],  # (K, T, D) float16
            "mask": entry.mask[clips],  # (K, T)
            "multi": torch.tensor(multi),
            **_common(row),
        }
