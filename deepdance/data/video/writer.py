"""Write frames as H.264 mp4 files with PyAV (libx264, yuv420p).

torchvision 0.29 has no video I/O and OpenCV's wheels cannot encode H.264, so PyAV's
bundled libx264 is the writer. Files are written under a temporary name and renamed
(``deepdance.utils.cache_io.atomic_path``), so a crash or a concurrent reader never sees a
half-written video. An existing file is never replaced unless the caller says so
(``overwrite=True``): a video at the target name is someone's, until proven otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import TargetExists, atomic_path

log = logging.getLogger(__name__)


def _check_frames(path: Path, frames: np.ndarray, pad_odd: bool) -> np.ndarray:
    """Return ``frames`` as (T, H, W, 3) uint8 RGB with even H and W, or raise naming ``path``."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be uint8, got {frames.dtype}")
    if frames.ndim == 3:  # (T, H, W) gray
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(
            f"{path}: frames must be (T, H, W, 3) RGB or (T, H, W) gray, got shape {frames.shape}"
        )
    if frames.shape[0] == 0:
        raise ValueError(f"{path}: no frames to write")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        if not pad_odd:
            raise ValueError(
                f"{path}: yuv420p H.264 needs even frame sizes, got {height}x{width} (H x W); "
                "resize the frames or pass pad_odd=True"
            )
        # Replicate the last row/column: no visible border, size grows by at most one pixel.
        frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        log.warning("%s: padded odd frame size %dx%d to %dx%d", path, height, width, *frames.shape[1:3])
    return np.ascontiguousarray(frames)


def write_mp4(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    crf: int = 18,
    gop: int | None = None,
    preset: str = "medium",
    pad_odd: bool = False,
    overwrite: bool = False,
) -> Path:
    """Encode ``frames`` into an H.264 mp4 at ``path`` and return the path.

    ``frames``: (T, H, W, 3) uint8 RGB or (T, H, W) uint8 gray; H and W must be even
    (yuv420p) unless ``pad_odd`` pads them by edge replication. ``crf`` sets quality
    (18 is visually lossless). ``gop`` fixes the key-frame interval (``keyint``) with no
    scene-cut key frames, so seeking costs are predictable; ``None`` keeps x264's default.
    One encoder thread keeps the output byte-identical from run to run. An existing
    ``path`` is an error (nothing is written) unless ``overwrite``.
    """
    path = Path(path)
    if fps <= 0:
        raise ValueError(f"{path}: fps must be positive, got {fps}")
    if gop is not None and gop < 1:
        raise ValueError(f"{path}: gop must be >= 1, got {gop}")
    frames = _check_frames(path, frames, pad_odd)
    height, width = frames.shape[1:3]
    options = {"crf": str(int(crf)), "preset": preset}
    if gop is not None:
        options["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
    with new_video_file(path, overwrite) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001), options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.thread_count = 1
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        # flush delayed frames
        for packet in stream.encode():
            container.mux(packet)
    return path


@contextmanager
def new_video_file(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary name to encode into, published as ``path`` at the end; an existing
    ``path`` is a one-line error before any frame is encoded (unless ``overwrite``)."""
    refusal = (
        f"{path} exists; deepdance does not replace a file it was not asked to replace: "
        "delete or move it, or write to another name"
    )
    if not overwrite and path.exists():
        raise DeepdanceError(refusal)
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            yield tmp
    except TargetExists:
        raise DeepdanceError(refusal) from None
