"""The pose store: a pose backend runs once per (video contents, backend and settings, frames).

Layout: ``<root>/<video stem>-<key>/`` holds ``key.json`` (what the key hashes, in words) and one
``batch-<n>.npz`` per batch of frames: everything the backend found there, everyone included
(``deepdance.pose.video_poses.people_to_arrays``). Why this shape:

* the key hashes the video's bytes (SHA-256: a renamed or copied video is found again, a
  re-encoded one is not), the backend's name and ``settings()`` (its version included), the
  settings that change what is kept (masks, their threshold), the frame selection and the batch
  size, and ``STORE_VERSION``: change any of them and a new entry fills, never a silent mix;
* one file per batch, written atomically (a temporary name, then a rename): a run killed or
  stopped by SIGTERM (within one batch, ``deepdance.utils.stop``) keeps every batch it finished,
  and the next run computes only the missing ones. The backend's tracker restarts after a skipped
  batch, as after any lost track;
* tracking and smoothing run on the stored output each time, so changing ``pose.track`` or
  ``pose.smoothing`` costs no model run;
* entries hold arrays only (``np.load(allow_pickle=False)``); a damaged batch file is recomputed;
* the store never writes beside a video: a store root that is a video's own folder is refused.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deepdance.config.pose import PoseConfig
from deepdance.data.owned_folder import file_facts
from deepdance.errors import DeepdanceError
from deepdance.pose.estimator import PoseEstimator
from deepdance.pose.video_poses import (
    Batch,
    FrameSource,
    VideoPoses,
    assemble,
    batch_ranges,
    detect_batches,
    selected_indices,
)
from deepdance.utils.cache_io import atomic_output, atomic_write_text, file_lock, settings_key

log = logging.getLogger(__name__)

STORE_VERSION = 1
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """SHA-256 of a video's bytes, memoised per process by path, size and modification time."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = file_facts(path)["sha256"]
    return _DIGESTS[key]


def entry_key(
    digest: str, estimator: PoseEstimator, config: PoseConfig, indices: np.ndarray
) -> dict[str, object]:
    """Everything that changes a stored batch, in words (its hash names the entry)."""
    frames = np.asarray(indices, np.int64)
    return {
        "version": STORE_VERSION,
        "video_sha256": digest,
        "estimator": estimator.name,
        "estimator_settings": estimator.settings(),
        "config": config.estimator_settings(),
        "frames": {
            "count": int(frames.size),
            "sha256": settings_key({"indices": frames.tolist()}, 32),
        },
        "batch_size": config.batch_size,
    }


class PoseStore:
    """Per-video pose entries under ``root``; see the module docstring."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def _check_not_beside(self, video: Path) -> None:
        if self.root.resolve() == video.resolve().parent:
            raise DeepdanceError(
                f"pose.store_dir={self.root}: the folder of {video.name}; the pose store never writes "
                "beside the videos, choose another folder"
            )

    def entry_dir(self, video: Path, key: dict[str, object]) -> Path:
        """``<video stem>-<key hash>``; the same contents under another name find their entry."""
        digest = settings_key(key, 24)
        found = sorted(self.root.glob(f"*-{digest}")) if self.root.is_dir() else []
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", video.stem)[:60]
        return found[0] if found else self.root / f"{stem}-{digest}"

    def get(
        self,
        path: str | Path,
        config: PoseConfig,
        frame_indices: np.ndarray | None = None,
        estimator: PoseEstimator | None = None,
    ) -> VideoPoses:
        """The dancer in ``path`` (as ``estimate_video``), the backend run only on batches the
        store does not hold yet. ``estimator``: the backend to use (default: ``config``'s)."""
        from deepdance.pose.backends import build_estimator

        video = Path(path)
        self._check_not_beside(video)
        source = FrameSource(video)
        indices = selected_indices(source, config, frame_indices)
        own = estimator is None
        estimator = build_estimator(config) if estimator is None else estimator
        try:
            key = entry_key(file_digest(video), estimator, config, indices)
            entry = self.entry_dir(video, key)
            entry.mkdir(parents=True, exist_ok=True)
            # two processes on one video compute it once; the second reads what the first wrote
            with file_lock(entry / "batches", lock_file=entry / ".lock"):
                if not (entry / "key.json").is_file():
                    atomic_write_text(entry / "key.json", json.dumps({"video": str(video), **key}, indent=1))
                batches = list(self._fill(entry, source, indices, config, estimator))
        finally:
            if own:
                estimator.close()
        return assemble(batches, source.size, config)

    def _fill(
        self,
        entry: Path,
        source: FrameSource,
        indices: np.ndarray,
        config: PoseConfig,
        estimator: PoseEstimator,
    ) -> Iterator[Batch]:
        """Each batch: read back when stored and whole, else computed and written at once."""
        loaded: set[int] = set()

        def cached(number: int) -> Batch | None:
            batch = read_batch(batch_path(entry, number))
            if batch is not None:
                loaded.add(number)
            return batch

        total = len(batch_ranges(len(indices), config.batch_size))
        for number, batch in enumerate(detect_batches(source, indices, config, estimator, cached)):
            if number not in loaded:
                with atomic_output(batch_path(entry, number), "wb") as handle:
                    np.savez(handle, **batch)
                log.debug("%s: batch %d of %d stored", source.path, number + 1, total)
            yield batch

    def stored_batches(
        self,
        path: str | Path,
        config: PoseConfig,
        estimator: PoseEstimator,
        frame_indices: np.ndarray | None = None,
    ) -> int:
        """How many batches of ``path`` the store already holds (what a resumed run skips)."""
        video = Path(path)
        source = FrameSource(video)
        indices = selected_indices(source, config, frame_indices)
        entry = self.entry_dir(video, entry_key(file_digest(video), estimator, config, indices))
        return sum(
            1
            for b in range(len(batch_ranges(len(indices), config.batch_size)))
            if read_batch(batch_path(entry, b)) is not None
        )


def batch_path(entry: Path, number: int) -> Path:
    """The file of batch ``number`` in an entry."""
    return entry / f"batch-{number:05d}.npz"


def read_batch(path: Path) -> Batch | None:
    """A stored batch, or None when it is missing or damaged (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            batch = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        log.warning("%s: damaged pose batch, recomputing (%s)", path, err)
        return None
    required = {"count", "keypoints", "landmarks", "boxes", "scores", "frame_indices", "timestamps"}
    if not required <= set(batch):
        log.warning("%s: incomplete pose batch, recomputing", path)
        return None
    return batch
