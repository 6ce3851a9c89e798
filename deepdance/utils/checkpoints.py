"""Checkpoints are data, not code: safe loading, atomic saving and ``ckpt_path=last``. Which model
family a checkpoint holds, and building its module, is ``deepdance.models.registry``'s: this
module imports no model.

* **Loading** never unpickles arbitrary objects: ``torch.load(weights_only=True)`` with the
  explicit allow-list ``SAFE_GLOBALS``. A file that needs anything else (a pickle payload,
  an OmegaConf object, a class instance) is refused with ``UnsafeCheckpoint`` and nothing in it
  runs. Lightning's own loading (``trainer.fit/test(ckpt_path=..., weights_only=True)``,
  ``load_from_checkpoint(weights_only=True)``) goes through the same unpickler, with the same
  allow-list registered process-wide when this module is imported.
* **Saving** (``AtomicCheckpointIO``, a Lightning CheckpointIO plugin set in ``conf/trainer``):
  writes a temporary file and renames it, so a SIGKILL mid-save never leaves a truncated
  ``last.ckpt``; and turns OmegaConf containers and paths into plain data first, so every
  checkpoint it writes loads under ``weights_only=True``.
"""

from __future__ import annotations

import copy
import logging
import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from omegaconf import DictConfig, ListConfig, OmegaConf

from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_output
from deepdance.utils.legacy_targets import upgrade_targets

log = logging.getLogger(__name__)

# What a Lightning checkpoint written by deepdance may contain besides tensors, dicts, lists,
# tuples, strings and numbers (torch's weights_only default). Keep this list short: each entry
# is a type whose reconstruction from a pickle cannot run code.
SAFE_GLOBALS: list[Any] = [
    # a numpy scalar (e.g. a monitored score logged as np.float64) pickles as scalar(dtype, bytes)
    np.dtype,
    type(np.dtype(np.float64)),
    type(np.dtype(np.float32)),
    type(np.dtype(np.int64)),
    np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar,
]


def allow_checkpoint_globals() -> None:
    """Register ``SAFE_GLOBALS`` for every ``weights_only`` load in this process (idempotent)."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)


allow_checkpoint_globals()


class UnsafeCheckpoint(DeepdanceError):
    """A checkpoint that would need arbitrary code to load: refused."""


def _unsafe_reason(err: Exception) -> str:
    """The line of torch's weights_only message that names the refused global."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "global" in line.lower() and "Weights only load failed" not in line:
            return line.removeprefix("WeightsUnpickler error:").strip()[:240]
    return lines[-1][:240] if lines else type(err).__name__


# Checkpoints read inside ``one_read_per_checkpoint``, by (path, mtime, size); None: not sharing.
_SHARED_READS: ContextVar[dict[tuple[str, int, int], dict[str, Any]] | None] = ContextVar(
    "shared_checkpoint_reads", default=None
)


@contextmanager
def one_read_per_checkpoint() -> Iterator[None]:
    """Within this block each checkpoint file is read from disk once: a command's start-up check
    and its model loading share the read. Outside it nothing is kept in memory."""
    token = _SHARED_READS.set({})
    try:
        yield
    finally:
        _SHARED_READS.reset(token)


def load_checkpoint(path: str | Path, setting: str = "ckpt_path") -> dict[str, Any]:
    """Read a checkpoint as data: tensors, dicts, lists, numbers, strings, ``SAFE_GLOBALS``.

    Errors are one line naming ``setting=path``: missing file, not a checkpoint (truncated or
    another format), or refused because it carries objects outside the allow-list. Inside
    ``one_read_per_checkpoint`` a file already read is not read again.
    """
    path = Path(path)
    if not path.is_file():
        raise DeepdanceError(f"{setting}={path}: no such checkpoint file")
    stat = path.stat()
    if stat.st_size == 0:
        raise DeepdanceError(f"{setting}={path}: empty file (0 bytes), not a checkpoint")
    shared = _SHARED_READS.get()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if shared is not None and key in shared:
        return _own_copy(shared[key])
    checkpoint = _read(path, setting)
    if shared is not None:
        shared[key] = checkpoint
        return _own_copy(checkpoint)
    return checkpoint


def _own_copy(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A caller's own copy of a shared read: the settings copied, the tensors shared (loading
    copies them into the module's parameters)."""
    copied = dict(checkpoint)
    for key in ("hyper_parameters", "deepdance"):
        if key in copied:
            copied[key] = copy.deepcopy(copied[key])
    return copied


def _read(path: Path, setting: str) -> dict[str, Any]:
    """One ``torch.load`` of ``path`` with the allow-list, errors in one line."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpoint(
            f"{setting}={path}: refused to load: it holds pickled objects outside deepdance's allow-list "
            f"({_unsafe_reason(err)}); checkpoints must be plain data. Only if you trust its origin (e.g. "
            "written by an "
            f"older deepdance), convert it once: python -m deepdance.convert_checkpoint {path} CONVERTED.ckpt"
        ) from None
    except (RuntimeError, zipfile.BadZipFile, EOFError, ValueError) as err:
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise DeepdanceError(
            f"{setting}={path}: not a readable PyTorch checkpoint (truncated or another format: {reason})"
        ) from None
    if not isinstance(checkpoint, dict):
        raise DeepdanceError(f"{setting}={path}: holds a {type(checkpoint).__name__}, not a checkpoint dict")
    # class paths stored before a move are read as today's (deepdance/utils/legacy_targets.py)
    if isinstance(checkpoint.get("deepdance"), dict):
        checkpoint["deepdance"] = upgrade_targets(checkpoint["deepdance"])
    return checkpoint


def read_deepdance_metadata(path: str | Path, setting: str = "ckpt_path") -> dict[str, Any]:
    """The ``deepdance`` metadata (model_target, data settings) of a checkpoint written by train."""
    return require_metadata(load_checkpoint(path, setting), path, setting)


def require_metadata(
    checkpoint: dict[str, Any], path: str | Path, setting: str = "ckpt_path"
) -> dict[str, Any]:
    """A checkpoint's ``deepdance`` metadata, refused in one line when train did not write it."""
    metadata = checkpoint.get("deepdance")
    if not metadata or "model_target" not in metadata:
        raise DeepdanceError(
            f"{setting}={path}: not a deepdance checkpoint (no 'deepdance' metadata: was it written by "
            "deepdance.train?)"
        )
    return metadata


def resolve_ckpt_path(
    value: str | None, run_dir: str | Path, log_dir: str | Path, task_name: str
) -> Path | None:
    """What ``ckpt_path`` means: ``None`` (start fresh), a path, or ``last``.

    ``last`` is, in this order: the newer of ``<this run dir>/checkpoints/last.ckpt`` and
    Lightning's SLURM ``<this run dir>/hpc_ckpt_*.ckpt`` (a requeued job run again in the same
    ``hydra.run.dir``), else the newest ``last.ckpt`` among earlier runs of
    the same task, ``<log_dir>/<task_name>/runs/*/checkpoints/last.ckpt``. Multiruns are
    never searched: a sweep trial is resumed by passing its path.
    """
    if value in (None, "", "null"):
        return None
    if str(value) != "last":
        return Path(value)
    own = Path(run_dir) / "checkpoints" / "last.ckpt"
    # SLURM auto-requeue (SIGUSR1) makes Lightning save hpc_ckpt_<n>.ckpt in the run dir
    mine = [p for p in [own, *Path(run_dir).glob("hpc_ckpt_*.ckpt")] if p.is_file()]
    if mine:
        return max(mine, key=lambda p: p.stat().st_mtime_ns)
    runs = Path(log_dir) / task_name / "runs"
    candidates = [p for p in runs.glob("*/checkpoints/last.ckpt") if p.is_file() and p != own]
    if not candidates:
        raise DeepdanceError(
            f"ckpt_path=last: no {own} and no earlier run of task {task_name!r} with checkpoints/last.ckpt "
            f"under {runs}; "
            "train first, or pass ckpt_path=/path/to/file.ckpt"
        )
    newest = max(candidates, key=lambda p: p.stat().st_mtime_ns)
    log.info("ckpt_path=last -> %s (newest of %d run(s) of task %s)", newest, len(candidates), task_name)
    return newest


def plain_data(value: Any) -> Any:
    """OmegaConf containers, paths and numpy scalars as plain Python, recursively (tensors untouched)."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, dict):
        return (
            type(value)((k, plain_data(v)) for k, v in value.items())
            if type(value) is not dict
            else {k: plain_data(v) for k, v in value.items()}
        )
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(plain_data(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, but atomic (temp file + rename) and plain-data only."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options, got {storage_options!r}")
        checkpoint = plain_data(checkpoint)
        if checkpoint.get("hparams_type") is not None and not isinstance(checkpoint["hparams_type"], str):
            # a class object: plain dicts load as they are
            checkpoint.pop("hparams_type")
        with atomic_output(path, "wb") as handle:
            torch.save(checkpoint, handle)


def convert_trusted_checkpoint(source: str | Path, target: str | Path) -> Path:
    """Re-save a checkpoint you trust (full unpickling!) as plain data that loads with weights_only."""
    checkpoint = torch.load(source, map_location="cpu", weights_only=False)  # the one trusted load
    AtomicCheckpointIO().save_checkpoint(checkpoint, target)
    # proves the result is plain data
    load_checkpoint(target, setting="target")
    return Path(target)
