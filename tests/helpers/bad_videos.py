"""Real broken and awkward video files for the reliability tests, all with AIST++ names (genre
BR, dancers 90+) so that they enter a manifest beside the tiny synthetic dancers."""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from deepdance.data.video.writer import write_mp4


def aist(dancer: int) -> str:
    return f"gBR_sBM_c01_d{dancer:02d}_mBR0_ch01.mp4"


# kind -> file name; "bad" kinds must be skipped, the others are readable
BAD = {
    "truncated": aist(90),
    "zero_bytes": aist(91),
    "text": aist(92),
    "audio_only": aist(93),
    "corrupt_middle": aist(94),  # probes fine (header, first frame), fails mid-decode
    "unreadable": aist(95),  # chmod 000: bad unless we run as root
}
FINE = {"short": aist(96), "vfr": aist(97)}


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def noise_video(path: Path, frames: int = 60, size: int = 64, gop: int = 10) -> Path:
    """Random frames: every packet is large, so corrupting the middle hits real slice data."""
    rng = np.random.default_rng(0)
    return write_mp4(path, rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8), fps=15, gop=gop)


def ramp_frames(count: int, size: int = 64, step: int = 6) -> np.ndarray:
    """Frame i is uniformly grey level (i * step) % 256: decoding tells which frame it was."""
    return np.stack([np.full((size, size, 3), (i * step) % 256, np.uint8) for i in range(count)])


def write_vfr(path: Path, count: int = 40, size: int = 64) -> Path:
    """H.264 with alternating 70 ms / 20 ms frame intervals (pts in ms), frame i grey (i*6)."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30, options={"crf": "10"})
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i, image in enumerate(ramp_frames(count, size)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 20 if i % 2 else 70
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_audio_only(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_bad_videos(folder: Path, good_source: Path) -> dict[str, Path]:
    """Write every kind into ``folder``; ``good_source`` is any readable mp4 to truncate."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, name in {**BAD, **FINE}.items()}
    data = good_source.read_bytes()
    paths["truncated"].write_bytes(data[: len(data) // 2])  # moov atom (at the end) is lost
    paths["zero_bytes"].write_bytes(b"")
    paths["text"].write_text("this is a text file, not a video\n" * 20)
    write_audio_only(paths["audio_only"])
    noise_video(paths["corrupt_middle"])
    data = bytearray(paths["corrupt_middle"].read_bytes())
    # zero packets from 55 % to 85 % of the file: far enough from the first frame that decord's
    # decoding thread, which reads ahead while the probe decodes frame 0, does not reach them
    # (zeroing from 25 % on, it sometimes did, and the probe then failed instead of the decode)
    start, stop = int(len(data) * 0.55), int(len(data) * 0.85)
    data[start:stop] = bytes(stop - start)
    paths["corrupt_middle"].write_bytes(bytes(data))
    shutil.copy(good_source, paths["unreadable"])
    os.chmod(paths["unreadable"], 0)
    write_mp4(paths["short"], ramp_frames(3), fps=15)
    write_vfr(paths["vfr"])
    return paths


def expected_bad(paths: dict[str, Path]) -> dict[str, Path]:
    """The kinds a run must skip here (root reads chmod-000 files, so that one is fine as root)."""
    return {k: p for k, p in paths.items() if k in BAD and not (k == "unreadable" and running_as_root())}
