"""The preview of ``python -m deepdance.silhouettes``: per video, the silhouette frames a run would
train on (the same ``data.*`` settings, read through the same cache), as ``<out>/<stem>.mp4`` and
a PNG strip ``<out>/<stem>.png``. Choosing a threshold rule, a threshold or the follow crop
needs the frames in front of one's eyes, not a training run.

Both show the dancer black on white, as the synthetic and generated dances do, so a preview
video is itself a silhouette video ``data.threshold_rule=fixed`` reads back to the same frames.

``out`` is a folder the command owns (``deepdance.data.owned_folder``): never a folder that
holds the input videos or lies inside a video folder (its previews would become training
videos of that folder), never one with videos it did not write; a file it wrote earlier is
replaced only while it is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepdance.data.owned_folder import OwnedFolder, Record, file_facts
from deepdance.data.video_out import out_apart
from deepdance.errors import DeepdanceError

if TYPE_CHECKING:
    from deepdance.config.data import SilhouetteDataConfig
    from deepdance.pose.estimator import PoseEstimator

RECORD = "silhouettes.json"
HINT = "give out= a new or empty folder of its own (e.g. out=previews/<name>)"
# a strip's frames are shown at least this tall (each pixel repeated), so small frames stay legible
STRIP_MIN_HEIGHT = 96


def check_out(videos: Sequence[Path], video: Path, out: Path) -> OwnedFolder:
    """Refuse, creating nothing, an ``out`` beside or above the input videos, inside a video folder,
    a file, or a folder holding videos it did not write; the owned folder otherwise."""
    target = out_apart(videos, out, HINT)
    source = video.expanduser().resolve()
    if source.is_dir() and source in target.parents:
        raise DeepdanceError(
            f"out={out}: lies inside video={video}, so its previews would be read as videos of that "
            f"folder; {HINT}"
        )
    folder = OwnedFolder(target, RECORD, HINT)
    folder.audit()
    return folder


def strip(frames: np.ndarray, count: int) -> np.ndarray:
    """(T, H, W) uint8 -> one row of ``count`` evenly spaced frames, 2 px gray between: (H', W')."""
    from deepdance.utils.media import frame_grid

    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    chosen = np.asarray(frames[picks])
    scale = max(1, int(np.ceil(STRIP_MIN_HEIGHT / chosen.shape[1])))
    return frame_grid([chosen.repeat(scale, axis=1).repeat(scale, axis=2)])


def _free(folder: OwnedFolder, record: Record, path: Path) -> None:
    """Make ``path``'s name free: delete the file there if this folder wrote it and it is unchanged."""
    if not path.exists():
        return
    facts = record.files.get(path.name)
    if facts is None or file_facts(path) != facts:
        why = "is not listed in" if path.name not in record.files else "was changed since it was listed in"
        listed = folder.record_path.name
        raise DeepdanceError(f"{path} {why} {listed}, so it is kept and not replaced; {HINT}")
    path.unlink()


def write_previews(
    videos: Sequence[Path],
    folder: OwnedFolder,
    data: SilhouetteDataConfig,
    strip_frames: int = 12,
    estimator: PoseEstimator | None = None,
) -> list[dict[str, Any]]:
    """Write every video's preview into ``folder``; per video: paths, frame count, size, rate and
    the mean fraction of the frame that is dancer."""
    from PIL import Image

    from deepdance.data.silhouette.cache import SilhouetteCache
    from deepdance.data.silhouette.preprocess import SilhouetteSettings, source_fps
    from deepdance.data.video.writer import write_mp4
    from deepdance.utils.cache_io import atomic_output

    settings = SilhouetteSettings.from_config(data.model_dump())
    cache = SilhouetteCache(data.cache_dir, estimator=estimator, pose_store=data.pose.store_dir)
    load, rate_of, config = cache.load, source_fps, settings.to_json()
    # data.source=annotations: the views of data.root's keypoint files, drawn, are the videos
    if data.source == "annotations":
        from deepdance.data.silhouette.motion import MotionSilhouettes

        motion = MotionSilhouettes(data)
        load, rate_of, config = motion.load, motion.rate, {**config, **motion.preprocessing()}
    written = []
    with folder.claimed() as record:
        record.config = config
        for video in videos:
            frames = load(video, settings)
            # black dancer on white, as every silhouette video of the project
            display = 255 - np.asarray(frames)
            rate = settings.fps or rate_of(video)
            mp4, png = folder.root / f"{video.stem}.mp4", folder.root / f"{video.stem}.png"
            for path in (mp4, png):
                _free(folder, record, path)
                record.files[path.name] = None
            # recorded as pending before they exist: a killed run leaves a folder still its own
            folder.save(record)
            write_mp4(mp4, display, fps=rate, pad_odd=True)
            with atomic_output(png, "wb", overwrite=False) as handle:
                Image.fromarray(strip(display, strip_frames)).save(handle, format="PNG", optimize=True)
            record.files.update({mp4.name: file_facts(mp4), png.name: file_facts(png)})
            folder.save(record)
            written.append(
                {
                    "video": str(video),
                    "mp4": str(mp4),
                    "png": str(png),
                    "frames": len(frames),
                    "size": [settings.height, settings.width],
                    "fps": rate,
                    "dancer": float(np.mean(frames) / 255.0),
                }
            )
    return written
