"""The embedded default input: one long synthetic shadow dance, written as an mp4 on first use.

It is written as a real video and read back through decord like any user's file, so the
default run exercises exactly the path real inputs take (decoding, thresholding, caching).
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Iterator

from deepdance.data.synthetic import GENERATOR_VERSION, render_silhouettes
from deepdance.data.video_writer import write_mp4

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time (DDP ranks, parallel tests); the others then find the file."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(directory / ".silhouette_synthetic.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_synthetic_silhouettes(
    directory: str | Path,
    num_frames: int = 1500,
    fps: float = 3.0,
    height: int = 120,
    width: int = 200,
    seed: int = 0,
    genre: str | None = None,
) -> Path:
    """Path of the synthetic silhouette video for these settings, rendering it if missing.

    The name holds every setting and the generator version, so a change makes a new file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"silhouettes_v{GENERATOR_VERSION}_s{seed}_{genre or 'mix'}_{num_frames}f_{fps:g}fps_{height}x{width}.mp4"
    path = directory / name
    with _locked(directory):
        if not path.exists():
            start = time.perf_counter()
            frames = render_silhouettes(num_frames, height=height, width=width, fps=fps, seed=seed, genre=genre)
            write_mp4(path, frames, fps=fps, crf=12)
            log.info("rendered %d synthetic silhouette frames to %s in %.1f s", num_frames, path, time.perf_counter() - start)
    return path
