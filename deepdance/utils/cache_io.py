"""Crash-safe files for every cache deepdance fills: atomic writes, inter-process locks, and
entries that carry their own length and checksum so a truncated or corrupt one is noticed.

Why: a killed job, a full disk or two DDP ranks writing the same entry must never leave a
file that a later run silently reads back as valid. The rules, in one place:

* **Atomic writes** (``atomic_output`` / ``atomic_write_bytes``): write a temporary file in
  the same directory, flush and fsync it, then ``os.replace`` it over the target. Readers
  see the old file or the complete new one, never a half-written one.
* **Locks** (``file_lock``): an ``fcntl``-style lock on ``<entry>.lock`` (via ``filelock``)
  so two processes filling the same entry compute it once; the second waits, then reads.
* **Checked entries** (``write_entry`` / ``read_entry``): a 48-byte header (magic, payload
  length, SHA-256 of the payload) in front of the payload. A short, altered or foreign file
  raises ``CorruptEntry`` naming the file and what is wrong.
* **Get-or-compute** (``load_or_compute``, ``load_or_compute_array``): read the entry; if it is
  missing compute it under the lock; if it is corrupt log a warning, recompute and replace it.
* **Keys** (``settings_key``): a short hash of every setting that changes an entry's
  contents, so a change of backbone, size or decoder never reuses a stale entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

log = logging.getLogger(__name__)

MAGIC = b"DDCACHE1"  # 8 bytes: format version 1
_HEADER = struct.Struct(">8sQ32s")  # magic, payload length, sha256(payload)
HEADER_SIZE = _HEADER.size  # 48


class CorruptEntry(Exception):
    """A cache entry that is truncated, altered, or not a deepdance cache file."""


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    ``path`` is left as it was. The data is fsynced before the rename so a power loss
    cannot leave a renamed but empty file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once at import: os.umask is process-wide, not thread-safe to probe later


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_output(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    with atomic_output(path, "w") as handle:
        handle.write(text)
    return Path(path)


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def file_lock(path: str | Path, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive inter-process lock for ``path`` (on ``<path>.lock``).

    ``timeout`` seconds (-1: wait forever). The lock file is left in place on purpose:
    deleting it while another process waits on it would let a third take a second lock.
    """
    target = lock_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target), timeout=timeout):
        yield


@contextlib.contextmanager
def locked(handle: Any) -> Iterator[Any]:
    """Hold an exclusive ``flock`` on an open file (e.g. while appending a line to a shared log)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: appends of one short line are atomic enough
        yield handle
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield handle
        handle.flush()
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _digest(payload: bytes | memoryview) -> bytes:
    return hashlib.sha256(payload).digest()


def encode_entry(payload: bytes) -> bytes:
    return _HEADER.pack(MAGIC, len(payload), _digest(payload)) + payload


def write_entry(path: str | Path, payload: bytes) -> Path:
    """Write ``payload`` with its header, atomically."""
    return atomic_write_bytes(path, encode_entry(payload))


def read_entry(path: str | Path) -> bytes:
    """The payload of a checked entry; ``FileNotFoundError`` if absent, ``CorruptEntry`` if damaged."""
    data = Path(path).read_bytes()
    if len(data) < HEADER_SIZE:
        raise CorruptEntry(f"{path}: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header (truncated)")
    magic, length, digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CorruptEntry(f"{path}: not a deepdance cache entry (header {magic!r}, expected {MAGIC!r})")
    payload = memoryview(data)[HEADER_SIZE:]
    if len(payload) != length:
        raise CorruptEntry(f"{path}: payload is {len(payload)} bytes, header says {length} (truncated or appended to)")
    if _digest(payload) != digest:
        raise CorruptEntry(f"{path}: checksum mismatch (contents altered)")
    return bytes(payload)


def load_or_compute(path: str | Path, compute: Callable[[], bytes], *, lock_timeout: float = -1) -> bytes:
    """The cached payload at ``path``, computing and storing it (once, under a lock) if needed.

    A corrupt entry is reported with a warning naming the file and the reason, then
    recomputed and replaced. Two processes asking for the same missing entry at once
    compute it once: the second waits for the lock and reads what the first wrote.
    """
    path = Path(path)
    with contextlib.suppress(FileNotFoundError, CorruptEntry):
        return read_entry(path)  # fast path: no lock for a valid entry
    with file_lock(path, timeout=lock_timeout):
        try:
            return read_entry(path)  # written by another process while we waited
        except FileNotFoundError:
            pass
        except CorruptEntry as err:
            log.warning("corrupt cache entry, recomputing: %s", err)
        payload = compute()
        write_entry(path, payload)
        return payload


def array_to_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def array_from_bytes(payload: bytes) -> np.ndarray:
    return np.load(io.BytesIO(payload), allow_pickle=False)


def save_array(path: str | Path, array: np.ndarray) -> Path:
    return write_entry(path, array_to_bytes(array))


def load_array(path: str | Path) -> np.ndarray:
    return array_from_bytes(read_entry(path))


def load_or_compute_array(path: str | Path, compute: Callable[[], np.ndarray], *, lock_timeout: float = -1) -> np.ndarray:
    """``load_or_compute`` for a numpy array (stored as .npy bytes, never pickled)."""
    return array_from_bytes(load_or_compute(path, lambda: array_to_bytes(compute()), lock_timeout=lock_timeout))


def settings_key(settings: dict[str, Any], length: int = 16) -> str:
    """A short stable hash of ``settings`` (JSON with sorted keys): the part of a cache key
    that changes whenever anything that changes the cached contents changes."""
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Name, size and modification time of a source file: cheap, and changes when it is replaced."""
    stat = Path(path).stat()
    return {"name": Path(path).name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
