"""Scan a video folder up front: which files a run would skip as bad, and why.

    python -m deepdance.scan data.root=/path/to/aist              # 8 frames decoded per video
    python -m deepdance.scan data.root=/path/to/aist decode_frames=-1 workers=8   # every frame

Every video file under ``data.root`` is opened and ``decode_frames`` frames spread over it
(first and last included) are decoded, on ``workers`` processes. The run dir
(``logs/scan/runs/<time>/``) gets ``scan.csv`` (one row per file: status, reason, frames, fps,
size, notes) and ``bad_videos.csv`` (the same format a training run writes). Notes flag what is
*not* bad but worth knowing: videos shorter than ``data.num_frames`` (padded and masked) and
variable-frame-rate videos (sampled by frame index). Exit code 1 when a bad video was found
(``fail_on_bad=false`` for 0), so scripts can gate on it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdance.data.aist.names import find_videos, parse_aist_name
from deepdance.data.video.bad_videos import iter_probes, reason_of
from deepdance.data.video.reader import open_video
from deepdance.errors import DeepdanceError, VideoError
from deepdance.utils.stop import StopOnSigterm, check_stop

log = logging.getLogger("deepdance.scan")

SCAN_COLUMNS = ["path", "status", "reason", "frames", "fps", "width", "height", "seconds", "notes"]
# longest / shortest frame interval above which a video counts as variable-frame-rate
VFR_SPREAD = 1.1


def frames_to_check(num_frames: int, decode_frames: int) -> list[int]:
    """Which frames to decode: ``decode_frames`` evenly spaced (first and last included), all for -1."""
    if decode_frames < 0 or decode_frames >= num_frames:
        return list(range(num_frames))
    if decode_frames <= 1:
        return [0]
    return sorted(set(np.linspace(0, num_frames - 1, decode_frames).round().astype(int).tolist()))


def check_video(path: str, decode_frames: int = 8, num_frames: int = 1, chunk: int = 64) -> dict[str, Any]:
    """Open ``path``, decode the frames ``frames_to_check`` picks, and describe it as a scan row."""
    row: dict[str, Any] = {"path": path, "status": "ok", "reason": "", "notes": ""}
    try:
        # tiny output: decoding, not resizing, is the test
        reader = open_video(path, width=32, height=32)
        count = len(reader)
        if count == 0:
            raise VideoError(f"{path}: the video stream has no frames")
        fps = float(reader.get_avg_fps())
        stamps = reader.get_frame_timestamp(range(count))[:, 0]
        indices = frames_to_check(count, decode_frames)
        for start in range(0, len(indices), chunk):
            part = indices[start : start + chunk]
            try:
                reader.get_batch(part)
            except Exception as err:
                from deepdance.data.video.reader import decoder_reason

                raise VideoError(
                    f"{path}: decoding frames {part[0]}..{part[-1]} failed: "
                    f"{decoder_reason(err, opening=False)}"
                ) from None
    except VideoError as err:
        return {**row, "status": "bad", "reason": reason_of(err, path)}
    # a decoder bug must not take the whole scan down
    except Exception as err:
        return {**row, "status": "bad", "reason": f"{type(err).__name__}: {' '.join(str(err).split())[:160]}"}
    # true size (the check above decoded at 32x32)
    first = open_video(path)[0].shape
    notes = []
    if count < num_frames:
        notes.append(f"short: {count} < data.num_frames={num_frames} frames (padded and masked, not bad)")
    intervals = np.diff(stamps)
    intervals = intervals[intervals > 0]
    if len(intervals) and intervals.max() / intervals.min() > VFR_SPREAD:
        notes.append(
            f"variable frame rate: frame intervals "
            f"{intervals.min() * 1000:.0f}-{intervals.max() * 1000:.0f} ms (sampled by frame index)"
        )
    return {
        **row,
        "frames": count,
        "fps": round(fps, 3),
        "width": int(first[1]),
        "height": int(first[0]),
        "seconds": round(float(stamps[-1]) if len(stamps) else 0.0, 3),
        "notes": "; ".join(notes),
    }


def scan_videos(
    root: str | Path, workers: int = 4, decode_frames: int = 8, num_frames: int = 1
) -> pd.DataFrame:
    """One scan row per video file under ``root`` (names that are not AIST++ get status ``name``)."""
    try:
        videos = [str(p) for p in find_videos(Path(root))]
    except FileNotFoundError as err:
        raise DeepdanceError(str(err)) from None
    import decord

    # FFmpeg's per-packet complaints: the reasons are in the report
    decord.logging.set_level(decord.logging.QUIET)
    check = functools.partial(check_video, decode_frames=decode_frames, num_frames=num_frames)
    rows: list[tuple[str, dict[str, Any], None]] = []
    stop = StopOnSigterm("scan", "run the command again")
    stop.kept = lambda: f"nothing ({len(rows)} of {len(videos)} videos scanned, none written)"
    with stop:
        for probe in iter_probes(videos, workers, check=_as_probe(check)):
            rows.append(probe)
            check_stop()
    table = pd.DataFrame([row for _, row, _ in rows], columns=SCAN_COLUMNS)
    for i, path in enumerate(table["path"]):
        try:
            parse_aist_name(Path(path).name)
        except ValueError as err:
            if table.at[i, "status"] == "ok":
                table.at[i, "status"] = "name"
                table.at[i, "reason"] = f"left out of the manifest: {err}"
    return table


class _as_probe:
    """Adapt a row-returning check to ``iter_probes``' ``(path, value, reason)`` triples (picklable)."""

    def __init__(self, check: functools.partial) -> None:
        self.check = check

    def __call__(self, path: str) -> tuple[str, dict[str, Any], None]:
        return path, self.check(path), None
