"""The one stand-in video generator: synthetic dancers in AIST++'s container format.

Real AIST++ videos are 1920x1080 at 59.94 fps, H.264 with a key frame every 2 s and an AAC
audio track. A stand-in draws a synthetic dancer (``deepdance.data.synthetic``) small on a
static textured studio, upscales each frame and adds full-resolution grain, encodes with a
fixed GOP and muxes a beat track, so the codec does the same kind of work (a large intra
frame every GOP, then cheap predicted frames around a moving figure) and the file names are
those of the real database. ``make_standins`` writes a dancer-split set for the pipeline;
the benchmark (``deepdance.bench.inputs``) writes its timing sets with the same code.

    python -m deepdance.make_standins --root data/aist_standin --dancers-per-genre 4 --cameras 5 --seconds 3
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from deepdance.data.aist.standin_format import StandInFormat
from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.synthetic.dataset import SyntheticConfig, VideoJob, video_jobs
from deepdance.data.synthetic.kinematics import Performance, music_tempo
from deepdance.data.synthetic.renderer import SUPERSAMPLE, Appearance, camera_framing, render_frames
from deepdance.data.video.writer import new_video_file
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

# bump when the written files change for the same settings
STANDIN_VERSION = 3
RECORD_NAME = "standin.json"
AUDIO_RATE = 48_000
# AAC frame size
AUDIO_BLOCK = 1024
# frames rendered at a time: a 1080p clip never sits in memory whole
RENDER_CHUNK = 30


def _studio_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A static floor, wall and fine grain at supersampled size: detail for the intra frames."""
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    wall, floor = rng.integers(70, 200, 3), rng.integers(40, 160, 3)
    horizon = int(sh * rng.uniform(0.7, 0.8))
    canvas = np.empty((sh, sw, 3), dtype=np.float32)
    canvas[:horizon] = wall
    canvas[horizon:] = floor
    coarse = rng.normal(0.0, 18.0, (max(2, sh // 64), max(2, sw // 64), 3)).astype(np.float32)
    # soft light falloff, then a static texture
    canvas += cv2.resize(coarse, (sw, sh), interpolation=cv2.INTER_CUBIC)
    canvas += rng.normal(0.0, 6.0, (sh, sw, 1)).astype(np.float32)
    return canvas.clip(0, 255).astype(np.uint8)


def _camera_colours(rng: np.random.Generator) -> np.ndarray:
    """A per-camera colour lookup (white balance, exposure): exact colours then identify
    neither the dancer nor the video. Shape (256, 1, 3) for ``cv2.LUT``."""
    gain = rng.uniform(0.92, 1.08, 3) * rng.uniform(0.92, 1.08)
    return np.clip(np.arange(256)[:, None] * gain[None, :], 0, 255).astype(np.uint8)[:, None, :]


def _grain(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """+-5 grey levels at full size, split into a positive and a negative map for cv2's
    saturating add and subtract."""
    noise = np.repeat(rng.integers(-5, 6, (height, width, 1), dtype=np.int16), 3, axis=2)
    return noise.clip(0, None).astype(np.uint8), (-noise).clip(0, None).astype(np.uint8)


def standin_frames(job: VideoJob, fmt: StandInFormat) -> Iterator[np.ndarray]:
    """Yield the video's frames (H, W, 3) uint8 RGB, rendered ``RENDER_CHUNK`` at a time.

    The dancer (``job.dancer_seed``) and the performance (``job.rng_seed``) are the same
    whatever the camera, so several cameras film one sequence from several views.
    """
    genre = job.name.genre
    tempo = music_tempo(genre, job.music) * job.tempo_factor
    performance = Performance.sample(genre, tempo, np.random.default_rng([job.rng_seed, 0x5EC]))
    view_rng = np.random.default_rng([job.rng_seed, job.camera, 0xC0])
    framing = camera_framing(job.camera).jittered(view_rng)
    look = Appearance.sample(job.dancer_seed)
    scale = min(1.0, fmt.render_height / fmt.height)
    height, width = 2 * round(fmt.height * scale / 2), 2 * round(fmt.width * scale / 2)
    background = _studio_background(view_rng, height, width)
    colours = _camera_colours(view_rng)
    grain = _grain(view_rng, fmt.height, fmt.width) if scale < 1 else None
    times = np.arange(fmt.num_frames) / float(fmt.rate)
    for start in range(0, fmt.num_frames, RENDER_CHUNK):
        angles = performance.angles(times[start : start + RENDER_CHUNK])
        for frame in render_frames(angles, look, framing, height, width, background):
            frame = cv2.LUT(frame, colours)
            if grain is not None:
                frame = cv2.resize(frame, (fmt.width, fmt.height), interpolation=cv2.INTER_LINEAR)
                frame = cv2.subtract(cv2.add(frame, grain[0]), grain[1])
            yield frame


def beat_track(seconds: float, tempo_bpm: float, pitch_hz: float) -> np.ndarray:
    """Stereo float32 (2, N): a soft tone plus a click on every beat, like music with a pulse."""
    t = np.arange(int(round(seconds * AUDIO_RATE))) / AUDIO_RATE
    tone = 0.15 * np.sin(2 * np.pi * pitch_hz * t)
    beat = (t * tempo_bpm / 60.0) % 1.0
    click = 0.5 * np.exp(-beat * 40.0) * np.sin(2 * np.pi * 1800.0 * t)
    mono = (tone + click).astype(np.float32)
    return np.stack([mono, 0.9 * mono])


def _mux_audio(container: Any, stream: Any, samples: np.ndarray) -> None:
    for start in range(0, samples.shape[1], AUDIO_BLOCK):
        chunk = np.ascontiguousarray(samples[:, start : start + AUDIO_BLOCK])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def encode_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fmt: StandInFormat,
    audio: np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """libx264 with a fixed GOP (no scene-cut key frames), frames upscaled to the format's
    size, plus ``audio`` (2, N) as AAC; via a temporary file renamed when done."""
    options = {
        "crf": str(fmt.crf),
        "preset": fmt.preset,
        "x264-params": f"keyint={fmt.gop}:min-keyint={fmt.gop}:scenecut=0",
    }
    path = Path(path)
    with new_video_file(path, overwrite) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fmt.rate, options=options)
        video.width, video.height, video.pix_fmt = fmt.width, fmt.height, "yuv420p"
        sound = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if audio is not None else None
        for frame in frames:
            if frame.shape[:2] != (fmt.height, fmt.width):
                frame = cv2.resize(frame, (fmt.width, fmt.height), interpolation=cv2.INTER_LINEAR)
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in video.encode(picture):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            _mux_audio(container, sound, audio)
    return path


def write_video_with_audio(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    size: tuple[int, int] | None = None,
    tone_hz: float | None = 440.0,
    overwrite: bool = False,
) -> Path:
    """Encode frames already in hand (T, h, w, 3), upscaled to ``size`` = (H, W) if given,
    with a beat track at ``tone_hz`` (``None``: no audio). Tests use it for odd videos."""
    height, width = size or frames.shape[1:3]
    seconds = len(frames) / fps
    fmt = StandInFormat(width, height, fps, seconds, audio=tone_hz is not None, crf=23, preset="ultrafast")
    audio = beat_track(seconds, 120.0, tone_hz) if tone_hz else None
    return encode_video(path, frames, fmt, audio, overwrite)


def write_standin(path: str | Path, job: VideoJob, fmt: StandInFormat) -> Path:
    """Render and encode one stand-in; its pitch follows the music id, its clicks the tempo."""
    audio = None
    if fmt.audio:
        tempo = music_tempo(job.name.genre, job.music) * job.tempo_factor
        pitch = 220.0 * 2 ** ((zlib.crc32(job.name.music.encode()) % 12) / 12)
        audio = beat_track(fmt.num_frames / float(fmt.rate), tempo, pitch)
    return encode_video(path, standin_frames(job, fmt), fmt, audio)


def _write_job(args: tuple[Path, VideoJob, StandInFormat]) -> Path:
    cv2.setNumThreads(1)
    return write_standin(*args)


def _write_all(jobs: list[tuple[Path, VideoJob, StandInFormat]], workers: int | None) -> Iterator[Path]:
    """Write ``jobs`` on ``workers`` processes (default: every core), yielding each path."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    if workers == 1:
        yield from map(_write_job, jobs)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_write_job, jobs)


def write_standins(
    folder: OwnedFolder,
    jobs: list[VideoJob],
    fmt: StandInFormat,
    settings: dict[str, Any],
    workers: int | None = None,
) -> list[Path]:
    """Write the jobs' videos into ``folder`` on first use; reuse them while ``settings`` match.

    The folder is owned (``deepdance.data.owned_folder``): a video there that its record
    does not list stops the run before anything is written, and changed settings delete only
    recorded files whose size and hash still match.
    """
    wanted = {"version": STANDIN_VERSION, **settings, "format": asdict(fmt)}
    paths = [folder.root / job.name.filename() for job in jobs]
    with folder.claimed() as record:
        if record.files and record.config != wanted:
            log.info("stand-ins in %s were made with %s; regenerating", folder.root, record.config)
            folder.remove_recorded(record)
        record.config = wanted
        missing = [(path, job, fmt) for path, job in zip(paths, jobs) if record.files.get(path.name) is None]
        if missing:
            log.info(
                "writing %d stand-in video(s) %dx%d@%.2f fps, %.1f s each, in %s",
                *(len(missing), fmt.width, fmt.height, fmt.fps, fmt.seconds, folder.root),
            )
            # recorded before writing: an interrupted run leaves a folder the next run knows as its own
            record.files.update({path.name: None for path, _, _ in missing})
            folder.save(record)
            for path in _write_all(missing, workers):
                record.files[path.name] = file_facts(path)
        folder.save(record)
    return paths


def make_standin(
    root: str | Path,
    config: SyntheticConfig,
    fmt: StandInFormat,
    workers: int | None = None,
) -> list[Path]:
    """Write ``10 x dancers_per_genre x cameras x musics`` AIST++-named stand-ins under ``root``:
    the synthetic set's dancers, seeds and names (``config``) in the format ``fmt``."""
    root = Path(root)
    hint = f"for real AIST++ videos use data=aist data.root={root}; for stand-ins give an empty --root"
    folder = OwnedFolder(root, RECORD_NAME, hint)
    return write_standins(folder, video_jobs(config), fmt, {"config": config.to_json()}, workers)


def standin_format(**settings: Any) -> StandInFormat:
    """A ``StandInFormat``, or a one-line error naming what is wrong."""
    try:
        return StandInFormat(**settings)
    except (TypeError, ValueError) as err:
        raise DeepdanceError(f"stand-in format: {err}") from None
