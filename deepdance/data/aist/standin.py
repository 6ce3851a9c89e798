"""A generated stand-in for AIST++ files: synthetic dancers in the real videos' container format.

Real AIST++ videos are 1920x1080 at 59.94 fps, H.264 with an AAC audio track. The stand-in
renders the synthetic dancers (``deepdance.data.synthetic``) small, upscales every frame to the
target size while encoding, and muxes a tone whose pitch depends on the music id, so the
decoding cost, the audio stream and the file names are those of the real database and the
whole pipeline (download verification, feature extraction, training, prediction) runs on it.

    python -m deepdance.make_standins --root data/aist_standin --dancers-per-genre 4 --cameras 5 --seconds 3
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.video.writer import new_video_file

log = logging.getLogger(__name__)

AUDIO_RATE = 44100
RECORD_NAME = "standin.json"


def write_video_with_audio(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    size: tuple[int, int] | None = None,
    tone_hz: float | None = 440.0,
    crf: int = 23,
    preset: str = "ultrafast",
    overwrite: bool = False,
) -> Path:
    """Encode RGB ``frames`` (T, h, w, 3) as H.264 (upscaled to ``size`` = (H, W) if given) with an
    AAC stereo tone track (``tone_hz=None``: no audio), via a temporary file renamed when done;
    an existing ``path`` is a one-line error unless ``overwrite``."""
    path = Path(path)
    height, width = size or frames.shape[1:3]
    with new_video_file(path, overwrite) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        rate = Fraction(fps).limit_denominator(1001)
        video = container.add_stream("libx264", rate=rate, options={"crf": str(crf), "preset": preset})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE) if tone_hz else None
        if audio is not None:
            audio.layout = "stereo"
        for frame in frames:
            if frame.shape[:2] != (height, width):
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in video.encode(picture):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            samples = round(len(frames) / fps * AUDIO_RATE)
            t = np.arange(samples) / AUDIO_RATE
            tone = (0.2 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                # (2, n) planar stereo
                chunk = np.stack([tone[start : start + 1024]] * 2)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = AUDIO_RATE, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


def _render_job(args: tuple) -> str:
    root, job, seconds, fps, render_size, size = args
    from deepdance.data.synthetic.renderer import render_dance

    cv2.setNumThreads(1)
    path = Path(root) / job.name.filename()
    num_frames = max(1, round(seconds * fps))
    frames = render_dance(
        job.name.genre, job.dancer_seed, job.camera, job.music, num_frames, fps, render_size, job.rng_seed
    )
    # one pitch per music id
    tone = 220.0 * 2 ** ((zlib.crc32(job.name.music.encode()) % 12) / 12)
    write_video_with_audio(path, frames, fps, size=size, tone_hz=tone)
    return str(path)


def _render_all(jobs: list[tuple], workers: int | None) -> Iterator[Path]:
    """Render ``jobs`` on ``workers`` processes, yielding each written path."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    if workers == 1:
        yield from map(Path, map(_render_job, jobs))
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from map(Path, pool.map(_render_job, jobs))


def make_standin(
    root: str | Path,
    dancers_per_genre: int = 4,
    cameras: int = 5,
    musics: int = 1,
    seconds: float = 3.0,
    fps: float = 60.0,
    size: tuple[int, int] = (1080, 1920),
    render_size: tuple[int, int] = (270, 480),
    seed: int = 0,
    workers: int | None = None,
) -> list[Path]:
    """Write ``10 x dancers_per_genre x cameras x musics`` AIST++-named stand-in videos.

    ``root`` is owned like the synthetic dancers' folder (``deepdance.data.owned_folder``,
    record ``standin.json``): a video there that the record does not list stops the run
    before anything is written; recorded files of these settings are kept, others of
    earlier settings are deleted only if unchanged.
    """
    from deepdance.data.synthetic.dataset import SyntheticConfig, video_jobs

    config = SyntheticConfig(
        seed=seed,
        dancers_per_genre=dancers_per_genre,
        cameras=cameras,
        musics=musics,
        seconds=seconds,
        fps=round(fps),
        size=64,
    )
    settings = {"config": config.to_json(), "fps": fps, "size": list(size), "render_size": list(render_size)}
    root = Path(root)
    hint = f"for real AIST++ videos use data=aist data.root={root}; for stand-ins give an empty --root"
    folder = OwnedFolder(root, RECORD_NAME, hint)
    paths = [root / job.name.filename() for job in video_jobs(config)]
    with folder.claimed() as record:
        if record.files and record.config != settings:
            folder.remove_recorded(record)
        record.config = settings
        jobs = [
            (str(root), job, seconds, fps, render_size, size)
            for job in video_jobs(config)
            if record.files.get(job.name.filename()) is None
        ]
        record.files.update({job[1].name.filename(): None for job in jobs})
        folder.save(record)
        for path in _render_all(jobs, workers):
            record.files[path.name] = file_facts(path)
        folder.save(record)
    return paths
