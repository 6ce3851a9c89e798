"""The synthetic dataset on disk: AIST++-named mp4 files in a folder the generator owns.

Each dancer keeps one appearance in all videos; dancer ids are disjoint per genre as in
AIST++. Everything is deterministic from the seed, whatever the number of worker processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from deepdance.data.aist.names import GENRES, AistName
from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.synthetic.kinematics import dancer_tempo_factor
from deepdance.data.synthetic.renderer import render_dance
from deepdance.data.synthetic.settings import SyntheticConfig
from deepdance.data.video.writer import write_mp4

log = logging.getLogger(__name__)

MANIFEST_NAME = "synthetic.json"


@dataclass(frozen=True)
class VideoJob:
    """Everything needed to render and write one video: picklable for worker processes."""

    name: AistName
    dancer_seed: int
    rng_seed: int
    camera: int
    music: int
    tempo_factor: float = 1.0


def _derive_seed(*keys: int) -> int:
    """A 63-bit seed from integer keys, independent of process or iteration order."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def video_jobs(config: SyntheticConfig) -> list[VideoJob]:
    """One job per video. Dancer ids run genre by genre (d01-d05 BR, d06-d10 PO, ...)."""
    jobs = []
    for g, genre in enumerate(GENRES):
        for d in range(config.dancers_per_genre):
            dancer = g * config.dancers_per_genre + d + 1
            dancer_seed = _derive_seed(config.seed, dancer)
            tempo_factor = dancer_tempo_factor(dancer_seed, config.dancer_tempo)
            for m in range(config.musics):
                rng_seed = _derive_seed(config.seed, dancer, g, m)
                for c in range(1, config.cameras + 1):
                    name = AistName(
                        genre=genre,
                        situation="BM",
                        camera=f"{c:02d}",
                        dancer=f"{dancer:02d}",
                        music=f"{genre}{m}",
                        choreography="01",
                    )
                    jobs.append(VideoJob(name, dancer_seed, rng_seed, c, m, tempo_factor))
    return jobs


def _write_job(root: Path, config: SyntheticConfig, job: VideoJob) -> Path:
    frames = render_dance(
        job.name.genre,
        job.dancer_seed,
        job.camera,
        job.music,
        config.num_frames,
        config.fps,
        (config.size, config.frame_width),
        job.rng_seed,
        config.silhouette,
        job.tempo_factor,
    )
    path = root / job.name.filename()
    return write_mp4(path, frames, fps=config.fps, preset="veryfast", overwrite=False)


def _write_job_star(args: tuple[Path, SyntheticConfig, VideoJob]) -> Path:
    return _write_job(*args)


def _available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _init_worker() -> None:
    # one process per core already
    cv2.setNumThreads(1)


def _render_jobs(
    root: Path, config: SyntheticConfig, jobs: list[VideoJob], workers: int | None
) -> Iterator[Path]:
    """Render and write ``jobs`` under ``root`` (never over an existing file), yielding each path
    as it is written. ``workers`` processes (default: all cores) each render whole videos; the
    output does not depend on how many there are."""
    workers = max(1, min(workers or _available_cores(), len(jobs)))
    tasks = [(root, config, job) for job in jobs]
    if workers == 1:
        _init_worker()
        yield from map(_write_job_star, tasks)
        return
    # fork is unsafe once torch/OpenMP threads exist
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        yield from pool.map(_write_job_star, tasks, chunksize=max(1, len(tasks) // (8 * workers)))


def generate_dataset(
    root: str | Path, config: SyntheticConfig | None = None, workers: int | None = None
) -> list[Path]:
    """The paths of every video of ``config`` under ``root``, written where missing
    (``ensure_synthetic_dataset``: only into a folder the generator owns)."""
    config = config or SyntheticConfig()
    root = ensure_synthetic_dataset(root, config, workers)
    return [root / job.name.filename() for job in video_jobs(config)]


def _hint(root: Path) -> str:
    return (
        f"for real AIST++ videos use data=aist data.root={root}; "
        "for synthetic dancers give data.root an empty or new folder"
    )


def ensure_synthetic_dataset(
    root: str | Path, config: SyntheticConfig | None = None, workers: int | None = None
) -> Path:
    """Generate the dataset under ``root`` on first use and reuse it afterwards; return ``root``.

    ``root`` must be absent, empty of videos, or a folder this generator made: any video
    that ``synthetic.json`` does not list stops the run with one line, before anything is
    written (``deepdance.data.owned_folder``). The record holds the config and each file's
    size and SHA-256. Same config with every file present: nothing is written. Same config
    with files missing: only those are written. A different config (or generator version):
    the recorded files whose size and hash still match are deleted and all regenerated (a
    changed one stops the run, untouched). Other files in ``root`` are never touched.
    """
    config = config or SyntheticConfig()
    root = Path(root)
    folder = OwnedFolder(root, MANIFEST_NAME, _hint(root))
    with folder.claimed() as record:
        jobs = video_jobs(config)
        if record.files and record.config != config.to_json():
            log.info(
                "synthetic dataset in %s was made with %s; regenerating for %s",
                root,
                record.config,
                config.to_json(),
            )
            folder.remove_recorded(record)
        record.config = config.to_json()
        # written and recorded with its facts, or still to write
        missing = [job for job in jobs if record.files.get(job.name.filename()) is None]
        if not missing:
            log.info("reusing synthetic dataset in %s (%d videos)", root, len(jobs))
            folder.save(record)
            return root
        start = time.perf_counter()
        log.info("generating %d of %d synthetic videos in %s", len(missing), len(jobs), root)
        # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
        record.files.update({job.name.filename(): None for job in missing})
        folder.save(record)
        for path in _render_jobs(root, config, missing, workers):
            record.files[path.name] = file_facts(path)
        record.extra["seconds_to_generate"] = round(time.perf_counter() - start, 2)
        folder.save(record)
        log.info("wrote %d synthetic videos in %.1f s", len(missing), record.extra["seconds_to_generate"])
    return root
