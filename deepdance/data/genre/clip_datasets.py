"""The clip datasets of the genre datamodule: one decoded clip per video (train, val), several
test clips per video, and clips read from the feature store instead of the video file.

Test items carry a clip axis: clip 0 is the single centre clip (``test/acc``), and ``multi``
marks the K clips whose class probabilities are averaged (``test/acc_clips{K}``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from torch.utils.data import Dataset

from deepdance.data.genre.augment import ClipAugment
from deepdance.data.resumable import Item, item_generator
from deepdance.data.video.clip_sampling import ClipSampler, unique_frames
from deepdance.data.video.reader import VideoInfo, read_clip


def _common(row: Any) -> dict[str, Any]:
    return {"label": int(row.label), "video": int(row.video_id), "sequence": int(row.sequence_id)}


class VideoClipDataset(Dataset):
    """One clip per video: ``num_frames`` indices spread over it, decoded and cropped.

    ``sampling="keyframe"`` snaps the indices to the key frames listed in the manifest's
    ``keyframes`` column, so each sampled frame costs a short decode.
    """

    def __init__(
        self,
        manifest: pd.DataFrame,
        num_frames: int,
        img_size: int,
        random_offsets: bool,
        augment: ClipAugment | None = None,
        sampling: str = "exact",
    ) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.augment = augment
        self.sampler = ClipSampler(num_frames, sampling)
        self.img_size = img_size
        self.random_offsets = random_offsets

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # Training items carry their own seed (ResumableSampler): jitter and augmentation vary
        # per epoch yet do not depend on workers, prefetching or a mid-epoch resume.
        index, generator = item_generator(item)
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        keyframes = getattr(row, "keyframes", None)
        if self.random_offsets:
            indices, mask = self.sampler.train_indices(info.num_frames, keyframes, generator)
        else:
            indices, mask = self.sampler.eval_indices(info.num_frames, keyframes)
        frames = read_clip(row.path, indices, self.img_size, info)  # (T, 3, S, S) uint8
        if self.augment is not None:
            frames = self.augment(frames, generator=generator)
        return {
            "frames": frames,
            "mask": torch.from_numpy(mask),  # (T,)
            # (T,) which frames, the feature-cache key
            "indices": torch.from_numpy(indices),
            "label": int(row.label),
            "video": int(row.video_id),
        }


class MultiClipVideoDataset(Dataset):
    """Test clips of the sampler's ``test_plan``, decoded in one pass: frames ``(K, T, 3, S, S)``."""

    def __init__(self, manifest: pd.DataFrame, sampler: ClipSampler, img_size: int) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.sampler = sampler
        self.img_size = img_size

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        # (K, T) each; the manifest has a keyframes column under data.sampling=keyframe
        indices, mask = self.sampler.test_plan_indices(info.num_frames, getattr(row, "keyframes", None))
        unique, inverse = unique_frames(indices)
        frames = read_clip(row.path, unique, self.img_size, info)  # (U, 3, S, S)
        return {
            "frames": frames[torch.from_numpy(inverse)],  # (K, T, 3, S, S) uint8
            "mask": torch.from_numpy(mask),
            "indices": torch.from_numpy(indices),
            "multi": torch.tensor(self.sampler.test_plan.multi),  # (K,)
            **_common(row),
        }


class StoredClipDataset(Dataset):
    """Stored features of each video's clips; never opens a video file.

    Training picks one stored clip per epoch at random (``random_clip``: temporal jitter
    from the stored set) or the centre one; ``test`` returns the stored clips nearest to the
    sampler's ``test_plan``, centre first, with the clip axis and ``multi``.
    """

    def __init__(
        self,
        manifest: pd.DataFrame,
        store: Any,
        sampler: ClipSampler,
        random_clip: bool = False,
        test: bool = False,
    ) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.store = store
        self.sampler = sampler
        self.random_clip = random_clip
        self.test = test

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler)
        index, generator = item_generator(item)
        row = self.manifest.iloc[index]
        entry = self.store.load(row.entry, row.path)
        if not self.test:
            if self.random_clip:
                clip = self.sampler.train_stored_clip(entry.offsets, generator)
            else:
                clip = self.sampler.eval_stored_clip(entry.offsets)
            return {
                "features": entry.features[clip],
                "mask": entry.mask[clip],
                **_common(row),
            }  # (T, D), (T,)
        clips, multi = self.sampler.test_stored_clips(entry.offsets)
        return {
            "features": entry.features[clips],  # (K, T, D) float16
            "mask": entry.mask[clips],  # (K, T)
            "multi": torch.tensor(multi),
            **_common(row),
        }
