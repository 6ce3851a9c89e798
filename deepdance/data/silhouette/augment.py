"""More training windows from the same few clips: other phases, other speeds, the mirror.

A user's real clips give a few hundred frames at 3 fps, too few for an LSTM not to learn their
mean. Three augmentations of the *training* windows, each off by default:

* phases (``data.phases=N``): a 30 fps source sampled at 3 fps uses one frame in ten. Starting
  the sampling ``k / (N * fps)`` seconds later gives N different frame sequences of the same
  dance, cached like any video (the start is part of the cache key);
* time-warp (``data.time_warp=[low, high]``): a window read at a random speed (log-uniform in
  the range), its latents interpolated between the cached frames; the dance, a little faster
  or slower;
* mirror (``data.flip``): a window mirrored left-right as a whole, every frame of it, so its
  motion stays a motion (a frame-by-frame coin would make the dancer jump sides).

Validation and test windows are never augmented.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from deepdance.data.silhouette.preprocess import SilhouetteSettings
from deepdance.errors import DeepdanceError


def phase_settings(settings: SilhouetteSettings, phases: int) -> list[SilhouetteSettings]:
    """The settings of phases 1..N-1: sampling starts ``k / (N * fps)`` seconds later."""
    if phases <= 1 or settings.fps is None:
        return []
    step = 1.0 / (phases * settings.fps)
    starts = [settings.start_seconds + k * step for k in range(1, phases)]
    return [dataclasses.replace(settings, start_seconds=start) for start in starts]


def check_source_rate(path: object, source_fps: float, fps: float, phases: int) -> None:
    """Phases need source frames between two samples: a source of at least ``phases * fps``
    frames per second (a slower one would repeat or skip frames, not shift them)."""
    if source_fps < phases * fps - 1e-6:
        raise DeepdanceError(
            f"data.phases={phases} needs a source of at least {phases} x data.fps={fps:g} = "
            f"{phases * fps:g} fps; {path} has {source_fps:g} fps: use data.phases<="
            f"{max(1, int(source_fps / fps + 1e-6))}"
        )


def draw_speed(time_warp: tuple[float, float], generator: torch.Generator | None) -> float:
    """A speed, log-uniform in ``time_warp``: as likely 1.25 times faster as 1.25 times slower."""
    low, high = (math.log(v) for v in time_warp)
    return math.exp(low + (high - low) * float(torch.rand((), generator=generator)))


def warp_positions(target: int, length: int, speed: float) -> np.ndarray:
    """(length,) frame positions ``speed`` apart, ending at the frame ``target``."""
    return target - speed * np.arange(length - 1, -1, -1, dtype=np.float64)


def warp_span(length: int, time_warp: tuple[float, float] | None) -> int:
    """Source frames before the target that a window of ``length`` may reach at the top speed."""
    speed = time_warp[1] if time_warp else 1.0
    return math.ceil((length - 1) * speed - 1e-9)
