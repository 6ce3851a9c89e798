"""Write AIST++ stand-in videos: synthetic dancers in the real videos' container format.

    python -m deepdance.make_standins --root data/aist_standin --dancers-per-genre 4 --cameras 5 --seconds 3

This module only parses the arguments and calls ``deepdance.data.aist.standin.make_standin``,
the one stand-in writer (the benchmark's sets use it too).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from deepdance.data.aist.standin import make_standin, standin_format
from deepdance.data.synthetic.dataset import SyntheticConfig
from deepdance.errors import DeepdanceError


def main(argv: list[str] | None = None) -> None:
    """Console entry point: write AIST++-shaped stand-in videos for runs without the real data."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--dancers-per-genre", type=int, default=4)
    parser.add_argument("--cameras", type=int, default=5)
    parser.add_argument("--musics", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--render-height", type=int, default=270, help="drawn this tall, then upscaled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        fmt = standin_format(
            width=args.width,
            height=args.height,
            fps=args.fps,
            seconds=args.seconds,
            crf=23,
            preset="ultrafast",
            render_height=args.render_height,
        )
        config = SyntheticConfig(
            seed=args.seed, dancers_per_genre=args.dancers_per_genre, cameras=args.cameras, musics=args.musics
        )
        paths = make_standin(args.root, config, fmt, workers=args.workers)
    except DeepdanceError as err:
        parser.exit(2, f"error: {err}\n")
    print(
        f"{len(paths)} stand-in videos ({args.width}x{args.height}, {args.fps} fps, {args.seconds} s, "
        f"H.264 + AAC) in {args.root} after {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
