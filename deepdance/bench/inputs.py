"""The videos a benchmark runs on: AIST++-shaped stand-ins, generated once, or a user's folder.

AIST++ videos are 1920x1080 at 59.94 fps, H.264 with a key frame every 2 s, about 10 s
long, with an audio track: their decode cost is what made the original notebook stop at
~1,000 videos. The stand-ins copy that shape (size, rate, GOP, length, AAC audio) with a
synthetic dancer on a static textured studio background, so the codec does the same kind of
work: a large intra frame every GOP, then cheap predicted frames around a moving figure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from deepdance.data.aist import GENRES, VIDEO_SUFFIXES, AistName
from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.synthetic.kinematics import Performance, music_tempo
from deepdance.data.synthetic.renderer import SUPERSAMPLE, Appearance, camera_framing, render_frames
from deepdance.data.video.writer import new_video_file
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

# bump when the written files change for the same spec
INPUTS_VERSION = 2
# draw at most this tall, upscale, then add full-resolution grain: 4x cheaper at 1080p
RENDER_MAX_HEIGHT = 540
MANIFEST_NAME = "standins.json"
AUDIO_RATE = 48_000
# frames rendered at a time: a 1080p clip never sits in memory whole
RENDER_CHUNK = 30


@dataclass(frozen=True)
class StandInSpec:
    """One set of generated videos. ``gop_seconds`` sets a fixed key-frame interval."""

    name: str
    count: int = 4
    width: int = 1920
    height: int = 1080
    fps: float = 59.94
    seconds: float = 10.0
    gop_seconds: float = 2.0
    audio: bool = True
    crf: int = 20
    preset: str = "medium"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise DeepdanceError(f"bench.inputs.{self.name}.count must be >= 1, got {self.count}")
        if self.width % 2 or self.height % 2 or min(self.width, self.height) < 32:
            raise DeepdanceError(
                f"bench.inputs.{self.name}: width and height must be even and >= 32 (H.264 yuv420p), got "
                f"{self.width}x{self.height}"
            )
        if self.fps <= 0 or self.seconds <= 0 or self.gop_seconds <= 0:
            raise DeepdanceError(f"bench.inputs.{self.name}: fps, seconds and gop_seconds must be positive")

    @property
    def num_frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    @property
    def gop(self) -> int:
        return max(1, round(self.gop_seconds * self.fps))

    @property
    def rate(self) -> Fraction:
        # 59.94 -> 60000/1001, as cameras write it
        return Fraction(self.fps).limit_denominator(1001)

    def filenames(self) -> list[str]:
        """AIST++-style names, one genre after another, so a set can also feed the genre data path."""
        names = []
        for i in range(self.count):
            genre = GENRES[i % len(GENRES)]
            dancer = f"{i + 1:02d}"
            names.append(
                AistName(
                    genre=genre,
                    situation="BM",
                    camera="01",
                    dancer=dancer,
                    music=f"{genre}0",
                    choreography="01",
                ).filename()
            )
        return names


def _studio_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A static floor, wall and fine grain at supersampled size: detail for the intra frames."""
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    wall, floor = rng.integers(70, 200, 3), rng.integers(40, 160, 3)
    horizon = int(sh * rng.uniform(0.7, 0.8))
    canvas = np.empty((sh, sw, 3), dtype=np.float32)
    canvas[:horizon] = wall
    canvas[horizon:] = floor
    coarse = rng.normal(0.0, 18.0, (max(2, sh // 64), max(2, sw // 64), 3)).astype(np.float32)
    canvas += cv2.resize(coarse, (sw, sh), interpolation=cv2.INTER_CUBIC)  # soft light falloff
    canvas += rng.normal(0.0, 6.0, (sh, sw, 1)).astype(np.float32)  # static texture
    return canvas.clip(0, 255).astype(np.uint8)


def _frames(spec: StandInSpec, index: int) -> Iterator[np.ndarray]:
    """Yield the video's frames (H, W, 3) uint8 RGB, rendered RENDER_CHUNK at a time.

    Large sizes are drawn at RENDER_MAX_HEIGHT and upscaled (drawing a 1080p dancer at the
    renderer's 2x supersampling costs ~0.1 s a frame), then a static full-resolution grain
    gives the intra frames real 1080p detail to code.
    """
    rng = np.random.default_rng([spec.seed, index, 0xBE])
    genre = GENRES[index % len(GENRES)]
    performance = Performance.sample(genre, music_tempo(genre, 0), rng)
    look = Appearance.sample(int(rng.integers(2**31)))
    framing = camera_framing(1).jittered(rng)
    scale = min(1.0, RENDER_MAX_HEIGHT / spec.height)
    height, width = 2 * round(spec.height * scale / 2), 2 * round(spec.width * scale / 2)
    background = _studio_background(rng, height, width)
    grain = None
    # +-5 grey levels, split into a positive and a negative map for cv2's saturating add/subtract
    if scale < 1:
        noise = np.repeat(rng.integers(-5, 6, (spec.height, spec.width, 1), dtype=np.int16), 3, axis=2)
        grain = (noise.clip(0, None).astype(np.uint8), (-noise).clip(0, None).astype(np.uint8))
    times = np.arange(spec.num_frames) / float(spec.rate)
    for start in range(0, spec.num_frames, RENDER_CHUNK):
        angles = performance.angles(times[start : start + RENDER_CHUNK])
        for frame in render_frames(angles, look, framing, height, width, background):
            if grain is not None:
                frame = cv2.resize(frame, (spec.width, spec.height), interpolation=cv2.INTER_LINEAR)
                frame = cv2.subtract(cv2.add(frame, grain[0]), grain[1])
            yield frame


def _click_track(seconds: float, tempo_bpm: float, seed: int) -> np.ndarray:
    """Stereo float32 (2, N): a soft tone plus a click on every beat, like music with a pulse."""
    n = int(round(seconds * AUDIO_RATE))
    t = np.arange(n) / AUDIO_RATE
    tone = 0.15 * np.sin(2 * np.pi * (220.0 + 20 * (seed % 7)) * t)
    beat = (t * tempo_bpm / 60.0) % 1.0
    click = 0.5 * np.exp(-beat * 40.0) * np.sin(2 * np.pi * 1800.0 * t)
    mono = (tone + click).astype(np.float32)
    return np.stack([mono, 0.9 * mono])


def write_standin(path: Path, spec: StandInSpec, index: int) -> Path:
    """Encode one stand-in: libx264 with a fixed GOP (no scene-cut key frames) and AAC audio."""
    options = {
        "crf": str(spec.crf),
        "preset": spec.preset,
        "x264-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0",
    }
    with new_video_file(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=spec.rate, options=options)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if spec.audio else None
        for frame in _frames(spec, index):
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            genre = GENRES[index % len(GENRES)]
            samples = _click_track(spec.num_frames / float(spec.rate), music_tempo(genre, 0), index)
            # AAC frame size
            block = 1024
            for start in range(0, samples.shape[1], block):
                chunk = np.ascontiguousarray(samples[:, start : start + block])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = AUDIO_RATE, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


def _write_star(args: tuple[Path, StandInSpec, int]) -> Path:
    cv2.setNumThreads(1)
    return write_standin(*args)


def _write_all(jobs: list[tuple[Path, StandInSpec, int]], workers: int) -> Iterator[Path]:
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
            yield from pool.map(_write_star, jobs)
    else:
        yield from map(_write_star, jobs)


def ensure_standins(root: str | Path, spec: StandInSpec, workers: int = 1) -> list[Path]:
    """Generate the set under ``root/spec.name`` on first use; reuse it while the spec matches.

    The folder is owned (``deepdance.data.owned_folder``, record ``standins.json``): a video
    there that the record does not list stops the run before anything is written, and a
    changed spec deletes only recorded files whose size and hash still match.
    """
    folder_path = Path(root) / spec.name
    hint = (
        f"bench.inputs_dir is for generated stand-ins (delete {folder_path} if an older deepdance "
        f"made it); to time your own videos use bench.videos={folder_path}"
    )
    folder = OwnedFolder(folder_path, MANIFEST_NAME, hint)
    wanted = {"version": INPUTS_VERSION, **asdict(spec)}
    paths = [folder_path / name for name in spec.filenames()]
    with folder.claimed() as record:
        if record.files and record.config != wanted:
            log.info("stand-ins in %s were made with %s; regenerating", folder_path, record.config)
            folder.remove_recorded(record)
        record.config = wanted
        missing = [(path, spec, i) for i, path in enumerate(paths) if record.files.get(path.name) is None]
        if missing:
            log.info(
                "generating %d stand-in video(s) %dx%d@%.2f fps, %.0f s each, in %s (cached afterwards)",
                len(missing),
                spec.width,
                spec.height,
                spec.fps,
                spec.seconds,
                folder_path,
            )
            # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
            record.files.update({path.name: None for path, _, _ in missing})
            folder.save(record)
            for path in _write_all(missing, workers):
                record.files[path.name] = file_facts(path)
        folder.save(record)
    return paths


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
