"""Print the stand-in demonstration's numbers: epoch times (store vs decoding) and test metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def epoch_times(run_dir: Path) -> list[float]:
    metrics = pd.read_csv(run_dir / "csv" / "metrics.csv")
    return metrics["time/train_epoch_s"].dropna().tolist()


def main(out: Path) -> None:
    store, decode = epoch_times(out / "train_store"), epoch_times(out / "train_decode")
    steady = store[1:] or store  # the first epoch also starts the DataLoader workers
    print(f"store epochs (s):  {', '.join(f'{t:.2f}' for t in store)}")
    print(f"decode epoch (s):  {', '.join(f'{t:.2f}' for t in decode)}")
    print(f"decode / store:    {decode[0] / (sum(steady) / len(steady)):.0f}x (mean of store epochs 2..N), "
          f"{decode[0] / store[0]:.0f}x (store's first epoch)")
    report = json.loads((out / "extract" / "extract_report.json").read_text())
    print(f"extract: {report['total']} videos, {report['computed']} computed, {report['reused']} reused, {report['failed']} failed")
    summary = json.loads((out / "eval" / "summary.json").read_text())
    print({k: round(v, 3) for k, v in summary.items() if k.startswith("test/acc") and len(k) < 24})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
