"""Turn a video into a stack of silhouette frames, once, and keep it on disk.

A silhouette model trains for many epochs on the same few thousand frames: decoding,
thresholding and resizing them every epoch would cost more than the model. So each video is
processed once into a uint8 array (255 = dancer, 0 = background), saved as ``.npy`` and
memory-mapped afterwards. The cache key is the video's content hash plus every preprocessing
setting, so changing a threshold or a crop box never reuses stale frames, and renaming or
moving a video never recomputes them (the cache itself: ``deepdance.data.silhouette.cache``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from deepdance.config.data import SilhouetteDataConfig
from deepdance.data.video.reader import open_video
from deepdance.errors import DeepdanceError, VideoError

log = logging.getLogger(__name__)

# Bump when the same settings would produce different frames: old caches are then ignored.
PREPROCESS_VERSION = 1
# frames decoded at once: bounds memory on hour-long videos
DECODE_CHUNK = 64

ThresholdRule = Literal["fixed", "otsu", "background"]
Polarity = Literal["dark", "light"]
# (top, left, bottom, right) in source pixels, bottom/right exclusive
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SilhouetteSettings:
    """Everything that decides the cached frames; two runs with equal settings share a cache.

    ``threshold_rule``: ``fixed`` compares gray levels with ``threshold``; ``otsu`` picks a
    threshold per frame; ``background`` compares each pixel with the video's median frame
    (the static background) and marks differences above ``threshold``. ``polarity`` says
    whether the dancer is darker (``dark``, a shadow dancer on a lit screen) or lighter than
    the background. ``crop`` keeps only a box of the source frame (the plot area of a figure);
    ``ignore_boxes`` are painted as background before thresholding (a label, a logo).
    ``start_seconds`` drops the start of every video (a fade-in, noise).
    """

    fps: float | None
    height: int
    width: int
    threshold_rule: ThresholdRule
    threshold: float
    polarity: Polarity
    crop: Box | None
    ignore_boxes: tuple[Box, ...]
    start_seconds: float

    def __post_init__(self) -> None:
        # the data schema checked the values (deepdance.config.data); boxes become tuples
        # for the cache key, whether they came as lists (a config) or tuples
        object.__setattr__(self, "crop", tuple(self.crop) if self.crop is not None else None)
        object.__setattr__(self, "ignore_boxes", tuple(tuple(box) for box in self.ignore_boxes or ()))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SilhouetteSettings:
        """Settings from a data config (or a checkpoint's copy of it, or a few settings): the
        data schema's defaults for the settings it lacks; other keys are ignored."""
        values = {**SilhouetteDataConfig.defaults(), **config}
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["crop"] = list(self.crop) if self.crop else None
        data["ignore_boxes"] = [list(b) for b in self.ignore_boxes]
        return data


def sampled_indices(
    num_frames: int, video_fps: float, fps: float | None, start_seconds: float = 0.0
) -> np.ndarray:
    """Source frame indices at ``fps`` (nearest frame to each sampling time) from ``start_seconds`` on."""
    first = int(np.ceil(start_seconds * video_fps - 1e-9))
    if fps is None:
        return np.arange(first, num_frames, dtype=np.int64)
    duration = num_frames / video_fps
    times = np.arange(start_seconds, duration, 1.0 / fps)
    indices = np.round(times * video_fps).astype(np.int64)
    return np.unique(indices[indices < num_frames])


def to_silhouettes(
    frames: np.ndarray, settings: SilhouetteSettings, background: np.ndarray | None = None
) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 -> silhouettes (T, height, width) uint8, 255 = dancer.

    Thresholding happens at source resolution (crisp edges), then the mask is area-resized,
    so edges of the small frame are anti-aliased grays rather than jagged steps.
    """
    gray = np.asarray(frames, dtype=np.float32) @ np.array(
        [0.299, 0.587, 0.114], dtype=np.float32
    )  # (T, H, W)
    fill = 255.0 if settings.polarity == "dark" else 0.0
    for top, left, bottom, right in settings.ignore_boxes:
        gray[:, top:bottom, left:right] = fill if background is None else background[top:bottom, left:right]
    if settings.crop is not None:
        top, left, bottom, right = settings.crop
        gray = gray[:, top:bottom, left:right]
        background = background[top:bottom, left:right] if background is not None else None
    # dark: dancer where gray is low
    sign = 1.0 if settings.polarity == "dark" else -1.0
    if settings.threshold_rule == "fixed":
        mask = sign * (settings.threshold - gray) > 0
    elif settings.threshold_rule == "background":
        if background is None:
            raise ValueError("threshold_rule=background needs the video's background frame")
        mask = sign * (background - gray) > settings.threshold
    else:  # otsu, per frame
        mask = np.empty(gray.shape, dtype=bool)
        for i, frame in enumerate(gray.round().clip(0, 255).astype(np.uint8)):
            flag = cv2.THRESH_BINARY_INV if settings.polarity == "dark" else cv2.THRESH_BINARY
            mask[i] = cv2.threshold(frame, 0, 1, flag | cv2.THRESH_OTSU)[1].astype(bool)
    out = np.empty((len(mask), settings.height, settings.width), dtype=np.uint8)
    for i, m in enumerate(mask):
        out[i] = cv2.resize(
            m.astype(np.uint8) * 255, (settings.width, settings.height), interpolation=cv2.INTER_AREA
        )
    return out


def _check_boxes(path: Path, settings: SilhouetteSettings, height: int, width: int) -> None:
    for name, box in [
        ("data.crop", settings.crop),
        *[("data.ignore_boxes[]", b) for b in settings.ignore_boxes],
    ]:
        if box is not None and (box[2] > height or box[3] > width):
            raise DeepdanceError(
                f"{path}: {name}={list(box)} reaches outside the {height}x{width} (H x W) frame"
            )


def source_fps(path: str | Path) -> float:
    """The frame rate of the video at ``path`` (its container's average)."""
    return float(open_video(Path(path)).get_avg_fps())


def extract_silhouettes(path: str | Path, settings: SilhouetteSettings) -> np.ndarray:
    """Decode ``path`` at ``settings.fps`` and return its silhouettes (T, height, width) uint8."""
    path = Path(path)
    reader = open_video(path)
    num_frames = len(reader)
    if num_frames == 0:
        raise VideoError(f"{path}: the video stream has no frames")
    video_fps = float(reader.get_avg_fps())
    height, width = reader[0].shape[:2]
    _check_boxes(path, settings, height, width)
    indices = sampled_indices(num_frames, video_fps, settings.fps, settings.start_seconds)
    if len(indices) == 0:
        raise DeepdanceError(
            f"{path}: no frames left after data.start_seconds={settings.start_seconds} ({num_frames} frames "
            f"at {video_fps:g} fps)"
        )

    def decode(chunk: np.ndarray) -> np.ndarray:
        try:
            return reader.get_batch(list(map(int, chunk))).asnumpy()
        except Exception as err:
            raise VideoError(
                f"{path}: decoding frames {int(chunk[0])}..{int(chunk[-1])} failed ({str(err).strip()[:160]})"
            ) from None

    chunks = [indices[i : i + DECODE_CHUNK] for i in range(0, len(indices), DECODE_CHUNK)]
    background = None
    # the median over the sampled frames is the static scene
    if settings.threshold_rule == "background":
        probe = np.linspace(0, len(indices) - 1, min(len(indices), 101)).astype(int)
        gray = decode(indices[probe]).astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        background = np.median(gray, axis=0)
    return np.concatenate([to_silhouettes(decode(chunk), settings, background) for chunk in chunks])
