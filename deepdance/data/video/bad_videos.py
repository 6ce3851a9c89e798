"""Bad videos: find them up front, leave them out (or stop), and list every one with its reason.

A genre run over 12,670 videos must not die on one broken file. ``data.on_bad_video`` says
what happens when a video cannot be opened or decoded:

* ``skip`` (default): the video is left out, the run goes on, and ``bad_videos.csv`` in the
  run dir gets a row ``path,stage,reason``; the log says how many were skipped.
* ``error``: the run stops at the first one with a one-line error naming the file.

Videos are checked twice. At **probe** time (building the manifest, in parallel processes)
every file is opened and its first frame read: missing, empty, unreadable (permissions),
non-video, audio-only and truncated files are caught here and never enter the manifest.
At **decode** time (in DataLoader workers) a file that probed fine can still fail (corrupt
packets mid-stream, or replaced on disk since): with ``skip`` the clip is dropped from its
batch (see ``collate_skipping_bad``), with ``error`` the run stops.

A video shorter than ``data.num_frames`` is *not* bad: its frames are used once each and the
clip is padded and masked. A variable-frame-rate video is not bad either: clips are sampled by
frame index, which decord maps to exact frames (``python -m deepdance.scan`` notes both).
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

from torch.utils.data import Dataset, default_collate

from deepdance.data.resumable import Item, item_index
from deepdance.data.video.reader import VideoInfo, probe_video
from deepdance.errors import DeepdanceError, VideoError
from deepdance.utils.cache_io import atomic_write_text, locked

log = logging.getLogger(__name__)

OnBadVideo = Literal["skip", "error"]
ON_BAD_VIDEO = ("skip", "error")
REPORT_NAME = "bad_videos.csv"
REPORT_COLUMNS = ("path", "stage", "reason")


def check_policy(on_bad_video: str) -> None:
    """Refuse an unknown data.on_bad_video before scanning, naming both accepted policies."""
    if on_bad_video not in ON_BAD_VIDEO:
        raise DeepdanceError(
            f"data.on_bad_video={on_bad_video!r} is not known; use 'skip' (leave bad videos out, list them "
            f"in {REPORT_NAME}) or 'error' (stop at the first)"
        )


def reason_of(err: BaseException, path: str | Path) -> str:
    """The reason part of a ``VideoError`` (its message starts with the path)."""
    text = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def stop_message(path: str | Path, reason: str) -> str:
    """The error shown when a bad video stops the run, pointing at the policy that skips it."""
    return (
        f"{path}: {reason} (data.on_bad_video=error; data.on_bad_video=skip leaves bad videos out and lists "
        f"them in {REPORT_NAME})"
    )


class BadVideoReport:
    """``bad_videos.csv``: one row per skipped video, appended safely from any process.

    ``path=None`` keeps the rows in memory only (no run dir, e.g. in a notebook).
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.rows: list[tuple[str, str, str]] = []

    def start(self, rows: Iterable[tuple[str, str, str]] = ()) -> None:
        """Begin the report (replacing one from an earlier attempt in the same run dir)."""
        self.rows = [tuple(map(str, row)) for row in rows]  # type: ignore[misc]
        if self.path is not None:
            lines = [",".join(REPORT_COLUMNS)] + [_csv_line(row) for row in self.rows]
            atomic_write_text(self.path, "\n".join(lines) + "\n")

    def record(self, path: str | Path, stage: str, reason: str) -> None:
        """Append one row; called from DataLoader workers, so under a lock on the file itself."""
        row = (str(path), stage, reason)
        self.rows.append(row)
        log.warning("bad video skipped (%s): %s: %s", stage, path, reason)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", newline="") as handle, locked(handle):
            if handle.tell() == 0:
                handle.write(",".join(REPORT_COLUMNS) + "\n")
            handle.write(_csv_line(row) + "\n")

    def read(self) -> list[dict[str, str]]:
        """All rows on disk (every process's), or the in-memory ones without a file."""
        if self.path is None:
            return [dict(zip(REPORT_COLUMNS, row)) for row in self.rows]
        if not self.path.exists():
            return []
        with open(self.path, newline="") as handle:
            return list(csv.DictReader(handle))


def _csv_line(row: tuple[str, ...]) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue()


# ------------------------------------------------------------------------------- probing
def _probe_one(path: str) -> tuple[str, VideoInfo | None, str | None]:
    try:
        return path, probe_video(path), None
    except VideoError as err:
        return path, None, reason_of(err, path)
    # a decoder bug must not take the whole scan down
    except Exception as err:
        return (
            path,
            None,
            f"{type(err).__name__}: {str(err).strip().splitlines()[0][:160] if str(err).strip() else ''}",
        )


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork: workers inherit the imported decord and cost milliseconds to start (DataLoader
    # workers are forked too); spawn where fork does not exist.
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def iter_probes(
    paths: list[str], workers: int, check: Any = _probe_one
) -> Iterator[tuple[str, Any, str | None]]:
    """``check(path)`` for every path, in order, on ``workers`` processes (in-process for 0/1)."""
    if workers <= 1 or len(paths) < 8:
        yield from map(check, paths)
        return
    chunk = max(1, min(32, len(paths) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        results = pool.map(check, paths, chunksize=chunk)
        try:
            yield from results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def probe_videos(
    paths: Iterable[str | Path], workers: int = 1, on_bad_video: OnBadVideo = "skip"
) -> tuple[dict[str, VideoInfo], list[tuple[str, str, str]]]:
    """Probe every video (open + first frame) on ``workers`` processes.

    Returns ``(infos, bad)``: the ``VideoInfo`` of each good path, and ``(path, "probe",
    reason)`` for each bad one. With ``on_bad_video="error"`` the first bad path (in input
    order) raises a one-line ``VideoError`` and the remaining probes are cancelled.
    """
    check_policy(on_bad_video)
    paths = [str(p) for p in paths]
    workers = max(0, min(workers, os.cpu_count() or 1))
    infos: dict[str, VideoInfo] = {}
    bad: list[tuple[str, str, str]] = []
    for path, info, reason in iter_probes(paths, workers):
        if reason is None:
            infos[path] = info
        elif on_bad_video == "error":
            raise VideoError(stop_message(path, reason))
        else:
            bad.append((path, "probe", reason))
    return infos, bad


class SkipBadVideos(Dataset):
    """Wrap a clip dataset (one manifest row per item) so that a video failing to decode is
    recorded in the report and returned as ``None`` (``skip``), or stops the run with one line
    naming it (``error``). ``collate_skipping_bad`` then drops the ``None`` from its batch."""

    def __init__(
        self, dataset: Dataset, on_bad_video: OnBadVideo = "skip", report: BadVideoReport | None = None
    ) -> None:
        check_policy(on_bad_video)
        self.dataset = dataset
        self.on_bad_video = on_bad_video
        self.report = report if report is not None else BadVideoReport(None)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    # manifest, num_frames, ... of the wrapped dataset
    def __getattr__(self, name: str) -> Any:
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, item: Item) -> Any:
        try:
            return self.dataset[item]
        except VideoError as err:
            path = str(self.dataset.manifest.iloc[item_index(item)]["path"])  # type: ignore[attr-defined]
            if self.on_bad_video == "error":
                raise VideoError(stop_message(path, reason_of(err, path))) from None
            self.report.record(path, "decode", reason_of(err, path))
            return None


def collate_skipping_bad(batch: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Default collate over the clips that decoded; ``None`` if none did (the step skips it)."""
    good = [item for item in batch if item is not None]
    return default_collate(good) if good else None
