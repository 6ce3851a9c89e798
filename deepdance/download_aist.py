"""Download the AIST++ videos (the library: ``deepdance.data.aist.download``).

    python -m deepdance.download_aist --root data/aist --accept-terms --workers 8
    python -m deepdance.download_aist --root data/aist --genres BR PO --cameras 1 --situations BM \
        --max-videos 50

This module only parses and checks the arguments, then calls the library.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from deepdance.data.aist.download import (
    LIST_URL,
    SOURCE_URL,
    TERMS_URL,
    Outcome,
    download_all,
    read_list,
    select,
    to_source,
)
from deepdance.data.aist.names import GENRES, normalise_cameras, normalise_situations
from deepdance.errors import DeepdanceError

log = logging.getLogger("deepdance.download_aist")


def print_summary(outcomes: list[Outcome], root: Path) -> None:
    """Tell the user at the end how many videos were fetched, skipped or failed."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"AIST++ download into {root}")
    for column in ("status", "videos", "MB"):
        table.add_column(column, justify="left" if column == "status" else "right")
    for status in ("downloaded", "skipped", "failed"):
        chosen = [o for o in outcomes if o.status == status]
        table.add_row(
            status,
            str(len(chosen)),
            f"{sum(o.bytes for o in chosen) / 1e6:.1f}" if status == "downloaded" else "",
        )
    console.print(table)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        reasons = Table(title="failed downloads")
        reasons.add_column("video")
        reasons.add_column("reason")
        reasons.add_column("url")
        for outcome in failed:
            reasons.add_row(outcome.source.name, outcome.reason, outcome.source.url)
        console.print(reasons)


def accept_terms(accepted: bool) -> bool:
    """The AIST Dance DB Terms of Use step of the official downloader: ask, or take ``--accept-terms``."""
    if accepted:
        print(
            f"AIST Dance Video Database Terms of Use accepted with --accept-terms ({TERMS_URL})",
            file=sys.stderr,
        )
        return True
    message = (
        f"The AIST Dance Video Database may be used only under its Terms of Use:\n\n    {TERMS_URL}\n\n"
        "Read them before downloading."
    )
    if not sys.stdin or not sys.stdin.isatty():
        print(
            f"{message}\nerror: not a terminal, so nobody can answer; pass --accept-terms to accept them",
            file=sys.stderr,
        )
        return False
    answer = input(f"{message}\nDo you agree with the Terms of Use? [y/N] ").strip().lower()
    return answer in ("y", "yes")


class OneLineParser(argparse.ArgumentParser):
    """argparse whose mistakes end like every deepdance CLI's: ``error: ...``, exit code 2."""

    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options for the downloader; errors are one line (OneLineParser)."""
    parser = OneLineParser(
        prog="python -m deepdance.download_aist",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--root", required=True, type=Path, help="folder for the .mp4 files")
    parser.add_argument(
        "--list", default=LIST_URL, help="video list: URL or local file, one name or URL per line"
    )
    parser.add_argument(
        "--base-url", default=SOURCE_URL, help="prefix of names in the list (name + .mp4 is appended)"
    )
    parser.add_argument("--workers", type=int, default=8, help="parallel downloads")
    parser.add_argument("--retries", type=int, default=5, help="retries per video after the first attempt")
    parser.add_argument(
        "--backoff",
        type=float,
        default=1.0,
        help="urllib3 backoff factor: retry n>1 waits backoff * 2**(n-1) s",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds without data before a connection counts as dropped",
    )
    parser.add_argument("--genres", nargs="+", metavar="G", help=f"only these genres ({' '.join(GENRES)})")
    parser.add_argument("--situations", nargs="+", metavar="S", help="only these situations (BM FM ...)")
    parser.add_argument("--cameras", nargs="+", metavar="C", help="only these cameras (1 2 or c01 c02)")
    parser.add_argument(
        "--max-videos", type=int, default=None, help="at most this many videos (after the filters)"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip opening each file with decord")
    parser.add_argument(
        "--accept-terms", action="store_true", help=f"accept the AIST Dance DB Terms of Use ({TERMS_URL})"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code so tests can call it in-process."""
    from deepdance.config.download import validate_download_args

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        validate_download_args(args)
        genres = [g.upper() for g in args.genres] if args.genres else None
        unknown = sorted(set(genres or []) - set(GENRES))
        if unknown:
            raise ValueError(f"--genres: unknown genre(s) {unknown}; AIST++ genres are {' '.join(GENRES)}")
        situations = normalise_situations(args.situations) if args.situations else None
        cameras = normalise_cameras(args.cameras) if args.cameras else None
        if args.max_videos is not None and args.max_videos < 1:
            raise ValueError(f"--max-videos must be >= 1, got {args.max_videos}")
    except (DeepdanceError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not accept_terms(args.accept_terms):
        print("Terms of Use not accepted: nothing downloaded.", file=sys.stderr)
        return 2
    lines = read_list(args.list, timeout=args.timeout)
    sources = select(
        [to_source(line, args.base_url) for line in lines], genres, situations, cameras, args.max_videos
    )
    log.info("%d videos in the list, %d selected, into %s", len(lines), len(sources), args.root)
    outcomes = download_all(
        sources,
        args.root,
        args.workers,
        args.retries,
        args.timeout,
        args.backoff,
        verify=not args.no_verify,
        show_progress=not args.no_progress,
    )
    print_summary(outcomes, args.root)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
