"""The videos a benchmark runs on: AIST++-shaped stand-in sets, generated once by the one
stand-in writer (``deepdance.data.aist.standin``), or a user's folder."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from deepdance.bench.config import StandInSpec
from deepdance.data.aist import GENRES, VIDEO_SUFFIXES, AistName
from deepdance.data.aist.standin import write_standins
from deepdance.data.owned_folder import OwnedFolder
from deepdance.data.synthetic.dataset import VideoJob
from deepdance.errors import DeepdanceError

RECORD_NAME = "standins.json"


def bench_jobs(spec: StandInSpec) -> list[VideoJob]:
    """One dancer per video, one genre after another, with AIST++ names, so a set can also
    feed the genre data path."""
    jobs = []
    for i in range(spec.count):
        genre = GENRES[i % len(GENRES)]
        name = AistName(
            genre=genre,
            situation="BM",
            camera="01",
            dancer=f"{i + 1:02d}",
            music=f"{genre}0",
            choreography="01",
        )
        dancer_seed, rng_seed = (
            int(x) for x in np.random.default_rng([spec.seed, i, 0xBE]).integers(2**31, size=2)
        )
        jobs.append(VideoJob(name, dancer_seed, rng_seed, camera=1, music=0))
    return jobs


def ensure_standins(root: str | Path, spec: StandInSpec, workers: int = 1) -> list[Path]:
    """The set under ``root/spec.name``, written on first use and reused while the spec matches."""
    folder_path = Path(root) / spec.name
    hint = (
        f"bench.inputs_dir is for generated stand-ins (delete {folder_path} if an older deepdance "
        f"made it); to time your own videos use bench.videos={folder_path}"
    )
    folder = OwnedFolder(folder_path, RECORD_NAME, hint)
    return write_standins(folder, bench_jobs(spec), spec.format, {"set": spec.record()}, workers)


def find_bench_videos(folder: str | Path, limit: int | None = None) -> list[Path]:
    """Every video file under ``folder`` (sorted), or a clear error naming the folder."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DeepdanceError(
            f"bench.videos={folder}: not a directory (use 'synthetic' or a folder of video files)"
        )
    videos = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise DeepdanceError(
            f"bench.videos={folder}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))}) under it"
        )
    return videos[:limit] if limit else videos


def describe_videos(name: str, videos: list[Path]) -> dict:
    """What a reader needs to compare a set with AIST++: size, rate, length, GOP, bitrate, audio."""
    from deepdance.data.video import keyframe_indices, probe_video

    infos = [probe_video(path) for path in videos]
    gops, audio, bits, seconds = [], [], 0.0, 0.0
    for path, info in zip(videos, infos):
        keys = keyframe_indices(path)
        gops.append(float(np.diff(keys).mean()) if len(keys) > 1 else float(info.num_frames))
        try:
            with av.open(str(path)) as container:
                audio.append(any(s.type == "audio" for s in container.streams))
        except av.error.FFmpegError:
            audio.append(False)
        bits += path.stat().st_size * 8
        seconds += info.num_frames / info.fps
    return {
        "name": name,
        "videos": len(videos),
        "width": infos[0].width,
        "height": infos[0].height,
        "fps": float(np.mean([i.fps for i in infos])),
        "frames_per_video": float(np.mean([i.num_frames for i in infos])),
        "keyframe_interval": round(float(np.mean(gops)), 1),
        "bitrate_mbps": bits / seconds / 1e6,
        "audio": all(audio),
        "paths": [str(p) for p in videos],
    }
