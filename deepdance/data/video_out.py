"""The folder rule of the commands that write one output per input video (``silhouettes``,
``extract_poses``): each video has a name of its own, and ``out`` is a folder that holds none of
the videos. Both are refused in one line before anything is created."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deepdance.data.aist.names import find_videos
from deepdance.errors import DeepdanceError

NEVER_BESIDE = "deepdance never writes beside the input videos"


def videos_by_name(video: Path) -> list[Path]:
    """The videos ``video=`` names (a file, or every video under a folder), resolved; one line when
    there is none, or when two share a stem (``out`` holds one output per stem)."""
    try:
        videos = [path.resolve() for path in find_videos(video)]
    except FileNotFoundError as err:
        raise DeepdanceError(f"video={video}: {err}") from None
    stems: dict[str, Path] = {}
    for path in videos:
        if path.stem in stems:
            raise DeepdanceError(
                f"video={video}: {stems[path.stem]} and {path} share the name {path.stem!r}, and out= holds "
                "one output per name; give them one folder at a time"
            )
        stems[path.stem] = path
    return videos


def out_apart(videos: Sequence[Path], out: Path, hint: str) -> Path:
    """``out`` resolved; one line when it is a file, or a folder holding an input video at any depth."""
    target = out.expanduser().resolve()
    if target.is_file():
        raise DeepdanceError(f"out={out}: a file, not a folder; {hint}")
    inside = next((path for path in videos if path.resolve().is_relative_to(target)), None)
    if inside is not None:
        raise DeepdanceError(f"out={out}: holds the input video {inside}; {NEVER_BESIDE}: {hint}")
    return target
