"""Compare runs over seeds: group means with 95 % t-intervals, and a paired difference.

    python -m deepdance.report logs/train/multiruns/2026-12-02_09-00-00
    python -m deepdance.report RUNS... --pair "model.lr=0.01" "model.lr=0.001" --metrics test/acc
    python -m deepdance.report RUNS... --baselines _ridge --pair "(defaults) ridge" "(defaults)"

Runs are grouped by their overrides minus the seed; the files go to ``report/`` inside the
first directory (``--out`` for another). The work is ``deepdance.studies``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from deepdance.errors import DeepdanceError
from deepdance.studies import collect_runs, group_table, paired_table, split_baselines, write_report
from deepdance.studies.owned_dir import LEDGER
from deepdance.utils.run_info import run_record, tracked_folders_holding


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with every option documented in ``--help``."""
    parser = argparse.ArgumentParser(
        prog="python -m deepdance.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="RUN_OR_MULTIRUN_DIR")
    parser.add_argument("--out", type=Path, help="report folder (default: report/ in the first directory)")
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("GROUP_A", "GROUP_B"),
        help="paired difference B - A (repeat --pair for several pairs)",
    )
    parser.add_argument(
        "--baselines",
        type=_names,
        default=[],
        metavar="_S1,_S2",
        help="metric suffixes of in-run baselines (test/next_mse_ridge): each makes a group '<group> ridge'",
    )
    parser.add_argument(
        "--inputs",
        type=_names,
        default=[],
        metavar="KEY1,KEY2",
        help="override keys that name what a run reads, not its recipe (model.autoencoder_ckpt: "
        "each seed its own earlier run's checkpoint): left out of the group names, like the seed",
    )
    parser.add_argument(
        "--pool",
        type=_names,
        default=[],
        metavar="KEY1,KEY2",
        help="override keys whose values are repeats beside the seed (data.fold: folds x seeds): left "
        "out of the group names, and paired differences match them as well as the seed",
    )
    parser.add_argument("--metrics", type=_names, help="comma-separated metrics (default: all)")
    parser.add_argument(
        "--lower-is-better",
        type=_names,
        default=[],
        metavar="M1,M2",
        help="metrics where lower wins, whatever their name says",
    )
    parser.add_argument(
        "--higher-is-better",
        type=_names,
        default=[],
        metavar="M1,M2",
        help="metrics where higher wins, whatever their name says",
    )
    return parser.parse_args(argv)


def report(args: argparse.Namespace) -> list[Path]:
    """Collect the runs, check the asked metrics and pair exist, then write the report files."""
    runs = split_baselines(
        collect_runs(args.dirs, frozenset(args.inputs), frozenset(args.pool)), args.baselines
    )
    available = sorted(runs["metric"].unique())
    metrics = args.metrics or available
    unknown = [name for name in metrics if name not in available]
    if unknown:
        raise DeepdanceError(f"--metrics: unknown {unknown}; the summaries have {available}")
    for flag, names in (
        ("--lower-is-better", args.lower_is_better),
        ("--higher-is-better", args.higher_is_better),
    ):
        if set(names) - set(available):
            raise DeepdanceError(
                f"{flag}: unknown {sorted(set(names) - set(available))}; the summaries have {available}"
            )
    groups = group_table(runs, metrics)
    paired = None
    if args.pair:
        paired = pd.concat(
            [
                paired_table(runs, a, b, metrics, args.lower_is_better, args.higher_is_better)
                for a, b in args.pair
            ],
            ignore_index=True,
        )
    # the study's other reports (tracked folders with a report ledger) are regenerated outputs: a
    # study that rewrites several stays clean for each of them
    record = run_record(outputs=tracked_folders_holding(LEDGER), inputs=[str(path) for path in args.dirs])
    return write_report(args.out or args.dirs[0] / "report", groups, paired, record)


def main(argv: list[str] | None = None) -> None:
    """Parse, report, print the markdown; a user error is one ``error:`` line, exit code 2."""
    args = parse_args(argv)
    try:
        paths = report(args)
    except DeepdanceError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(paths[0].read_text())
    print("wrote " + ", ".join(str(path) for path in paths))


if __name__ == "__main__":
    main()
