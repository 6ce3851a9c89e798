"""The start-up check of ``extract_poses`` (called by ``deepdance.config.validate``): everything
that can be refused before a video is opened or a model loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepdance.config.base import parse
from deepdance.config.commands import ExtractPosesCommand
from deepdance.config.pose import PoseConfig
from deepdance.config.startup import existing
from deepdance.errors import DeepdanceError

NEVER_BESIDE = "deepdance never writes beside the input videos; choose another folder"


def check_extract_poses(
    command: ExtractPosesCommand, pose: Any
) -> tuple[ExtractPosesCommand, PoseConfig, list[Path]]:
    """The pose node, the videos named by ``video`` (listed, not opened), an ``out`` that holds
    none of them and none it did not write, one name per video stem, a store apart from the videos."""
    from deepdance.data.aist.names import find_videos
    from deepdance.pose.outputs import owned_out, planned_files, refuse_foreign

    config = parse(PoseConfig, pose or {}, "pose")
    source = existing(command.video, "video", hint="a video file or a folder of videos")
    try:
        videos = [v.resolve() for v in find_videos(source)]
    except FileNotFoundError as err:
        raise DeepdanceError(f"video={command.video}: {err}") from None
    out = Path(command.out).expanduser().resolve()
    if out.is_file():
        raise DeepdanceError(f"out={command.out}: a file, not a folder")
    inside = [v for v in videos if v.is_relative_to(out)]
    if inside:
        raise DeepdanceError(f"out={command.out}: holds the input video {inside[0]}; {NEVER_BESIDE}")
    store = Path(config.store_dir).expanduser().resolve()
    beside = [v for v in videos if v.parent == store]
    if beside:
        raise DeepdanceError(
            f"pose.store_dir={config.store_dir}: the folder of {beside[0].name}; {NEVER_BESIDE}"
        )
    seen: dict[str, Path] = {}
    for video in videos:
        if video.stem in seen:
            raise DeepdanceError(
                f"video={command.video}: {seen[video.stem]} and {video} share the name {video.stem!r}, "
                "and out= holds one file per name; extract them into two folders"
            )
        seen[video.stem] = video
    folder = owned_out(out)
    refuse_foreign(folder, folder.audit(), planned_files(sorted(seen), command.format, config.masks))
    return command, config, videos
