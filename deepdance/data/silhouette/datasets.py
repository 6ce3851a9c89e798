"""What a silhouette model reads: single frames, or windows of consecutive frames whose last
frame (the prediction target) lies in a split's segment of a video."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from deepdance.data.resumable import Item, item_generator
from deepdance.data.silhouette.augment import draw_speed, warp_positions, warp_span


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of video ``video`` belong to one split."""

    video: int
    start: int
    stop: int

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


class SilhouetteFrames(Dataset):
    """Single frames of some segments: ``{"frame": (1, H, W) uint8, "video", "index"}``."""

    def __init__(self, videos: list[np.ndarray], segments: list[Segment], flip: bool = False) -> None:
        self.videos = videos
        self.items = [(s.video, i) for s in segments for i in range(s.start, s.stop)]
        self.flip = flip

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler)
        index, generator = item_generator(item)
        video, i = self.items[index]
        # copy out of the memory map
        frame = torch.from_numpy(np.array(self.videos[video][i]))
        # a mirrored dancer is still a dancer
        if self.flip and torch.rand((), generator=generator) < 0.5:
            frame = frame.flip(-1)
        return {"frame": frame[None], "video": video, "index": i}


class SilhouetteWindows(Dataset):
    """Windows of ``context + targets`` consecutive frames whose last frame lies in a segment.

    ``{"frames": (context + targets, H, W) uint8, "video", "target", "genre"}``; ``target`` is
    the index of the last frame, so a model can look up cached latents of the whole window;
    ``genre`` is the video's label (its index in the AIST++ ``GENRES``, -1 for none). Every
    target lies in the segment (the context may reach back over its start).

    Augmented (training) windows: with ``mirrors`` (video -> its mirrored copy) half of them
    come from the copy, whole; with ``time_warp`` each is read at a random speed and carries
    ``positions`` (its frames' fractional indices; ``frames`` are the nearest ones).
    """

    def __init__(
        self,
        videos: list[np.ndarray],
        segments: list[Segment],
        context: int,
        labels: list[int] | None = None,
        targets: int = 1,
        mirrors: dict[int, int] | None = None,
        time_warp: tuple[float, float] | None = None,
    ) -> None:
        self.videos = videos
        self.context = context
        self.length = context + targets
        self.labels = labels or [-1] * len(videos)
        self.mirrors = mirrors or {}
        self.time_warp = time_warp
        # the whole window, and its targets, inside the video and the segment at the top speed
        first = warp_span(self.length, time_warp)
        after_start = warp_span(targets, time_warp)
        self.items = [
            (s.video, t) for s in segments for t in range(max(s.start + after_start, first), s.stop)
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler); the draws: mirror, then speed
        index, generator = item_generator(item)
        video, t = self.items[index]
        label = self.labels[video]
        if self.mirrors and torch.rand((), generator=generator) < 0.5:
            video = self.mirrors[video]
        out: dict[str, Any] = {"video": video, "target": t, "genre": label}
        if self.time_warp is None:
            out["frames"] = torch.from_numpy(np.array(self.videos[video][t - self.length + 1 : t + 1]))
            return out
        positions = warp_positions(t, self.length, draw_speed(self.time_warp, generator))
        out["frames"] = torch.from_numpy(np.array(self.videos[video][np.round(positions).astype(np.int64)]))
        out["positions"] = torch.from_numpy(positions)
        return out
