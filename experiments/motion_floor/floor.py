"""The real-against-real floor of the motion metrics on the shared real break-dance keypoints2d
(7 sequences x 9 views, resampled 60 -> 30 fps, 4 s windows), and a repeat-last "rollout" of every
window scored by the same code: the reference points any generator's FID_k / FID_g sit between.

    python experiments/motion_floor/floor.py ANNOTATION_FOLDER RESULTS_FOLDER
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from deepdance.data.aist.annotations import load_keypoints2d
from deepdance.metrics.motion import (
    cut_windows,
    geometric_features,
    kinetic_features,
    real_floor,
    score_motion,
)
from deepdance.utils.run_info import write_run_info

FPS = 30


def main(root: Path, out: Path) -> None:
    """Write summary.json (flat metrics) and run_info.json into ``out``."""
    sequences, groups = [], []
    for index, path in enumerate(sorted((root / "keypoints2d").glob("*.pkl"))):
        annotation = load_keypoints2d(path)
        for view in range(annotation.num_views):
            # every second frame: 60 -> 30 fps; undetected joints are missing, not zero
            points = annotation.keypoints[view, ::2, :, :2].astype(np.float64)
            points[annotation.keypoints[view, ::2, :, 2] <= 0] = np.nan
            sequences.append(points)
            groups.append(index)
    windows = cut_windows(sequences, FPS)
    by_sequence = np.asarray(groups)[windows.sequence]
    kinetic = real_floor(kinetic_features(windows.joints, FPS), by_sequence)
    geometric = real_floor(geometric_features(windows.joints, FPS), by_sequence)
    random_kinetic = real_floor(kinetic_features(windows.joints, FPS))
    random_geometric = real_floor(geometric_features(windows.joints, FPS))
    # one frame more than a window: a horizon of 4 s is 120 steps between 121 frames
    frozen = np.repeat(windows.joints[:, :1], windows.joints.shape[1] + 1, axis=1)
    repeat = score_motion(frozen, sequences, FPS, real_groups=groups).summary(prefix="repeat")
    summary = {
        "windows": int(len(windows.joints)),
        "windows_dropped": int(windows.dropped),
        "floor/fid_k": kinetic.value,
        "floor/fid_g": geometric.value,
        "floor/n_a": kinetic.n_generated,
        "floor/n_b": kinetic.n_real,
        "floor_random_halves/fid_k": random_kinetic.value,
        "floor_random_halves/fid_g": random_geometric.value,
        **{key: value for key, value in repeat.items() if np.isscalar(value)},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    write_run_info(out, fps=str(FPS))
    print(json.dumps(summary, indent=1, default=float))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
