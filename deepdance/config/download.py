"""``python -m deepdance.download_aist``: the arguments argparse cannot check alone (an argparse
CLI, so no schema of a Hydra group), each refused in one line naming the flag."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from deepdance.errors import DeepdanceError


def _views(flag: str, normalise: Callable[[list[str]], list[str]], values: list[str]) -> None:
    try:
        normalise(values)
    except ValueError as err:
        raise DeepdanceError(f"{flag}: {err}") from None


def validate_download_args(args: argparse.Namespace) -> None:
    """``python -m deepdance.download_aist``: the arguments argparse cannot check alone."""
    from deepdance.data.aist import GENRES, normalise_cameras, normalise_situations

    root = Path(args.root).expanduser()
    if root.exists() and not root.is_dir():
        raise DeepdanceError(
            f"--root {args.root}: a file, not a folder; expected a folder for the .mp4 files"
        )
    location = str(args.list)
    if ("://" not in location or location.startswith("file://")) and not Path(
        location.removeprefix("file://")
    ).expanduser().is_file():
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
    if args.backoff < 0:
        raise DeepdanceError(f"--backoff {args.backoff}: expected a number of seconds >= 0")
    if args.timeout <= 0:
        raise DeepdanceError(f"--timeout {args.timeout}: expected a number of seconds > 0")
    unknown = sorted({g.upper() for g in args.genres or []} - set(GENRES))
    if unknown:
        raise DeepdanceError(
            f"--genres {' '.join(unknown)}: unknown genre; expected any of {' '.join(GENRES)}"
        )
    if args.situations:
        _views("--situations", normalise_situations, args.situations)
    if args.cameras:
        _views("--cameras", normalise_cameras, args.cameras)
