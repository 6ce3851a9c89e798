"""Silhouette frames as pictures and videos: grids, strips, GIFs, and handing them to loggers.

TensorBoard's ``add_video`` needs moviepy (not a dependency); a TensorBoard image summary
holding an animated GIF is what ``add_video`` writes anyway, so the GIF is made with Pillow
and written as that summary. W&B takes the mp4 file itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch


def to_display(frames: torch.Tensor | np.ndarray) -> np.ndarray:
    """Model frames (..., H, W) in [0, 1], 1 = dancer -> uint8 black dancer on white."""
    array = (
        frames.detach().float().cpu().numpy()
        if isinstance(frames, torch.Tensor)
        else np.asarray(frames, dtype=np.float32)
    )
    return np.round(255.0 * (1.0 - np.clip(array, 0.0, 1.0))).astype(np.uint8)


def frame_grid(rows: Sequence[np.ndarray], gap: int = 2) -> np.ndarray:
    """Rows of uint8 frames (N, H, W) side by side, rows stacked, gray gaps between: (H', W')."""
    n, h, w = rows[0].shape
    grid = np.full((len(rows) * (h + gap) - gap, n * (w + gap) - gap), 128, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, frame in enumerate(row):
            grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = frame
    return grid


def gif_bytes(frames: np.ndarray, fps: float) -> bytes:
    """(T, H, W) or (T, H, W, 3) uint8 -> an animated GIF that loops."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=int(round(1000 / fps)), loop=0
    )
    return buffer.getvalue()


def log_image(loggers: Sequence, key: str, image: np.ndarray, step: int) -> None:
    """A uint8 (H, W) picture to every logger that shows pictures."""
    from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger

    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, image[None], step, dataformats="CHW")
        elif isinstance(logger, WandbLogger):
            import wandb

            logger.experiment.log({key: wandb.Image(image), "trainer/global_step": step})


def log_video(
    loggers: Sequence, key: str, frames: np.ndarray, fps: float, step: int, mp4: Path | None = None
) -> None:
    """(T, H, W[, 3]) uint8 frames as a video: a GIF summary for TensorBoard, the mp4 for W&B."""
    from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger

    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            from tensorboard.compat.proto.summary_pb2 import Summary

            h, w = frames.shape[1:3]
            image = Summary.Image(
                height=h,
                width=w,
                colorspace=3 if frames.ndim == 4 else 1,
                encoded_image_string=gif_bytes(frames, fps),
            )
            logger.experiment._get_file_writer().add_summary(
                Summary(value=[Summary.Value(tag=key, image=image)]), step
            )
        elif isinstance(logger, WandbLogger) and mp4 is not None:
            import wandb

            logger.experiment.log({key: wandb.Video(str(mp4), format="mp4"), "trainer/global_step": step})
