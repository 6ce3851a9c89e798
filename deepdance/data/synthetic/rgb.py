"""RGB renders of the synthetic dancers for the pose front end, with known joints and person masks.

The genre videos are drawn to be learnt from motion at 64-112 px (calm backgrounds, clothes in a
narrow range of shades, no face). A person detector needs something else: MediaPipe's BlazePose
finds people by their faces. So the same dancers, performances and cameras (``video_jobs``, the
same seeds and frame times) are drawn here at 256 px or more with a frontal face (skin, eyes with
pupils, brows, nose, mouth, ears, hair), clothing in any colour (long or short sleeves, trousers or
shorts) and one of ``BACKGROUNDS``. The geometry is the renderer's (``renderer.figure_layout``), so
the ground-truth keypoints are those of the exported annotations at the same size. The size only
scales the picture: a config differing from the genre videos' in ``size``/``width`` alone renders the
same dancers and performances, so a model trained on the annotations can be tested on these.

Written as AIST++-named mp4 files, one folder per background kind, each beside its
``<stem>.truth.npz`` (``load_truth``), in a folder this generator owns (``synthetic_rgb.json``).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.synthetic.annotations import coco_points, timestamps_us
from deepdance.data.synthetic.dataset import VideoJob, video_jobs
from deepdance.data.synthetic.renderer import (
    SUPERSAMPLE,
    _hsv_rgb,
    camera_view,
    dance_angles,
    figure_layout,
    pixel_points,
)
from deepdance.data.synthetic.rgb_person import RgbLook, draw_person
from deepdance.data.synthetic.settings import SyntheticConfig
from deepdance.data.video.writer import write_mp4
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_output

log = logging.getLogger(__name__)

RECORD_NAME = "synthetic_rgb.json"
# Bump when the RGB renders change for the same settings: stored folders then regenerate.
RGB_VERSION = 1
MIN_SIZE = 256
# plain light studio, textured noise, a gradient wall cluttered with shapes
BACKGROUNDS: tuple[str, ...] = ("studio", "texture", "clutter")
TRUTH_SUFFIX = ".truth.npz"


# --------------------------------------------------------------------------------------------
# Backgrounds (drawn at the supersampled size)
# --------------------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Noise in [0, 1] with about ``cells`` blobs across the frame (a random grid, upsampled)."""
    grid = rng.random((max(2, cells * height // width), max(2, cells)), dtype=np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def make_background(
    kind: str, rng: np.random.Generator, height: int, width: int, ground_y: int
) -> np.ndarray:
    """A (height, width, 3) uint8 background of ``kind`` (one of ``BACKGROUNDS``), floor from ``ground_y``."""
    if kind not in BACKGROUNDS:
        raise DeepdanceError(f"background {kind!r}: expected one of {', '.join(BACKGROUNDS)}")
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    if kind == "studio":
        # AIST-like: a light wall and a light floor, little texture
        wall = np.array(_hsv_rgb(rng, (0.0, 0.12), (0.75, 0.95)), np.float32)
        img = np.broadcast_to(wall * (0.93 + 0.07 * ys), (height, width, 3)).copy()
        floor = np.array(_hsv_rgb(rng, (0.0, 0.08), (0.85, 1.0)), np.float32)
        img[ground_y - int(0.03 * height) :] = floor
        img[ground_y - int(0.03 * height) : ground_y - int(0.025 * height)] *= 0.8
    elif kind == "texture":
        a, b = (np.array(_hsv_rgb(rng, (0.1, 0.8), (0.2, 0.95)), np.float32) for _ in range(2))
        mix = 0.55 * _smooth_noise(rng, height, width, 6) + 0.45 * _smooth_noise(rng, height, width, 40)
        img = a * mix[..., None] + b * (1 - mix[..., None])
        img += rng.normal(0, 12, (height, width, 1)).astype(np.float32)
    else:  # clutter: a gradient wall with furniture-like shapes, a darker floor
        top, bottom = (np.array(_hsv_rgb(rng, (0.0, 0.6), (0.3, 0.95)), np.float32) for _ in range(2))
        img = np.ascontiguousarray(np.broadcast_to(top * (1 - ys) + bottom * ys, (height, width, 3)))
        for _ in range(int(rng.integers(12, 30))):
            colour = _hsv_rgb(rng, (0.0, 0.9), (0.1, 1.0))
            x, y = int(rng.integers(width)), int(rng.integers(height))
            size = int(rng.uniform(0.03, 0.25) * height)
            shape = rng.integers(4)
            if shape == 0:
                cv2.rectangle(img, (x, y), (x + size, y + int(size * rng.uniform(0.3, 2))), colour, -1)
            elif shape == 1:
                cv2.circle(img, (x, y), size // 2, colour, -1, cv2.LINE_AA)
            elif shape == 2:
                end = (x + int(rng.integers(-size, size)), y + int(rng.integers(-size, size)))
                cv2.line(img, (x, y), end, colour, max(2, size // 10), cv2.LINE_AA)
            else:
                pts = (np.array([x, y]) + rng.integers(-size, size, (int(rng.integers(3, 6)), 2))).astype(
                    np.int32
                )
                cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
        img[ground_y:] *= rng.uniform(0.55, 0.8)
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Videos
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RgbRender:
    """One RGB video with its ground truth."""

    # (N, H, W, 3) uint8 RGB
    frames: np.ndarray
    # (N, 17, 3) float32: COCO-17 x, y in pixels (the annotations' points), confidence 1
    keypoints: np.ndarray
    # (N, H, W) bool: the dancer's pixels (at least half covered)
    masks: np.ndarray


def render_rgb(job: VideoJob, config: SyntheticConfig, background: str) -> RgbRender:
    """Render video ``job`` of ``config`` in RGB over a ``background`` of its kind, with ground truth.

    The dancer's performance and the camera's framing and drift are the genre video's
    (``render_dance``); the background is drawn from the video's own stream and its kind.
    """
    height, width = config.size, config.frame_width
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    n = config.num_frames
    angles = dance_angles(job.name.genre, job.music, job.rng_seed, job.tempo_factor, n, config.fps)
    _, framing, drift = camera_view(job.rng_seed, job.camera)
    look = RgbLook.sample(job.dancer_seed)
    points, px = figure_layout(angles, look.body, framing, height, width, drift)
    rng = np.random.default_rng([job.rng_seed, job.camera, BACKGROUNDS.index(background), 0xB9])
    scene = make_background(background, rng, sh, sw, int(framing.ground * sh))
    gain = rng.uniform(0.92, 1.08, 3)
    noise = rng.normal(0, 2.5, (n, height, width, 1)).astype(np.float32)
    frames = np.empty((n, height, width, 3), np.uint8)
    masks = np.empty((n, height, width), bool)
    mask_look = look.as_mask()
    for i in range(n):
        at = {name: p[i] for name, p in points.items()}
        canvas, silhouette = scene.copy(), np.zeros((sh, sw), np.uint8)
        draw_person(canvas, at, look, px)
        draw_person(silhouette, at, mask_look, px)
        small = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
        frames[i] = np.clip(small * gain + noise[i], 0, 255).astype(np.uint8)
        masks[i] = cv2.resize(silhouette, (width, height), interpolation=cv2.INTER_AREA) >= 128
    xy = coco_points(pixel_points(points)).astype(np.float32)
    keypoints = np.concatenate([xy, np.ones((*xy.shape[:-1], 1), np.float32)], axis=-1)
    return RgbRender(frames, keypoints, masks)


@dataclass(frozen=True)
class RgbTruth:
    """What ``<stem>.truth.npz`` holds."""

    keypoints: np.ndarray
    masks: np.ndarray
    timestamps: np.ndarray
    fps: float


def save_truth(path: Path, render: RgbRender, fps: float) -> Path:
    """Write the ground truth of one video atomically (never over an existing file); masks bit-packed."""
    with atomic_output(path, overwrite=False) as handle:
        np.savez_compressed(
            handle,
            keypoints=render.keypoints,
            masks=np.packbits(render.masks, axis=-1),
            mask_shape=np.array(render.masks.shape, np.int64),
            timestamps=timestamps_us(render.keypoints.shape[0], fps),
            fps=np.float64(fps),
        )
    return path


def load_truth(path: str | Path) -> RgbTruth:
    """The ground truth beside an RGB video: keypoints (N, 17, 3), masks (N, H, W), timestamps (N,) us."""
    with np.load(path, allow_pickle=False) as data:
        shape = tuple(int(v) for v in data["mask_shape"])
        masks = np.unpackbits(data["masks"], axis=-1, count=shape[-1]).astype(bool)
        return RgbTruth(data["keypoints"], masks, data["timestamps"], float(data["fps"]))


def truth_path(video: Path) -> Path:
    """Where the ground truth of ``video`` lies: beside it, ``<stem>.truth.npz``."""
    return video.with_name(video.stem + TRUTH_SUFFIX)


def _write_job(root: Path, config: SyntheticConfig, job: VideoJob, kind: str, files: tuple[str, ...]) -> None:
    render = render_rgb(job, config, kind)
    video = root / kind / job.name.filename()
    if video.relative_to(root).as_posix() in files:
        write_mp4(video, render.frames, fps=config.fps, preset="veryfast", overwrite=False)
    if truth_path(video).relative_to(root).as_posix() in files:
        save_truth(truth_path(video), render, config.fps)


def _write_job_star(args: tuple[Path, SyntheticConfig, VideoJob, str, tuple[str, ...]]) -> tuple[str, ...]:
    _write_job(*args)
    return args[-1]


def _run(
    tasks: list[tuple[Path, SyntheticConfig, VideoJob, str, tuple[str, ...]]], workers: int
) -> Iterator[tuple[str, ...]]:
    if workers <= 1:
        cv2.setNumThreads(1)
        yield from map(_write_job_star, tasks)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        yield from pool.map(_write_job_star, tasks)


def _files(kind: str, job: VideoJob) -> tuple[str, str]:
    video = f"{kind}/{job.name.filename()}"
    return video, f"{kind}/{job.name.filename(TRUTH_SUFFIX)}"


def write_rgb_videos(
    root: str | Path,
    config: SyntheticConfig,
    backgrounds: tuple[str, ...] | list[str] = BACKGROUNDS,
    workers: int = 1,
) -> list[Path]:
    """Write every video of ``config`` once per background kind, as ``root/<kind>/<AIST++ name>.mp4``
    with ``<stem>.truth.npz`` beside it; return the video paths.

    ``root`` is owned like the synthetic dataset's folder (``synthetic_rgb.json``): absent, empty
    of videos, or made here; generated once, files missing after an interruption written again,
    a new config or background list regenerates. ``config.size`` (the height) must be >= 256.
    """
    root = Path(root)
    if config.size < MIN_SIZE:
        raise DeepdanceError(f"RGB renders need size >= {MIN_SIZE} (the frame height), got {config.size}")
    unknown = [kind for kind in backgrounds if kind not in BACKGROUNDS]
    if unknown or not backgrounds:
        raise DeepdanceError(f"backgrounds {list(backgrounds)}: choose from {', '.join(BACKGROUNDS)}")
    settings = {"rgb_version": RGB_VERSION, **config.to_json(), "backgrounds": list(backgrounds)}
    hint = "for synthetic RGB renders give an empty or new folder"
    folder = OwnedFolder(root, RECORD_NAME, hint)
    jobs = video_jobs(config)
    with folder.claimed() as record:
        if record.files and record.config != settings:
            log.info("synthetic RGB renders in %s were made with %s; regenerating", root, record.config)
            folder.remove_recorded(record)
        record.config = settings
        tasks = []
        for kind in backgrounds:
            for job in jobs:
                missing = tuple(f for f in _files(kind, job) if record.files.get(f) is None)
                if missing:
                    blocked = [root / f for f in missing if (root / f).exists()]
                    if blocked:
                        raise DeepdanceError(
                            f"{blocked[0]} exists and {RECORD_NAME} does not list it; {hint}"
                        )
                    tasks.append((root, config, job, kind, missing))
        if tasks:
            start = time.perf_counter()
            log.info("rendering %d RGB videos in %s", len(tasks), root)
            # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
            record.files.update({f: None for task in tasks for f in task[-1]})
            folder.save(record)
            for written in _run(tasks, max(1, min(workers, len(tasks)))):
                record.files.update({f: file_facts(root / f) for f in written})
                folder.save(record)
            record.extra["seconds_to_generate"] = round(time.perf_counter() - start, 2)
        folder.save(record)
    return [root / kind / job.name.filename() for kind in backgrounds for job in jobs]
