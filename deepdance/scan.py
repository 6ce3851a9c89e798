"""Scan a video folder up front: which files a run would skip as bad, and why.

    python -m deepdance.scan data.root=/path/to/aist              # 8 frames decoded per video
    python -m deepdance.scan data.root=/path/to/aist decode_frames=-1 workers=8   # every frame

The run dir (``logs/scan/runs/<time>/``) gets ``scan.csv`` and ``bad_videos.csv``; exit code 1
when a bad video was found (``fail_on_bad=false`` for 0). The scan itself is
``deepdance.data.video.scan``; this module checks the config, writes the files and prints.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig

from deepdance.config.validate import validate_scan
from deepdance.data.video.bad_videos import REPORT_COLUMNS
from deepdance.data.video.scan import scan_videos
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.run import task_wrapper


def print_report(table: pd.DataFrame, out_dir: Path, seconds: float) -> None:
    """Summarise the scan for the user: counts per status and the videos that are bad or noted."""
    import rich
    from rich.table import Table

    counts = table["status"].value_counts()
    bad = table[table["status"] == "bad"]
    noted = table[table["notes"].fillna("") != ""]
    rich.print(
        f"[bold]{len(table)}[/bold] video files in {seconds:.1f} s: "
        f"{counts.get('ok', 0)} ok, [red]{counts.get('bad', 0)} bad[/red], {counts.get('name', 0)} "
        f"non-AIST++ names, "
        f"{len(noted)} with notes"
    )
    for title, rows, column in (
        ("bad videos (a run skips them: data.on_bad_video=skip)", bad, "reason"),
        ("notes (not bad)", noted, "notes"),
    ):
        if len(rows):
            view = Table(title=title, show_lines=False)
            view.add_column("file")
            view.add_column(column)
            for _, row in rows.iterrows():
                view.add_row(Path(row["path"]).name, str(row[column]))
            rich.print(view)
    rich.print(f"report: {out_dir / 'scan.csv'} and {out_dir / 'bad_videos.csv'}")


@task_wrapper
def scan(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check every video under data.root as a task, so bad files are found before training."""
    validate_scan(cfg)
    start = time.perf_counter()
    table = scan_videos(
        cfg.data.root,
        workers=int(cfg.workers),
        decode_frames=int(cfg.decode_frames),
        num_frames=int(cfg.data.num_frames),
    )
    out_dir = Path(cfg.paths.output_dir)
    atomic_write_text(out_dir / "scan.csv", table.to_csv(index=False))
    bad = table[table["status"] == "bad"].assign(stage="scan")[list(REPORT_COLUMNS)]
    atomic_write_text(out_dir / "bad_videos.csv", bad.to_csv(index=False))
    print_report(table, out_dir, time.perf_counter() - start)
    return {"videos": len(table), "bad": len(bad)}, {"table": table}


@hydra.main(version_base="1.3", config_path="../conf", config_name="scan")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; exits 1 when bad videos are found so scripts can stop on them."""
    counts, _ = scan(cfg)
    if counts["bad"] and cfg.get("fail_on_bad", True):
        sys.exit(1)


if __name__ == "__main__":
    main()
