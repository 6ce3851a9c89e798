"""A directory of per-video backbone features, so a frozen backbone runs once per video.

Layout: ``<root>/<backbone>-<key digest>/`` holds ``key.json`` (every setting that changes the
features, in words) and one ``.safetensors`` entry per video: float16 features
``(clips, num_frames, D)``, the frame mask and indices, and in its header the video's
size/mtime, length, resolution and frame rate and a CRC32 of the features.

Why this shape:
* a key digest over everything that changes the numbers (backbone name and weight digest,
  image size, frames per clip, clips per video and the sampling rule, the decoder, the
  normalisation, the extraction precision, and the torch, timm and decoder versions): change
  any of them, upgrades included, and a new directory fills, never a silent mix;
* one file per video, written to a temporary name and renamed while its writer holds the
  entry's lock (``.locks/<entry>.lock``): a killed run leaves only complete entries, and the
  next run computes just the missing ones; several writers (DDP ranks, nodes) never share a
  file. A temporary file whose entry lock is free has no live writer on any node (flock
  locks are shared over NFS), so it is an orphan and is deleted; process ids would only
  tell about this node;
* safetensors headers are read without the tensors, so checking 12,670 entries is cheap; a
  truncated file fails its header check, a flipped bit fails the CRC on load; a video file
  that changed (size or mtime) makes its entry stale. Entries hold data only, never pickles.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import zlib
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal

import torch
from filelock import Timeout
from torch import nn

from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_path, atomic_write_text, file_lock

log = logging.getLogger(__name__)

STORE_VERSION = 1
SUFFIX = ".safetensors"
EntryState = Literal["ok", "missing", "stale", "corrupt"]


class FeatureStoreError(DeepdanceError):
    """An entry that cannot be used; the message names the entry file and the fix."""


@dataclass(frozen=True)
class FeatureKey:
    """Everything that changes the stored numbers; its digest names the store directory."""

    backbone: str
    # sha256 over the backbone's state dict (parameters and buffers)
    weights: str
    img_size: int
    num_frames: int
    clips: int
    # how frame indices are chosen from a video
    sampling: str
    # what turns a file into frames (library, version, resize and crop rule)
    decoder: str
    # mean/std applied before the backbone
    normalisation: str
    # fp32 | bf16: the arithmetic of the extraction
    precision: str
    version: int = STORE_VERSION
    # torch, timm and decoder releases: an upgrade can change the numbers, so it never reuses entries
    libraries: str = field(default_factory=lambda: library_versions())

    @functools.cached_property
    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def dirname(self) -> str:
        return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', self.backbone)}-{self.digest}"


def library_versions() -> str:
    """The installed releases that compute the features: torch, timm, and the decord package."""
    found = [f"torch {torch.__version__}"]
    for dist in ("timm", "decord", "decord2"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return "; ".join(found)


def weights_digest(module: nn.Module) -> str:
    """sha256 over a module's parameters and buffers, by name.

    Two backbones with equal digests compute equal features.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        data = tensor.detach().to("cpu").contiguous()
        digest.update(str(tuple(data.shape)).encode() + str(data.dtype).encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


@dataclass(frozen=True)
class VideoStamp:
    """What says a video file is still the one an entry was computed from (no need to open it)."""

    size: int
    # whole seconds: copies that keep times (cp -p, rsync -a) stay valid
    mtime: int

    @classmethod
    def of(cls, path: str | Path) -> VideoStamp:
        stat = os.stat(path)
        return cls(size=int(stat.st_size), mtime=int(stat.st_mtime))


@dataclass
class FeatureEntry:
    """One video's stored clips: ``features`` (C, T, D) float16, ``mask`` (C, T), ``indices`` (C, T)."""

    features: torch.Tensor
    mask: torch.Tensor
    indices: torch.Tensor
    offsets: list[float]
    # path, size, mtime, frames, height, width, fps
    video: dict


def entry_id(relative_path: str) -> str:
    """A file name for a video's entry: readable stem plus a hash of its path under the data root."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(relative_path).stem)[:80]
    return f"{stem}-{hashlib.sha1(relative_path.encode()).hexdigest()[:8]}"


class FeatureStore:
    """Per-video feature entries under ``root/<key dir>``; see the module docstring."""

    def __init__(self, root: str | Path, key: FeatureKey) -> None:
        self.root = Path(root)
        self.key = key
        self.dir = self.root / key.dirname

    def __repr__(self) -> str:
        return f"FeatureStore({self.dir})"

    def entry_path(self, relative_path: str) -> Path:
        return self.dir / f"{entry_id(relative_path)}{SUFFIX}"

    # ---------------------------------------------------------------------------- writing
    def _write_key(self) -> None:
        path = self.dir / "key.json"
        if not path.is_file():
            key = {"digest": self.key.digest, **asdict(self.key)}
            atomic_write_text(path, json.dumps(key, indent=1) + "\n")

    def _lock_file(self, entry: str) -> Path:
        return self.dir / ".locks" / f"{entry}.lock"

    def write(
        self,
        relative_path: str,
        video: dict,
        offsets: list[float],
        indices: torch.Tensor,
        mask: torch.Tensor,
        features: torch.Tensor,
    ) -> Path:
        """Store one video's features atomically, holding the entry's lock while its temporary file exists."""
        from safetensors.torch import save_file

        self._write_key()
        features = features.detach().to("cpu", torch.float16).contiguous()  # (C, T, D)
        mask = mask.detach().to("cpu", torch.bool).contiguous()  # (C, T)
        indices = indices.detach().to("cpu", torch.int64).contiguous()  # (C, T)
        if features.shape[:2] != mask.shape or mask.shape != indices.shape or len(offsets) != mask.shape[0]:
            raise ValueError(
                f"{relative_path}: inconsistent shapes features {tuple(features.shape)}, mask "
                f"{tuple(mask.shape)}, "
                f"indices {tuple(indices.shape)}, {len(offsets)} offsets"
            )
        metadata = {
            "key": self.key.digest,
            "version": str(STORE_VERSION),
            "relative_path": relative_path,
            "video": json.dumps(video, sort_keys=True),
            "offsets": json.dumps([float(o) for o in offsets]),
            "crc32": str(zlib.crc32(features.reshape(-1).view(torch.uint8).numpy().tobytes())),
        }
        path = self.entry_path(relative_path)
        with file_lock(path, lock_file=self._lock_file(path.name)), atomic_path(path) as tmp:
            save_file({"features": features, "mask": mask, "indices": indices}, str(tmp), metadata=metadata)
        return path

    def remove_orphans(self) -> int:
        """Delete temporary files whose writer is gone (its entry lock is free); return how many.

        Only ``.<entry>.<random>.tmp`` files in this key's directory are considered: the
        store deletes nothing else.
        """
        removed = 0
        for tmp in self.dir.glob(f".*{SUFFIX}.*.tmp") if self.dir.is_dir() else []:
            entry = tmp.name[1:].rsplit(".", 2)[0]
            try:
                with file_lock(self.dir / entry, timeout=0, lock_file=self._lock_file(entry)):
                    tmp.unlink(missing_ok=True)
            except Timeout:
                continue
            removed += 1
        return removed

    # ---------------------------------------------------------------------------- reading
    def _header(self, path: Path) -> dict[str, str]:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as handle:
            return dict(handle.metadata() or {})

    def check(self, relative_path: str, video_path: str | Path) -> tuple[EntryState, str]:
        """Is the entry usable without reading its tensors? ``(state, reason)``."""
        path = self.entry_path(relative_path)
        if not path.is_file():
            return "missing", "no entry"
        try:
            header = self._header(path)
            video = json.loads(header["video"])
        # truncated, overwritten or foreign file
        except Exception as err:
            return "corrupt", f"unreadable entry ({str(err).splitlines()[0][:120]})"
        if header.get("key") != self.key.digest or header.get("relative_path") != relative_path:
            return "corrupt", "entry belongs to another key or video"
        try:
            stamp = VideoStamp.of(video_path)
        except OSError as err:
            return "stale", f"video unreadable ({err.strerror})"
        if (video.get("size"), video.get("mtime")) != (stamp.size, stamp.mtime):
            return (
                "stale",
                f"video changed since extraction (size/mtime {video.get('size')}/{video.get('mtime')} -> "
                f"{stamp.size}/{stamp.mtime})",
            )
        return "ok", ""

    def video_info(self, relative_path: str) -> dict:
        """The video facts stored with an entry (frames, height, width, fps, size, mtime)."""
        return json.loads(self._header(self.entry_path(relative_path))["video"])

    def load(self, relative_path: str, video_path: str | Path | None = None) -> FeatureEntry:
        """Read and verify an entry (CRC, shapes, and the video's stamp when ``video_path`` is given)."""
        from safetensors.torch import load_file

        path = self.entry_path(relative_path)
        fix = "run `python -m deepdance.extract_features` with the same settings to recompute it"
        if video_path is not None:
            state, reason = self.check(relative_path, video_path)
            if state != "ok":
                raise FeatureStoreError(f"feature entry {path} for {video_path} is {state}: {reason}; {fix}")
        try:
            header = self._header(path)
            tensors = load_file(str(path))
            features, mask, indices = tensors["features"], tensors["mask"], tensors["indices"]
        except Exception as err:
            raise FeatureStoreError(
                f"feature entry {path} is unreadable ({str(err).splitlines()[0][:120]}); {fix}"
            ) from None
        if str(
            zlib.crc32(features.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        ) != header.get("crc32"):
            raise FeatureStoreError(f"feature entry {path} is corrupt (checksum mismatch); {fix}")
        offsets = json.loads(header["offsets"])
        if (
            features.shape[:2] != mask.shape
            or len(offsets) != self.key.clips
            or mask.shape[1] != self.key.num_frames
        ):
            raise FeatureStoreError(
                f"feature entry {path} has shape {tuple(features.shape)}, expected ({self.key.clips}, "
                f"{self.key.num_frames}, D); {fix}"
            )
        return FeatureEntry(
            features=features, mask=mask, indices=indices, offsets=offsets, video=json.loads(header["video"])
        )

    def scan(self, videos: list[tuple[str, str]]) -> dict[EntryState, list[tuple[str, str, str]]]:
        """Sort ``(relative_path, video_path)`` pairs by entry state.

        Each list holds ``(rel, path, reason)``.
        """
        found: dict[EntryState, list[tuple[str, str, str]]] = {
            "ok": [],
            "missing": [],
            "stale": [],
            "corrupt": [],
        }
        for relative_path, video_path in videos:
            state, reason = self.check(relative_path, video_path)
            found[state].append((relative_path, str(video_path), reason))
        return found
