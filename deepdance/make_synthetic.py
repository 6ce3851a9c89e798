"""Write the synthetic dancers' dataset (AIST++-named mp4 files) into a folder.

    python -m deepdance.make_synthetic --root data/synthetic --dancers-per-genre 5 --cameras 3
    # labelled silhouette dancers (what experiment=silhouette_genre generates on first use)
    python -m deepdance.make_synthetic --root data/silhouette_dancers --silhouette --dancer-tempo 0.1 \
        --dancers-per-genre 6 --cameras 2 --musics 2 --seconds 8 --fps 30 --size 120 --width 200
    # the same dancers' AIST++ annotation files (keypoints2d, keypoints3d, cameras) instead of videos
    python -m deepdance.make_synthetic --root data/synthetic_annotations --annotations
    # RGB renders with a face, 3 background kinds and ground truth, for the pose front end
    python -m deepdance.make_synthetic --root data/synthetic_rgb --rgb --size 256 --width 320

Training generates it on first use (``data=synthetic``); this command writes it ahead of time.
It only parses the arguments and calls ``deepdance.data.synthetic.ensure_synthetic_dataset``
(``ensure_synthetic_annotations`` with ``--annotations``, ``write_rgb_videos`` with ``--rgb``).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from deepdance.data.synthetic.dataset import SyntheticConfig, ensure_synthetic_dataset, video_jobs
from deepdance.errors import DeepdanceError


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser (its ``exit`` prints a refusal) and the arguments, ``--size`` filled in."""
    defaults = SyntheticConfig()
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--root", required=True, type=Path, help="directory for the mp4 files and synthetic.json"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--dancers-per-genre", type=int, default=defaults.dancers_per_genre)
    parser.add_argument("--cameras", type=int, default=defaults.cameras)
    parser.add_argument("--musics", type=int, default=defaults.musics)
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--fps", type=int, default=defaults.fps)
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"frame height (and width); default {defaults.size}, 256 with --rgb",
    )
    parser.add_argument("--width", type=int, default=defaults.width, help="frame width (default: --size)")
    parser.add_argument(
        "--silhouette", action="store_true", help="black dancer on white, no clothes or backgrounds"
    )
    parser.add_argument(
        "--dancer-tempo",
        type=float,
        default=defaults.dancer_tempo,
        help="spread of each dancer's own tempo factor (1 +- this; 0: every dancer on the music's tempo)",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--annotations",
        action="store_true",
        help="write these dancers' AIST++ annotation files (keypoints2d/3d, cameras) instead of the videos",
    )
    what.add_argument(
        "--rgb",
        action="store_true",
        help="write RGB renders (a face, clothing, backgrounds) with ground-truth keypoints and masks",
    )
    parser.add_argument(
        "--backgrounds",
        nargs="+",
        default=None,
        help="with --rgb: background kinds (default: studio texture clutter)",
    )
    args = parser.parse_args(argv)
    if args.size is None:
        args.size = 256 if args.rgb else defaults.size
    return parser, args


def synthetic_config(args: argparse.Namespace) -> SyntheticConfig:
    """The data set's settings from the arguments (a bad value raises ``DeepdanceError``)."""
    return SyntheticConfig(
        seed=args.seed,
        dancers_per_genre=args.dancers_per_genre,
        cameras=args.cameras,
        musics=args.musics,
        seconds=args.seconds,
        fps=args.fps,
        size=args.size,
        silhouette=args.silhouette,
        dancer_tempo=args.dancer_tempo,
        width=args.width,
    )


def write_annotations(args: argparse.Namespace, config: SyntheticConfig) -> None:
    """``--annotations``: the dancers' AIST++ annotation files instead of videos."""
    from deepdance.data.synthetic.annotations import ensure_synthetic_annotations, sequences

    root = ensure_synthetic_annotations(args.root, config)
    print(f"annotations of {len(sequences(config))} sequences in {root}")


def write_rgb(args: argparse.Namespace, config: SyntheticConfig) -> None:
    """``--rgb``: RGB renders with their ground truth, one folder per background kind."""
    from deepdance.data.synthetic.rgb import BACKGROUNDS, write_rgb_videos

    kinds = tuple(args.backgrounds or BACKGROUNDS)
    paths = write_rgb_videos(args.root, config, kinds, workers=args.workers or 1)
    print(f"{len(paths)} RGB videos with ground truth ({', '.join(kinds)}) in {args.root}")


def write_videos(args: argparse.Namespace, config: SyntheticConfig) -> None:
    """The default: the AIST++-named mp4 files and ``synthetic.json``, timed."""
    start = time.perf_counter()
    root = ensure_synthetic_dataset(args.root, config, args.workers)
    n = len(video_jobs(config))
    print(
        f"{n} videos ({config.num_frames} frames of {config.frame_width}x{config.size} at {config.fps} fps) "
        f"in {root} after {time.perf_counter() - start:.1f} s"
    )


def main(argv: list[str] | None = None) -> None:
    """Console entry point: write a synthetic dance data set whose labels are known by construction."""
    parser, args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    write = write_annotations if args.annotations else write_rgb if args.rgb else write_videos
    try:
        write(args, synthetic_config(args))
    except DeepdanceError as err:
        parser.exit(2, f"error: {err}\n")


if __name__ == "__main__":
    main()
