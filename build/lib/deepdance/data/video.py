"""Clip reading with decord: choose frame indices first, then decode only those frames.

Decoding every frame and sub-sampling afterwards (what the original notebook and
PyTorchVideo's decord path do) costs the whole video; ``get_batch`` on precomputed
indices costs only what the codec needs to reach them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deepdance.errors import VideoError


@dataclass(frozen=True)
class VideoInfo:
    """What the sampler needs to know about a video before decoding any frame."""

    num_frames: int
    height: int
    width: int
    fps: float


def _open(path: str | Path, **kwargs):
    import decord  # imported lazily: worker processes and tests that never decode skip it

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    try:
        return decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1, **kwargs)
    except Exception as err:  # decord raises its own DECORDError / RuntimeError types
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise VideoError(f"{path}: not a readable video ({reason[:160]})") from None


def probe_video(path: str | Path) -> VideoInfo:
    """Open a video once and read its length, size and frame rate."""
    reader = _open(path)
    num_frames = len(reader)
    if num_frames == 0:
        raise VideoError(f"{path}: the video stream has no frames")
    height, width = reader[0].shape[:2]
    return VideoInfo(num_frames=num_frames, height=int(height), width=int(width), fps=float(reader.get_avg_fps()))


def sample_frame_indices(
    video_frames: int,
    num_frames: int,
    *,
    random: bool,
    rng: np.random.Generator | None = None,
    offset: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``num_frames`` indices over the whole video, one per equal segment.

    ``random=True`` (training) jitters each index uniformly inside its segment;
    otherwise each index sits at ``offset`` (0..1) of its segment, 0.5 = the centre, so
    several evaluation clips can use different offsets. A video shorter than
    ``num_frames`` gives each of its frames once, padded by repeating the last one, and a
    mask that is False on the padding. Returns ``(indices, mask)``, both ``(num_frames,)``.
    """
    if num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if video_frames <= 0:
        raise ValueError(f"video_frames must be positive, got {video_frames}")
    mask = np.ones(num_frames, dtype=bool)
    if video_frames < num_frames:
        indices = np.arange(num_frames).clip(max=video_frames - 1)
        mask[video_frames:] = False
        return indices.astype(np.int64), mask
    edges = np.linspace(0, video_frames, num_frames + 1)
    starts, lengths = edges[:-1], np.diff(edges)
    if random:
        rng = rng if rng is not None else np.random.default_rng()
        positions = starts + rng.random(num_frames) * lengths
    else:
        positions = starts + offset * lengths
    indices = np.floor(positions).astype(np.int64).clip(0, video_frames - 1)
    return indices, mask


# Output widths at which decord 0.6's decode-time resize returns a wrongly sized buffer
# (measured over widths 8..400 here); one pixel wider decodes fine and is cropped away.
DECORD_BAD_RESIZE_WIDTHS = frozenset({8, 12, 16, 24, 48, 72})


def decode_size(height: int, width: int, img_size: int) -> tuple[int, int]:
    """Decode-time size whose short side is ``img_size``: decord resizes for free."""
    scale = img_size / min(height, width)
    out_height, out_width = max(img_size, round(height * scale)), max(img_size, round(width * scale))
    if out_width in DECORD_BAD_RESIZE_WIDTHS:
        out_width += 1
    return out_height, out_width


def read_clip(path: str | Path, indices: np.ndarray, img_size: int, info: VideoInfo | None = None) -> torch.Tensor:
    """Decode only ``indices``, centre-square crop, resize to ``img_size``.

    Returns uint8 ``(T, 3, img_size, img_size)``: normalisation happens on the model's
    device, so workers ship a quarter of the bytes.
    """
    info = info or probe_video(path)
    height, width = decode_size(info.height, info.width, img_size)
    reader = _open(path, height=height, width=width)
    try:
        frames = reader.get_batch(list(map(int, indices))).asnumpy()  # (T, H, W, 3)
    except Exception as err:
        raise VideoError(f"{path}: decoding frames {int(indices.min())}..{int(indices.max())} failed ({str(err).strip()[:160]})") from None
    top, left = (frames.shape[1] - img_size) // 2, (frames.shape[2] - img_size) // 2
    frames = frames[:, top : top + img_size, left : left + img_size]
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)  # (T, 3, S, S)
    if clip.shape[-1] != img_size or clip.shape[-2] != img_size:  # decoders may round odd sizes
        clip = F.interpolate(clip.float(), size=(img_size, img_size), mode="bilinear", antialias=True).round().clamp(0, 255).byte()
    return clip
