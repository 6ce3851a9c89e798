"""Project the real AIST++ keypoints3d_optim of gBR_sBM_cAll_d04_mBR0_ch03 through cameras/setting1.json
(deepdance's loaders, OpenCV's projection) and compare with the same sequence's keypoints2d, per view:
the check that the camera loader, the 3-D loader and the 2-D loader agree on units and conventions.

    python experiments/aist_projection/project.py ANNOTATION_FOLDER RESULTS_FOLDER
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from deepdance.data.aist.annotations import load_cameras, load_keypoints2d, load_keypoints3d
from deepdance.utils.run_info import write_run_info

SEQUENCE = "gBR_sBM_cAll_d04_mBR0_ch03"
# joints the 2-D annotation is confident about (AIST++ confidences are in [0, 1])
MIN_CONFIDENCE = 0.5


def main(root: Path, out: Path) -> None:
    """Write projection.csv (one row per camera) and run_info.json into ``out``."""
    cameras = load_cameras(root / "cameras" / "setting1.json")
    points3d = load_keypoints3d(root / "keypoints3d" / f"{SEQUENCE}.pkl", optim=True)
    points2d = load_keypoints2d(root / "keypoints2d" / f"{SEQUENCE}.pkl").keypoints
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for view, camera in enumerate(cameras):
        projected = camera.project(points3d)
        truth = points2d[view]
        good = (
            (truth[..., 2] > MIN_CONFIDENCE)
            & np.isfinite(truth[..., :2]).all(-1)
            & np.isfinite(projected).all(-1)
        )
        error = np.linalg.norm(projected - truth[..., :2], axis=-1)[good]
        rows.append(
            {
                "camera": camera.name,
                "joints": int(good.sum()),
                "median_px": round(float(np.median(error)), 2),
                "p90_px": round(float(np.percentile(error, 90)), 2),
            }
        )
    with (out / "projection.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_run_info(out, sequence=SEQUENCE, min_confidence=str(MIN_CONFIDENCE))
    for row in rows:
        print(row)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
