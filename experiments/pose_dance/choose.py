"""The pose_dance study's validation choice (run.sh, step 1): one line per (recipe, noise) candidate,
then ``selected: <recipe>-noise<sigma> (...)``.

Rule: among candidates whose val liveliness ratio lies in [0.5, 2] (keeps at least half of real
motion without dissolving into jitter), the lowest FID_k/floor_k + FID_g/floor_g, each distance
as a multiple of the real-against-real floor of the same windows; if none is lively enough, the
ratio closest to 1. Reads results/val/<candidate>/seed*/summary.json (means over seeds).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def candidate_means(folder: Path) -> dict[str, dict[str, float]]:
    """Each candidate's mean of the keys the rule reads, over its seeds."""
    keys = ("gen/liveliness_ratio", "gen/fid_k", "gen/fid_g", "gen/fid_k_floor", "gen/fid_g_floor")
    means = {}
    for candidate in sorted(p for p in folder.iterdir() if p.is_dir()):
        runs = [json.loads(s.read_text()) for s in sorted(candidate.glob("seed*/summary.json"))]
        if runs:
            means[candidate.name] = {k: sum(r[k] for r in runs) / len(runs) for k in keys} | {"n": len(runs)}
    return means


def relative_fid(m: dict[str, float]) -> float:
    """Both Fréchet distances as multiples of their floors, summed: neither feature set can hide."""
    return m["gen/fid_k"] / m["gen/fid_k_floor"] + m["gen/fid_g"] / m["gen/fid_g_floor"]


def main(folder: str) -> None:
    """Print every candidate, then the selected one."""
    means = candidate_means(Path(folder))
    for name, m in means.items():
        print(
            f"{name}: n={m['n']} liveliness_ratio={m['gen/liveliness_ratio']:.3f} "
            f"fid_k={m['gen/fid_k']:.1f} (floor {m['gen/fid_k_floor']:.1f}) "
            f"fid_g={m['gen/fid_g']:.1f} (floor {m['gen/fid_g_floor']:.1f}) "
            f"fid_k/floor+fid_g/floor={relative_fid(m):.2f}"
        )
    lively = {n: m for n, m in means.items() if 0.5 <= m["gen/liveliness_ratio"] <= 2}
    if lively:
        best = min(lively, key=lambda n: relative_fid(lively[n]))
        print(f"selected: {best} (lowest fid_k/floor + fid_g/floor with val liveliness ratio in [0.5, 2])")
    else:
        best = min(means, key=lambda n: abs(math.log(max(means[n]["gen/liveliness_ratio"], 1e-9))))
        print(f"selected: {best} (no candidate in [0.5, 2]: the liveliness ratio closest to 1)")


if __name__ == "__main__":
    main(sys.argv[1])
