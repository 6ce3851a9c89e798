"""The README's picture of generated real-motion dances: one row pair per genre, skeleton above
silhouette, from a held-out (test) sequence's first look_back poses rolled out for 4 s by a
pose_dance checkpoint with the study's chosen rollout noise.

    PYTHONPATH=. python experiments/pose_dance/picture.py CKPT NOISE --png docs/images/generated_dances.png \
        --record experiments/pose_dance/results/picture

Each row: the last seed pose (blue bar), then a generated pose every 0.5 s (red bar). The record
(summary.json, run_info.json) names every seed sequence and view.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from deepdance.config.base import parse
from deepdance.config.pose_motion import PoseMotionConfig
from deepdance.data.pose.motion import PoseMotionDataModule
from deepdance.models.pose_generation import (
    frame_points,
    silhouette_frames,
    skeleton_frames,
    up_sign_of,
    with_bar,
)
from deepdance.models.pose_lstm_module import rollout_poses
from deepdance.models.registry import load_model
from deepdance.utils.run_info import write_run_info

SIZE = (160, 120)
SECONDS, EVERY_S = 4.0, 0.5


def first_test_view_per_genre(data: PoseMotionDataModule) -> dict[str, int]:
    """The first test view of each genre, by manifest order."""
    sequences = data.sequences()
    chosen: dict[str, int] = {}
    for segment in sequences.segments["test"]:
        chosen.setdefault(str(sequences.genres[segment.video]), segment.video)
    return chosen


def genre_rows(model, poses: np.ndarray, fps: float, look_back: int, noise: float, genre: str | None):
    """Skeleton and silhouette strips (H, W * frames, 3) of one seed's 4 s rollout."""
    dims = model.dims
    seed = poses[:look_back].reshape(look_back, -1, dims)
    steps = int(round(SECONDS * fps))
    generator = torch.Generator().manual_seed(0)
    dance = rollout_poses(model, seed, steps, genre=genre, generator=generator, noise=noise)
    picks = [look_back - 1] + [look_back - 1 + int(round(k * EVERY_S * fps)) for k in range(1, 9)]
    points = frame_points(dance[picks], up_sign_of(dance.mean(0)), SIZE)
    skeleton = with_bar(skeleton_frames(points, SIZE), 1)
    silhouette = np.repeat(255 - silhouette_frames(points, SIZE)[..., None], 3, axis=-1)
    silhouette = with_bar(silhouette, 1)
    return np.concatenate(list(skeleton), axis=1), np.concatenate(list(silhouette), axis=1)


def labelled(strip: np.ndarray, text: str) -> np.ndarray:
    """A strip with a white label column on its left."""
    label = np.full((strip.shape[0], 150, 3), 255, dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(label, text, (6, strip.shape[0] // 2), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([label, strip], axis=1)


def main() -> None:
    """Draw every genre's rows and write the picture with its record."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("ckpt")
    parser.add_argument("noise", type=float)
    parser.add_argument("--png", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    model, metadata, _ = load_model(args.ckpt, "generate")
    data = PoseMotionDataModule(parse(PoseMotionConfig, metadata["data"], "data"))
    data.setup()
    fps, look_back = float(metadata["data"]["fps"]), int(model.hparams.look_back)
    rows, seeds = [], {}
    for genre, video in sorted(first_test_view_per_genre(data).items()):
        row = data.manifest.iloc[video]
        steer = genre if model.genre_condition is not None else None
        skeleton, silhouette = genre_rows(model, data.videos[video], fps, look_back, args.noise, steer)
        name = f"{genre} {Path(row['path']).stem[-4:]}"
        rows += [labelled(skeleton, f"{name} skeleton"), labelled(silhouette, f"{name} silhouette")]
        seeds[genre] = {"file": Path(row["path"]).name, "view": int(row["view"]), "seed_frames": look_back}
    args.png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.png), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    args.record.mkdir(parents=True, exist_ok=True)
    summary = {"ckpt": str(args.ckpt), "noise": args.noise, "fps": fps, "seconds": SECONDS, "seeds": seeds}
    (args.record / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_run_info(str(args.record), None)
    print(f"wrote {args.png}: {len(seeds)} genres")


if __name__ == "__main__":
    main()
