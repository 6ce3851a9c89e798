"""Crash-safe files for every cache deepdance fills: atomic writes, inter-process locks, and
entries that carry their own length and checksum so a truncated or corrupt one is noticed.

Why: a killed job, a full disk or two DDP ranks writing the same entry must never leave a
file that a later run silently reads back as valid. The rules, in one place:

* **Atomic writes** (``atomic_path`` / ``atomic_output`` / ``atomic_write_bytes`` /
  ``atomic_write_text``): the one place deepdance writes a file. Write a temporary file in the
  same directory, fsync it, then publish it under the target name. Readers see the old file or
  the complete new one, never a half-written one. ``overwrite=False`` publishes only if the
  target does not exist (a hard link, atomic on POSIX file systems), so a file that some other
  program put there meanwhile is never replaced.
* **Locks** (``file_lock``): an ``flock`` on ``<entry>.lock`` (via ``filelock``) so two
  processes filling the same entry compute it once; the second waits, then reads. flock
  locks are seen by every node of an NFSv4 mount (Linux emulates them as POSIX locks), so
  they also decide, across nodes, whether a temporary file still has a live writer.
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
import errno
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

# 8 bytes: format version 1
MAGIC = b"DDCACHE1"
# magic, payload length, sha256(payload)
_HEADER = struct.Struct(">8sQ32s")
HEADER_SIZE = _HEADER.size  # 48


class CorruptEntry(Exception):
    """A cache entry that is truncated, altered, or not a deepdance cache file."""


class TargetExists(FileExistsError):
    """``overwrite=False`` and the target already exists: nothing was written."""


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = True, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file name beside ``path`` for writers that want a name, not a handle
    (video encoders, safetensors); when the block ends without error it becomes ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    ``path`` is left as it was. The temporary name is hidden (``.<name>.<random><suffix>``)
    and, with the default suffix, has no video extension, so no video scan picks it up.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp makes 0600 files; give the usual permissions
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        _fsync(tmp)
        _publish(tmp, path, overwrite)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "wb", *, overwrite: bool = True) -> Iterator[Any]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``
    (``overwrite=False``: only if there is no ``path`` yet, else ``TargetExists``)."""
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, mode) as handle:
        yield handle


def _fsync(path: Path) -> None:
    """Flush the data to disk before the rename, so a power loss cannot leave a renamed but empty file."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        # link() fails if ``path`` exists: check and publish in one step
        os.link(tmp, path)
    except FileExistsError:
        raise TargetExists(errno.EEXIST, "exists; not replaced", str(path)) from None
    except OSError:
        # a file system without hard links: check, then rename (a small window)
        if path.exists():
            raise TargetExists(errno.EEXIST, "exists; not replaced", str(path)) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# read once at import: os.umask is process-wide, not thread-safe to probe later
_UMASK = _umask()


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Readers never see a half-written file: write to a temporary file, then rename."""
    with atomic_output(path, "wb", overwrite=overwrite) as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Text form of atomic_write_bytes, for JSON and CSV files."""
    with atomic_output(path, "w", overwrite=overwrite) as handle:
        handle.write(text)
    return Path(path)


def lock_path(path: str | Path) -> Path:
    """The lock file sits beside the file it guards, so every process finds the same one."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def file_lock(
    path: str | Path, timeout: float = -1, *, lock_file: str | Path | None = None
) -> Iterator[None]:
    """Hold an exclusive inter-process lock for ``path`` (on ``<path>.lock``, or on ``lock_file``).

    ``timeout`` seconds (-1: wait forever; 0: raise ``filelock.Timeout`` at once if held).
    The lock file is left in place on purpose: deleting it while another process waits on
    it would let a third take a second lock.
    """
    target = Path(lock_file) if lock_file is not None else lock_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target), timeout=timeout):
        yield


@contextlib.contextmanager
def locked(handle: Any) -> Iterator[Any]:
    """Hold ``file_lock`` on an open file's path while appending to it (a log shared by
    DataLoader workers), then flush before the lock is released."""
    with file_lock(handle.name):
        yield handle
        handle.flush()


def _digest(payload: bytes | memoryview) -> bytes:
    return hashlib.sha256(payload).digest()


def encode_entry(payload: bytes) -> bytes:
    """Prefix the payload with a header and checksum, so a truncated or corrupt entry is detected."""
    return _HEADER.pack(MAGIC, len(payload), _digest(payload)) + payload


def write_entry(path: str | Path, payload: bytes) -> Path:
    """Write ``payload`` with its header, atomically."""
    return atomic_write_bytes(path, encode_entry(payload))


def read_entry(path: str | Path) -> bytes:
    """The payload of a checked entry; ``FileNotFoundError`` if absent, ``CorruptEntry`` if damaged."""
    data = Path(path).read_bytes()
    if len(data) < HEADER_SIZE:
        raise CorruptEntry(
            f"{path}: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header (truncated)"
        )
    magic, length, digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CorruptEntry(f"{path}: not a deepdance cache entry (header {magic!r}, expected {MAGIC!r})")
    payload = memoryview(data)[HEADER_SIZE:]
    if len(payload) != length:
        raise CorruptEntry(
            f"{path}: payload is {len(payload)} bytes, header says {length} (truncated or appended to)"
        )
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
        # fast path: no lock for a valid entry
        return read_entry(path)
    with file_lock(path, timeout=lock_timeout):
        try:
            # written by another process while we waited
            return read_entry(path)
        except FileNotFoundError:
            pass
        except CorruptEntry as err:
            log.warning("corrupt cache entry, recomputing: %s", err)
        payload = compute()
        write_entry(path, payload)
        return payload


def array_to_bytes(array: np.ndarray) -> bytes:
    """Serialise an array without pickle, so a cache file cannot run code when read."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def array_from_bytes(payload: bytes) -> np.ndarray:
    """Read an array written by array_to_bytes; pickle stays disabled."""
    return np.load(io.BytesIO(payload), allow_pickle=False)


def save_array(path: str | Path, array: np.ndarray) -> Path:
    """Cache an array atomically with a checksummed header."""
    return write_entry(path, array_to_bytes(array))


def load_array(path: str | Path) -> np.ndarray:
    """Read a cached array, raising if its header or checksum does not match."""
    return array_from_bytes(read_entry(path))


def load_or_compute_array(
    path: str | Path, compute: Callable[[], np.ndarray], *, lock_timeout: float = -1
) -> np.ndarray:
    """``load_or_compute`` for a numpy array (stored as .npy bytes, never pickled)."""
    return array_from_bytes(
        load_or_compute(path, lambda: array_to_bytes(compute()), lock_timeout=lock_timeout)
    )


def settings_key(settings: dict[str, Any], length: int = 16) -> str:
    """A short stable hash of ``settings`` (JSON with sorted keys): the part of a cache key
    that changes whenever anything that changes the cached contents changes."""
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Name, size and modification time of a source file: cheap, and changes when it is replaced."""
    stat = Path(path).stat()
    return {"name": Path(path).name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
