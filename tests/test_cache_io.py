"""Caches: atomic writes, checked entries (truncation is detected and recomputed with a
warning), a lock so two processes filling the same entry compute it once, and the synthetic
dataset's own lock under two concurrent generators."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepdance.utils.cache_io import (
    HEADER_SIZE,
    CorruptEntry,
    atomic_output,
    file_lock,
    load_or_compute_array,
    locked,
    read_entry,
    settings_key,
    write_entry,
)


def test_atomic_output_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "entry.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["entry.bin"]  # no temporary file left
    with atomic_output(target) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) != 0o600


def test_locked_append_holds_the_same_filelock_as_file_lock(tmp_path: Path) -> None:
    """Appends to a shared log go through filelock too (no second, fcntl-only lock helper)."""
    from filelock import Timeout

    log_file = tmp_path / "bad_videos.csv"
    with open(log_file, "a") as handle, locked(handle):
        handle.write("row\n")
        with pytest.raises(Timeout), file_lock(log_file, timeout=0):
            pass
    with file_lock(log_file, timeout=0):
        assert log_file.read_text() == "row\n"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) - 10], "truncated"),
        (lambda b: b[:20], "shorter than the 48-byte header"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum mismatch"),
        (lambda b: b"PK" + b[2:], "not a deepdance cache entry"),
    ],
)
def test_damaged_entries_are_detected(tmp_path: Path, damage, reason: str) -> None:
    path = write_entry(tmp_path / "e", b"x" * 1000)
    assert read_entry(path) == b"x" * 1000
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CorruptEntry, match=reason):
        read_entry(path)


def test_truncated_entry_is_recomputed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "features.npy"
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(12, dtype=np.float16).reshape(3, 4)

    first = load_or_compute_array(path, compute)
    again = load_or_compute_array(path, compute)
    assert len(calls) == 1 and np.array_equal(first, again)
    path.write_bytes(path.read_bytes()[: HEADER_SIZE + 30])  # a killed copy, a full disk
    with caplog.at_level(logging.WARNING, logger="deepdance.utils.cache_io"):
        repaired = load_or_compute_array(path, compute)
    assert len(calls) == 2 and np.array_equal(repaired, first)
    assert any(
        "corrupt cache entry, recomputing" in r.message and str(path) in r.message for r in caplog.records
    )
    assert np.array_equal(load_or_compute_array(path, compute), first) and len(calls) == 2


class WatchedLock:
    """``file_lock`` that writes ``asks``, ``holds`` and ``releases`` to a log both processes
    append to, and, once it holds the lock, waits until every process has asked for it.

    That wait is the handshake: the holder cannot finish before the other process has missed
    the entry and asked for the lock, so the two overlap whatever the start-up times; the log
    then shows whether the lock serialised them."""

    def __init__(self, real_lock: Callable[..., Any], log_path: str, parties: int = 2) -> None:
        self.real_lock, self.log_path, self.parties = real_lock, Path(log_path), parties

    def _write(self, event: str) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(f"{os.getpid()} {event}\n")

    def _asked(self) -> int:
        return self.log_path.read_text().count(" asks\n")

    @contextlib.contextmanager
    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[None]:
        self._write("asks")
        with self.real_lock(*args, **kwargs):
            self._write("holds")
            deadline = time.monotonic() + 60
            while self._asked() < self.parties and time.monotonic() < deadline:
                time.sleep(0.01)
            yield
            self._write("releases")


def lock_events(log_path: Path) -> list[tuple[int, str]]:
    return [(int(pid), event) for pid, event in (line.split() for line in log_path.read_text().splitlines())]


def assert_overlapped_and_serialised(events: list[tuple[int, str]]) -> None:
    """Both asked before the first release (they overlapped); the second held only after it."""
    names = [event for _, event in events]
    assert names.count("asks") == 2 and names.count("holds") == 2, events
    first_holder = next(pid for pid, event in events if event == "holds")
    first_release = events.index((first_holder, "releases"))
    second_hold = next(i for i, (pid, event) in enumerate(events) if event == "holds" and pid != first_holder)
    assert all(i < first_release for i, (_, event) in enumerate(events) if event == "asks"), events
    assert second_hold > first_release, events


def _fill(path: str, log_path: str, result_path: str, barrier: Any) -> None:
    import deepdance.utils.cache_io as cache_io

    cache_io.file_lock = WatchedLock(cache_io.file_lock, log_path)
    barrier.wait(timeout=60)

    def compute() -> bytes:
        with open(log_path, "a") as handle:
            handle.write(f"{os.getpid()} computes\n")
        return b"value " * 100_000

    Path(result_path).write_bytes(cache_io.load_or_compute(path, compute))


def _run_together(target: Callable[..., None], args: list[tuple]) -> None:
    """Start one spawned process per argument tuple; each waits on a shared barrier."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args))
    processes = [context.Process(target=target, args=(*a, barrier)) for a in args]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_two_processes_filling_the_same_entry_compute_it_once(tmp_path: Path) -> None:
    path, log_path = tmp_path / "shared.bin", tmp_path / "events.log"
    results = [tmp_path / f"result{i}.bin" for i in range(2)]
    _run_together(_fill, [(str(path), str(log_path), str(r)) for r in results])
    events = lock_events(log_path)
    # both missed the entry and took the locked path; one computed, the other read its entry
    assert_overlapped_and_serialised([e for e in events if e[1] != "computes"])
    assert [event for _, event in events].count("computes") == 1
    assert results[0].read_bytes() == results[1].read_bytes() == read_entry(path) == b"value " * 100_000


def test_settings_key_changes_with_any_setting() -> None:
    base = {"backbone": "inception_v3", "img_size": 299, "num_frames": 20, "decoder": "decord-0.6.0"}
    assert settings_key(base) == settings_key(dict(reversed(list(base.items()))))
    assert len({settings_key({**base, key: "other"}) for key in base} | {settings_key(base)}) == len(base) + 1


def _ensure(root: str, log_path: str, events_path: str, barrier: Any) -> None:
    import deepdance.data.owned_folder as owned_folder
    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    owned_folder.file_lock = WatchedLock(owned_folder.file_lock, events_path)
    handler = logging.FileHandler(log_path)
    logging.getLogger("deepdance.data.synthetic").addHandler(handler)
    logging.getLogger("deepdance.data.synthetic").setLevel(logging.INFO)
    barrier.wait(timeout=60)
    ensure_synthetic_dataset(
        root,
        SyntheticConfig(seed=1, dancers_per_genre=1, cameras=1, musics=1, seconds=0.4, fps=10, size=32),
        workers=1,
    )
    handler.close()


def test_synthetic_dataset_lock_makes_two_concurrent_generators_write_once(tmp_path: Path) -> None:
    root, events = tmp_path / "synthetic", tmp_path / "events.log"
    logs = [tmp_path / f"gen{i}.log" for i in range(2)]
    _run_together(_ensure, [(str(root), str(log), str(events)) for log in logs])
    assert_overlapped_and_serialised(lock_events(events))
    text = "".join(log.read_text() for log in logs)
    assert text.count("generating 10 of 10") == 1 and text.count("reusing synthetic dataset") == 1
    record = json.loads((root / "synthetic.json").read_text())
    from deepdance.data.video import probe_video

    assert len(record["files"]) == 10 and all(
        probe_video(root / name).num_frames == 4 for name in record["files"]
    )
    assert not list(root.glob(".*tmp*"))  # no temporary files left behind
