"""Clip reading with decord: choose frame indices first, then decode only those frames.

Decoding every frame and sub-sampling afterwards (what the original notebook and
PyTorchVideo's decord path do) costs the whole video; ``get_batch`` on precomputed
indices costs only what the codec needs to reach them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deepdance.data.decord_widths import DECORD_BAD_WIDTHS
from deepdance.errors import VideoError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoInfo:
    """What the sampler needs to know about a video before decoding any frame."""

    num_frames: int
    height: int
    width: int
    fps: float


# decord's messages carry a timestamp and C++ source location; these say what they mean.
_DECODER_MESSAGES = (
    ("cannot find video stream", "no video stream (an audio-only or data-only file)"),
    ("av_read_frame failed", "truncated or corrupt stream (reading packets failed)"),
    ("avcodec_send_packet", "corrupt video packets (the decoder rejected one)"),
    # decord's decoding thread stops on a rejected packet; the caller may see that stop first
    ("run_.load()", "corrupt video packets (the decoding thread stopped on one)"),
    ("Error reading", "not a readable video container (truncated, or not a video at all)"),
)


def decoder_reason(err: BaseException, opening: bool) -> str:
    """A short human reason for a decord failure, with decord's own words in brackets."""
    text = " ".join(str(err).split())
    detail = text.rsplit(": ", 1)[-1][:120] if text else type(err).__name__
    for needle, meaning in _DECODER_MESSAGES:
        if needle in text:
            return f"{meaning} [{detail}]"
    return f"{'not a readable video' if opening else 'decoder error'} [{detail}]"


def open_video(path: str | Path, **kwargs):
    """A decord ``VideoReader`` (one thread), or a ``VideoError`` whose message starts with the path."""
    # imported lazily: worker processes and tests that never decode skip it
    import decord

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    # decord reports a permission problem as an unreadable format; say what it is
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except PermissionError:
        raise VideoError(f"{path}: permission denied (the file is not readable by this user)") from None
    try:
        return decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1, **kwargs)
    # decord raises its own DECORDError / RuntimeError types
    except Exception as err:
        raise VideoError(f"{path}: {decoder_reason(err, opening=True)}") from None


def probe_video(path: str | Path) -> VideoInfo:
    """Open a video once and read its length, size and frame rate."""
    reader = open_video(path)
    num_frames = len(reader)
    if num_frames == 0:
        raise VideoError(f"{path}: the video stream has no frames")
    height, width = reader[0].shape[:2]
    return VideoInfo(
        num_frames=num_frames, height=int(height), width=int(width), fps=float(reader.get_avg_fps())
    )


def sample_frame_indices(
    video_frames: int,
    num_frames: int,
    *,
    random: bool,
    rng: np.random.Generator | None = None,
    offset: float = 0.5,
    keyframes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``num_frames`` indices over the whole video, one per equal segment.

    ``random=True`` (training) jitters each index uniformly inside its segment;
    otherwise each index sits at ``offset`` (0..1) of its segment, 0.5 = the centre, so
    several evaluation clips can use different offsets. A video shorter than
    ``num_frames`` gives each of its frames once, padded by repeating the last one, and a
    mask that is False on the padding. Returns ``(indices, mask)``, both ``(num_frames,)``.

    ``keyframes`` (the video's key-frame indices, ``data.sampling=keyframe``) snaps the spread
    positions to them with :func:`snap_to_keyframes`, trading exact spacing for short decodes.
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
    if keyframes is not None:
        indices = snap_to_keyframes(indices, keyframes, video_frames)
    return indices, mask


def snap_to_keyframes(indices: np.ndarray, keyframes: np.ndarray, video_frames: int) -> np.ndarray:
    """Move each index to its nearest key frame; indices that land on the same one take the
    frames right after it, in order.

    Why: in a long-GOP H.264 video (AIST++: a key frame every 2 s) an arbitrary frame costs
    decoding everything since the previous key frame, so exact uniform sampling decodes most
    of the video. A key frame decodes on its own and each frame after it costs one more, so
    here every sampled frame costs a short decode. The price is spacing: with fewer key
    frames than samples, the clip holds short runs of consecutive frames. Indices stay
    strictly increasing when ``len(indices) <= video_frames``.
    """
    indices = np.asarray(indices, dtype=np.int64)
    keys = np.unique(np.asarray(keyframes, dtype=np.int64))
    keys = keys[(keys >= 0) & (keys < video_frames)]
    if indices.size == 0 or keys.size == 0:
        return indices
    right = np.searchsorted(keys, indices).clip(1, len(keys) - 1) if len(keys) > 1 else np.zeros_like(indices)
    left = (right - 1).clip(0)
    nearest = np.where(np.abs(indices - keys[left]) <= np.abs(keys[right] - indices), keys[left], keys[right])
    order = np.argsort(indices, kind="stable")
    snapped = nearest[order]
    # runs: the j-th index snapped to the same key frame takes key + j
    run_start = np.r_[True, snapped[1:] != snapped[:-1]]
    position_in_run = np.arange(len(snapped)) - np.maximum.accumulate(
        np.where(run_start, np.arange(len(snapped)), 0)
    )
    snapped = snapped + position_in_run
    # keep strictly increasing inside the video
    if len(snapped) <= video_frames:
        for i in range(1, len(snapped)):
            snapped[i] = max(snapped[i], snapped[i - 1] + 1)
        snapped = np.minimum(snapped, video_frames - len(snapped) + np.arange(len(snapped)))
    out = np.empty_like(snapped)
    out[order] = snapped.clip(0, video_frames - 1)
    return out


def keyframe_indices(path: str | Path) -> np.ndarray:
    """The video's key-frame indices from its container index (no frame is decoded)."""
    keys = np.asarray(open_video(path).get_key_indices(), dtype=np.int64)
    if keys.size == 0:
        raise VideoError(f"{path}: the container lists no key frames; use data.sampling=exact")
    return keys


def decode_size(height: int, width: int, img_size: int) -> tuple[int, int]:
    """Decode-time size whose short side is ``img_size``: decord resizes for free."""
    scale = img_size / min(height, width)
    height, width = max(img_size, round(height * scale)), max(img_size, round(width * scale))
    if width in DECORD_BAD_WIDTHS:
        # one column wider (the centre crop drops it) rather than a misread frame
        width += 1
    return height, width


def read_clip(
    path: str | Path, indices: np.ndarray, img_size: int, info: VideoInfo | None = None
) -> torch.Tensor:
    """Decode only ``indices``, centre-square crop, resize to ``img_size``.

    Returns uint8 ``(T, 3, img_size, img_size)``: normalisation happens on the model's
    device, so workers ship a quarter of the bytes.
    """
    info = info or probe_video(path)
    height, width = decode_size(info.height, info.width, img_size)
    reader = open_video(path, height=height, width=width)
    try:
        frames = reader.get_batch(list(map(int, indices))).asnumpy()  # (T, H, W, 3)
    except Exception as err:
        raise VideoError(
            f"{path}: decoding frames {int(indices.min())}..{int(indices.max())} failed: "
            f"{decoder_reason(err, opening=False)}"
        ) from None
    top, left = max(0, (frames.shape[1] - img_size) // 2), max(0, (frames.shape[2] - img_size) // 2)
    frames = frames[:, top : top + img_size, left : left + img_size]
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)  # (T, 3, S, S)
    if clip.shape[-1] != img_size or clip.shape[-2] != img_size:
        # A decoder that did not honour the requested size (one that rounds odd sizes, say).
        log.warning(
            "%s: decoded at %dx%d instead of the %dx%d asked for; resizing the %dx%d crop to %d",
            path,
            frames.shape[2],
            frames.shape[1],
            width,
            height,
            clip.shape[-1],
            clip.shape[-2],
            img_size,
        )
        clip = (
            F.interpolate(clip.float(), size=(img_size, img_size), mode="bilinear", antialias=True)
            .round()
            .clamp(0, 255)
            .byte()
        )
    return clip
