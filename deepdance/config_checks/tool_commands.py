"""The checks of the tool commands: scan and download_aist (bench: ``deepdance.bench.config``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from omegaconf import DictConfig

from deepdance.config_checks.values import (
    _bad,
    boolean,
    existing_path,
    integer,
    wrapped,
)
from deepdance.errors import DeepdanceError


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing_path(cfg, "data.root", kind="any", hint="data.root=<the folder of videos to scan>")
    integer(cfg, "data.num_frames", low=1)
    integer(cfg, "workers", low=1)
    decode = integer(cfg, "decode_frames", low=-1)
    if decode == 0:
        raise _bad("decode_frames", decode, "-1 (every frame) or an integer >= 1")
    boolean(cfg, "fail_on_bad", default=True)


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
        wrapped("--situations", normalise_situations, args.situations)
    if args.cameras:
        wrapped("--cameras", normalise_cameras, args.cameras)
