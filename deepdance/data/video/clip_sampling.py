"""Which clips of a video are read: one centre clip, or K temporally offset clips.

A clip is ``num_frames`` indices, one per equal segment of the video, each at ``offset``
(0..1) of its segment (see ``sample_frame_indices``). K evaluation clips use the offsets
``(k + 0.5) / K``, evenly spread as in MMAction2's ``SampleFrames(num_clips=K, test_mode=True)``;
the single clip is offset 0.5, the segment centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENTRE = 0.5


def clip_offsets(num_clips: int) -> list[float]:
    """``num_clips`` evenly spread offsets: 1 -> [0.5], 3 -> [1/6, 1/2, 5/6]."""
    if num_clips < 1:
        raise ValueError(f"the number of clips must be >= 1, got {num_clips}")
    return [(k + 0.5) / num_clips for k in range(num_clips)]


@dataclass(frozen=True)
class EvalClipPlan:
    """The clips read per test video: ``offsets[0]`` is the single (centre) clip, and
    ``multi[i]`` says whether clip ``i`` belongs to the K clips whose probabilities are averaged."""

    offsets: tuple[float, ...]
    multi: tuple[bool, ...]

    @property
    def num_multi(self) -> int:
        return sum(self.multi)


def plan_eval_clips(num_clips: int) -> EvalClipPlan:
    """The centre clip first, then the K-clip offsets not equal to it (odd K contains it)."""
    wanted = clip_offsets(num_clips)
    offsets = [CENTRE] + [o for o in wanted if not np.isclose(o, CENTRE)]
    multi = [any(np.isclose(CENTRE, o) for o in wanted)] + [True] * (len(offsets) - 1)
    return EvalClipPlan(tuple(offsets), tuple(multi))


def nearest_clips(stored: list[float] | np.ndarray, wanted: list[float]) -> list[int]:
    """Indices of the stored clip offsets nearest to each wanted offset (duplicates removed, order kept)."""
    stored = np.asarray(stored, dtype=float)
    picked: list[int] = []
    for offset in wanted:
        index = int(np.abs(stored - offset).argmin())
        if index not in picked:
            picked.append(index)
    return picked
