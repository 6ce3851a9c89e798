"""Collect ``step_time.json`` of every job under a results dir into one markdown table.

    python experiments/precision/collect.py experiments/precision/results > results.md

Speed-up and memory are relative to the same experiment at precision 32 without compile.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def rows(results: Path) -> list[dict]:
    found = []
    for path in sorted(results.glob("*/*/step_time.json")):
        row = json.loads(path.read_text())
        row["experiment"] = path.parent.parent.name
        found.append(row)
    return found


def table(found: list[dict]) -> str:
    lines = ["| experiment | precision | compile | batch | step ms (median) | loop ms (median) | samples/s | peak GiB | speed-up | memory | warm-up s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in found:
        base = next((r for r in found if r["experiment"] == row["experiment"] and r["precision"] == "32-true" and not r["compile"]), None)
        speed = f"{base['step_ms_median'] / row['step_ms_median']:.2f}x" if base and row["step_ms_median"] else ""
        memory = f"{row['peak_memory_mib'] / base['peak_memory_mib']:.2f}" if base and row["peak_memory_mib"] else ""
        peak = f"{row['peak_memory_mib'] / 1024:.2f}" if row["peak_memory_mib"] else "n/a"
        lines.append(f"| {row['experiment']} | {row['precision']} | {row['compile']} | {row['batch_size']} | {row['step_ms_median']:.1f} | "
                     f"{row['loop_ms_median']:.1f} | {row['samples_per_s']:.1f} | {peak} | {speed} | {memory} | "
                     f"{row['warmup_ms_total'] / 1000:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/precision/results")
    found = rows(results)
    if not found:
        sys.exit(f"no step_time.json under {results}/*/*/: run experiments/precision/run_gpu.sh first")
    device = (results / "device.csv").read_text().splitlines()[-1] if (results / "device.csv").is_file() else found[0]["device"]
    print(f"Device: {device}\n")
    print(table(found))
