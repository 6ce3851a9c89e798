"""``python -m deepdance.download_aist``: the arguments argparse cannot check alone (an argparse
CLI: no Hydra group, so no schema), each refused in one line naming the flag."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepdance.errors import DeepdanceError


def validate_download_args(args: argparse.Namespace) -> None:
    """A folder for the videos, a list to read, counts and seconds in range, known AIST++ names."""
    from deepdance.data.aist import GENRES, normalise_cameras, normalise_situations

    if Path(args.root).expanduser().exists() and not Path(args.root).expanduser().is_dir():
        raise DeepdanceError(
            f"--root {args.root}: a file, not a folder; expected a folder for the .mp4 files"
        )
    local = str(args.list).removeprefix("file://")
    if "://" not in local and not Path(local).expanduser().is_file():
        raise DeepdanceError(
            f"--list {args.list}: no such file; expected a URL or a local file of video names"
        )
    for flag, value, low in (
        ("--workers", args.workers, 1),
        ("--retries", args.retries, 0),
        ("--max-videos", args.max_videos, 1),
    ):
        if value is not None and value < low:
            raise DeepdanceError(f"{flag} {value}: expected an integer >= {low}")
    for flag, value, bound, ok in (
        ("--backoff", args.backoff, ">= 0", args.backoff >= 0),
        ("--timeout", args.timeout, "> 0", args.timeout > 0),
    ):
        if not ok:
            raise DeepdanceError(f"{flag} {value}: expected a number of seconds {bound}")
    unknown = sorted({g.upper() for g in args.genres or []} - set(GENRES))
    if unknown:
        raise DeepdanceError(
            f"--genres {' '.join(unknown)}: unknown genre; expected any of {' '.join(GENRES)}"
        )
    for flag, values, normalise in (
        ("--situations", args.situations, normalise_situations),
        ("--cameras", args.cameras, normalise_cameras),
    ):
        try:
            normalise(values or [])
        except ValueError as err:
            raise DeepdanceError(f"{flag}: {err}") from None
