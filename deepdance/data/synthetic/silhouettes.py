"""The embedded default input: one long synthetic shadow dance, written as an mp4 on first use.

It is written as a real video and read back through decord like any user's file, so the
default run exercises exactly the path real inputs take (decoding, thresholding, caching).
The folder (``data.synthetic.dir``) is owned like the synthetic dancers' folder
(``deepdance.data.owned_folder``): a video there that ``synthetic.json`` does not list stops
the run before anything is written.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.synthetic.renderer import render_silhouettes
from deepdance.data.synthetic.settings import GENERATOR_VERSION
from deepdance.data.video.writer import write_mp4

if TYPE_CHECKING:
    from deepdance.config.data import SilhouetteSyntheticConfig

log = logging.getLogger(__name__)

RECORD_NAME = "synthetic.json"


def _hint(directory: Path) -> str:
    return (
        f"to train on these videos use data.root={directory} (data=silhouette) or data=deep_dance_clips; "
        "for the synthetic dance give data.synthetic.dir an empty or new folder"
    )


def ensure_synthetic_silhouettes(directory: str | Path, config: SilhouetteSyntheticConfig) -> Path:
    """Path of the synthetic silhouette video for these settings, rendering it if missing.

    The name holds every setting and the generator version, so a change makes a new file.
    One writer at a time (DDP ranks, parallel tests) under the folder's lock; the others
    then find the file.
    """
    num_frames, fps, height, width = config.num_frames, config.fps, config.height, config.width
    seed, genre = config.seed, config.genre
    directory = Path(directory)
    name = (
        f"silhouettes_v{GENERATOR_VERSION}_s{seed}_{genre or 'mix'}"
        f"_{num_frames}f_{fps:g}fps_{height}x{width}.mp4"
    )
    path = directory / name
    folder = OwnedFolder(directory, RECORD_NAME, _hint(directory))
    with folder.claimed() as record:
        if record.files.get(name) is not None:
            folder.save(record)
            return path
        start = time.perf_counter()
        frames = render_silhouettes(num_frames, height=height, width=width, fps=fps, seed=seed, genre=genre)
        # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
        record.files[name] = None
        folder.save(record)
        write_mp4(path, frames, fps=fps, crf=12, overwrite=False)
        record.files[name] = file_facts(path)
        folder.save(record)
        log.info(
            "rendered %d synthetic silhouette frames to %s in %.1f s",
            num_frames,
            path,
            time.perf_counter() - start,
        )
    return path
