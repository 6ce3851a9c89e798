"""Which frames of a video are read: ``ClipSampler``, the one place that picks clip indices.

A clip is ``num_frames`` indices, one per equal segment of the video, each at ``offset``
(0..1) of its segment (see ``sample_frame_indices``). K evaluation clips use the offsets
``(k + 0.5) / K``, evenly spread as in MMAction2's ``SampleFrames(num_clips=K, test_mode=True)``;
the single clip is offset 0.5, the segment centres. Training jitters each index inside its
segment. The datasets, feature extraction, predict and the benchmark all ask a ``ClipSampler``
(modelled on MMAction2's ``SampleFrames`` and PyTorchVideo's ``make_clip_sampler``), so a
stored feature, a trained clip and a predicted clip are the same frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepdance.config.data import SAMPLINGS
from deepdance.data.video.reader import keyframe_indices, sample_frame_indices
from deepdance.errors import DeepdanceError

CENTRE = 0.5
# A video's key-frame indices (None under exact sampling).
Keyframes = Sequence[int] | np.ndarray | None
# The index rule as the feature store's key names it: changing this text starts a new store.
SAMPLING_RULE = (
    "one frame per equal segment at offset (k+0.5)/C for clip k of C "
    "(deepdance.data.video.sample_frame_indices v1)"
)


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


def unique_frames(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frames to decode once, and where each clip frame sits among them: clips overlap
    on short videos, and a frame shared by two clips should cost one decode.
    ``indices`` (C, T) -> ``unique`` (U,), ``inverse`` (C, T) into ``unique``."""
    unique, inverse = np.unique(indices.ravel(), return_inverse=True)
    return unique, inverse.reshape(indices.shape)


@dataclass(frozen=True)
class ClipSampler:
    """Frame indices for every use of a video, from three settings of the data config.

    ``num_frames`` per clip; ``sampling`` is ``exact`` (uniform spacing) or ``keyframe``
    (indices snapped to the video's key frames, so each costs a short decode); ``clips`` is K,
    the test clips per video. Every method returns ``(indices, mask)``: a video shorter than
    ``num_frames`` repeats its last frame and the mask is False on that padding.
    """

    num_frames: int
    sampling: str = "exact"
    clips: int = 1

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> ClipSampler:
        """From a data config (``data.num_frames``, ``data.sampling``, ``data.test_clips``),
        or the data settings a checkpoint stores."""
        return cls(
            int(data["num_frames"]), str(data.get("sampling", "exact")), int(data.get("test_clips", 1))
        )

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLINGS:
            raise DeepdanceError(
                f"data.sampling={self.sampling!r} is not known; use 'exact' (uniform spacing) "
                "or 'keyframe' (snap to key frames: short decodes)"
            )

    @property
    def store_rule(self) -> str:
        """The ``sampling`` field of a feature-store key: entries made by another rule differ."""
        return f"{SAMPLING_RULE}; data.sampling={self.sampling}"

    @property
    def test_offsets(self) -> list[float]:
        """Where the K test clips sit in their segments, as the feature store records them."""
        return clip_offsets(self.clips)

    @property
    def test_plan(self) -> EvalClipPlan:
        """The test dataset's clips: the centre first (``test/acc``), then the K clips."""
        return plan_eval_clips(self.clips)

    def keyframes_of(self, path: str | Path) -> np.ndarray | None:
        """The key frames this sampling needs from ``path``: read from the container index
        under ``keyframe``, nothing (no file opened) under ``exact``."""
        return keyframe_indices(path) if self.sampling == "keyframe" else None

    def _snap_to(self, keyframes: Keyframes) -> np.ndarray | None:
        if self.sampling == "exact":
            return None
        if keyframes is None:
            raise ValueError("data.sampling=keyframe needs the video's key frames (keyframes_of(path))")
        return np.asarray(keyframes)

    def _clip(
        self,
        video_frames: int,
        keyframes: Keyframes,
        offset: float = CENTRE,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return sample_frame_indices(
            video_frames,
            self.num_frames,
            random=rng is not None,
            rng=rng,
            offset=offset,
            keyframes=self._snap_to(keyframes),
        )

    def train_indices(
        self, video_frames: int, keyframes: Keyframes = None, generator: torch.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One jittered clip (T,): each index uniform inside its segment.

        The jitter comes from one draw of ``generator``, the item's own (``ResumableSampler``),
        or of torch's global RNG for ``None``: a resumed run draws the same clips, and the
        draws after it (augmentation) see the same stream.
        """
        seed = int(torch.randint(2**62, (), generator=generator).item())
        return self._clip(video_frames, keyframes, rng=np.random.default_rng(seed))

    def eval_indices(self, video_frames: int, keyframes: Keyframes = None) -> tuple[np.ndarray, np.ndarray]:
        """The evaluation clip (T,): every index at the centre of its segment."""
        return self._clip(video_frames, keyframes)

    def offset_indices(
        self, video_frames: int, offsets: Sequence[float], keyframes: Keyframes = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One clip per offset, stacked: ``(C, T)`` indices and mask."""
        picks = [self._clip(video_frames, keyframes, offset) for offset in offsets]
        return np.stack([p[0] for p in picks]), np.stack([p[1] for p in picks])

    def test_indices(
        self, video_frames: int, keyframes: Keyframes = None, k: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """K evenly spread clips ``(K, T)`` (K = ``k``, else ``clips``): what the feature store
        keeps and what predict averages."""
        offsets = self.test_offsets if k is None else clip_offsets(k)
        return self.offset_indices(video_frames, offsets, keyframes)

    def test_plan_indices(
        self, video_frames: int, keyframes: Keyframes = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The clips of ``test_plan`` ``(C, T)``: the centre clip, then the K clips without it."""
        return self.offset_indices(video_frames, self.test_plan.offsets, keyframes)

    def train_stored_clip(self, stored_offsets: Sequence[float], generator: torch.Generator | None) -> int:
        """Training jitter over stored features: one of the stored clips, drawn as the item's
        generator says (one draw, as ``train_indices``)."""
        return int(torch.randint(len(stored_offsets), (), generator=generator).item())

    def eval_stored_clip(self, stored_offsets: Sequence[float]) -> int:
        """The stored clip nearest to the centre."""
        return nearest_clips(stored_offsets, [CENTRE])[0]

    def test_stored_clips(self, stored_offsets: Sequence[float]) -> tuple[list[int], list[bool]]:
        """The stored clips nearest to ``test_plan``: centre first, and which of them are the
        K clips whose probabilities are averaged."""
        plan = self.test_plan
        centre = self.eval_stored_clip(stored_offsets)
        multi_clips = nearest_clips(stored_offsets, [o for o, m in zip(plan.offsets, plan.multi) if m])
        clips = [centre] + [c for c in multi_clips if c != centre]
        return clips, [centre in multi_clips] + [True] * (len(clips) - 1)
