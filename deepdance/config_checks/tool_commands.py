"""The checks of the tool commands: scan, bench and download_aist."""

from __future__ import annotations

import argparse
from pathlib import Path

from omegaconf import DictConfig

from deepdance.config_checks.values import (
    _bad,
    boolean,
    choice,
    existing_path,
    int_list,
    integer,
    number,
    setting,
    text,
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


def validate_bench(cfg: DictConfig) -> None:
    """``python -m deepdance.bench``: inputs, backbone, sizes and repeats."""
    import timm

    from deepdance.bench.inputs import StandInSpec
    from deepdance.data.genre.datamodule import SAMPLINGS

    videos = setting(cfg, "bench.videos")
    inputs = setting(cfg, "bench.inputs", default={}) or {}
    if str(videos) == "synthetic":
        sets = setting(cfg, "bench.sets")
        if not isinstance(sets, list) or not sets or not all(s in inputs for s in sets):
            raise _bad("bench.sets", sets, "a non-empty list of stand-in sets: " + ", ".join(inputs))
        for name in sets:
            spec = {"name": str(name), **(inputs[name] or {})}
            wrapped(f"bench.inputs.{name}", StandInSpec, **spec)
    else:
        # the runner's own wording (deepdance/bench/inputs.py), said before anything is measured
        if not Path(str(videos)).expanduser().is_dir():
            raise DeepdanceError(
                f"bench.videos={videos}: not a directory (use 'synthetic' or a folder of video files)"
            )
    integer(cfg, "bench.limit", low=1, optional=True, default=None)
    integer(cfg, "bench.generate_workers", low=1, default=1)
    name = text(cfg, "bench.backbone.name")
    if not timm.is_model(name):
        raise _bad("bench.backbone.name", name, "a timm model name (see timm.list_models())")
    boolean(cfg, "bench.backbone.pretrained", default=False)
    existing_path(cfg, "bench.backbone.weights", kind="file", optional=True, default=None)
    integer(cfg, "bench.img_size", low=16)
    integer(cfg, "bench.num_frames", low=1)
    samplings = setting(cfg, "bench.samplings")
    if not isinstance(samplings, list) or "exact" not in samplings or not set(samplings) <= set(SAMPLINGS):
        raise _bad("bench.samplings", samplings, "a list of " + ", ".join(SAMPLINGS) + " that includes exact")
    boolean(cfg, "bench.channels_last", default=True)
    # median, min and max need at least three runs
    integer(cfg, "bench.repeats", low=3)
    integer(cfg, "bench.warmup", low=0)
    device = setting(cfg, "bench.device", default="auto")
    if not isinstance(device, str) or not (device in ("auto", "cpu", "cuda") or device.startswith("cuda:")):
        raise _bad("bench.device", device, "auto, cpu, cuda or cuda:N")
    for kind in setting(cfg, "bench.profiles", default={}) or {}:
        integer(cfg, f"bench.profiles.{kind}.batch_videos", low=1)
        integer(cfg, f"bench.profiles.{kind}.num_workers", low=0)
        choice(cfg, f"bench.profiles.{kind}.precision", ("fp32", "bf16"), default="fp32")
        int_list(cfg, f"bench.profiles.{kind}.model_batch_sizes")
    integer(cfg, "bench.training.batch_size", low=1)
    # the first epoch, then at least one steady-state epoch
    integer(cfg, "bench.training.epochs", low=2, default=3)
    training_set = setting(cfg, "bench.training.set", default=None)
    if (
        training_set is not None
        and str(videos) == "synthetic"
        and training_set not in setting(cfg, "bench.sets")
    ):
        raise _bad("bench.training.set", training_set, "null or one of bench.sets")
    int_list(cfg, "bench.training.head.gru_sizes")
    number(cfg, "bench.training.head.dropout", low=0, high=1, high_open=True, default=0.4)
    for key in ("height", "width", "batch_size", "look_back"):
        integer(cfg, f"bench.generator.{key}", low=1)
    for key in ("seconds", "output_fps", "model_fps", "playback_fps"):
        number(cfg, f"bench.generator.{key}", low=0, low_open=True)


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
