"""The silhouette cache: one ``.npy`` stack per (video contents, preprocessing settings).

The key is the video's SHA-256 plus every setting and ``PREPROCESS_VERSION``, so a changed
threshold never reuses stale frames and a renamed video is never processed again. Frames from
the pose front end (``threshold_rule=person``, ``follow``) are keyed by its settings too, and by
the name and settings of an estimator handed in instead of the configured one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepdance.data.silhouette.preprocess import PREPROCESS_VERSION, SilhouetteSettings, extract_silhouettes
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import TargetExists, atomic_output, atomic_write_text

if TYPE_CHECKING:
    from deepdance.pose.estimator import PoseEstimator

log = logging.getLogger(__name__)


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str | Path) -> str:
    """SHA-256 of the file's bytes (memoised per process by path, size and mtime)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                sha.update(block)
        _DIGESTS[key] = sha.hexdigest()
    return _DIGESTS[key]


def cache_key(path: str | Path, settings: SilhouetteSettings, estimator: PoseEstimator | None = None) -> str:
    """Content hash of the video + preprocessing settings + code version, as 24 hex digits;
    plus ``estimator``'s name and settings where the frames come from it."""
    content = {"video": file_digest(path), "settings": settings.to_json(), "version": PREPROCESS_VERSION}
    if estimator is not None and settings.needs_poses:
        content["estimator"] = {"name": estimator.name, "settings": estimator.settings()}
    payload = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


class SilhouetteCache:
    """``.npy`` silhouette stacks under ``root``, one per (video contents, settings).

    ``estimator``: the pose backend of the person rule and the follow crop, instead of the one
    ``data.pose`` names (a test's fake); ``pose_store``: where the configured one's poses are kept.
    """

    def __init__(
        self, root: str | Path, estimator: PoseEstimator | None = None, pose_store: str | Path | None = None
    ) -> None:
        self.root = Path(root)
        self.estimator = estimator
        self.pose_store = pose_store

    def path_for(self, video: str | Path, settings: SilhouetteSettings) -> Path:
        return self.root / f"{Path(video).stem[:60]}-{cache_key(video, settings, self.estimator)}.npy"

    def load(self, video: str | Path, settings: SilhouetteSettings) -> np.ndarray:
        """Memory-mapped (T, height, width) uint8 frames of ``video``, built on first use.

        Written under a temporary name and renamed (``atomic_output``), so a crash or a
        concurrent run (DDP ranks, a sweep) never reads a half-written file; only files named
        ``<video stem>-<24-hex key>.npy/.json`` are written, and nothing is ever deleted.
        """
        target = self.path_for(video, settings)
        meta = {"video": str(video), "settings": settings.to_json(), "version": PREPROCESS_VERSION}
        return stored_frames(
            target,
            lambda: extract_silhouettes(video, settings, self.estimator, self.pose_store),
            meta,
            settings.height,
            settings.width,
        )


def stored_frames(
    target: Path, build: Callable[[], np.ndarray], meta: dict[str, Any], height: int, width: int
) -> np.ndarray:
    """Memory-mapped (T, height, width) uint8 frames at ``target``, built by ``build`` on first use.

    Written under a temporary name and renamed (``atomic_output``), so a crash or a concurrent
    run (DDP ranks, a sweep) never reads a half-written file; only ``target`` and its ``.json``
    (``meta`` plus the frame count) are written, and nothing is ever deleted.
    """
    if not target.exists():
        frames = build()
        meta = {**meta, "frames": len(frames)}
        # The name holds a hash of the source's bytes and the settings: a file by that name is
        # this same entry (another rank's), so the meta is replaced and the array kept.
        atomic_write_text(target.with_suffix(".json"), json.dumps(meta, indent=1))
        with contextlib.suppress(TargetExists), atomic_output(target, "wb", overwrite=False) as handle:
            np.save(handle, frames)
        log.info("cached %d silhouettes of %s in %s", len(frames), meta.get("video"), target)
    frames = np.load(target, mmap_mode="r")
    if frames.ndim != 3 or frames.shape[1:] != (height, width) or frames.dtype != np.uint8:
        raise DeepdanceError(
            f"{target}: cached frames have shape {frames.shape} {frames.dtype}, expected (T, "
            f"{height}, {width}) uint8; delete the file"
        )
    return frames
