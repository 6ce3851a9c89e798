"""Small AIST++ annotation folders written for the skeleton tests, in the official pickle format.

``write_dance_folder`` writes dancers whose genres differ only in *tempo*: every genre swings
its arms and legs through the same poses, at its own frequency, from a random phase. A single
frame cannot tell the genres apart (the same poses are equally likely in each); two frames a
moment apart can. Each dancer has a body size, a place on the canvas and noise of its own; each
view sees the sequence scaled and shifted, as another camera would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepdance.data.aist.annotations.keypoints import Keypoints2D, write_keypoints2d
from deepdance.data.aist.names import GENRES
from deepdance.pose.skeleton import JOINT

FPS = 30
# a standing figure, torso 1 (y down, as image pixels), hips' midpoint at the origin
STANDING = {
    "nose": (0.0, -1.45),
    "left_eye": (0.06, -1.5),
    "right_eye": (-0.06, -1.5),
    "left_ear": (0.12, -1.45),
    "right_ear": (-0.12, -1.45),
    "left_shoulder": (0.3, -1.0),
    "right_shoulder": (-0.3, -1.0),
    "left_hip": (0.15, 0.0),
    "right_hip": (-0.15, 0.0),
}
# arm and leg segments swing around their root joint
LIMBS = (
    ("left_shoulder", "left_elbow", "left_wrist", 0.5, 1.0),
    ("right_shoulder", "right_elbow", "right_wrist", 0.5, -1.0),
    ("left_hip", "left_knee", "left_ankle", 0.55, 1.0),
    ("right_hip", "right_knee", "right_ankle", 0.55, -1.0),
)


def dance(tempo_hz: float, frames: int, rng: np.random.Generator) -> np.ndarray:
    """(frames, 17, 2) joints of one performance at ``tempo_hz``, torso 1, hips at the origin."""
    t = np.arange(frames) / FPS
    phase = rng.uniform(0, 2 * np.pi)
    points = np.zeros((frames, 17, 2))
    for name, xy in STANDING.items():
        points[:, JOINT[name]] = xy
    swing = np.sin(2 * np.pi * tempo_hz * t + phase)
    for root, middle, end, length, side in LIMBS:
        arm = root.endswith("shoulder")
        angle = (0.9 * swing * side if arm else 0.4 * swing * side) + (np.pi / 2)
        direction = np.stack([np.cos(angle) * side * (1 if arm else 0.3), np.sin(angle)], axis=-1)
        points[:, JOINT[middle]] = points[:, JOINT[root]] + length * direction
        points[:, JOINT[end]] = points[:, JOINT[middle]] + length * direction
    return points


def write_dance_folder(
    root: Path,
    genres: tuple[str, ...] = ("BR", "PO", "LO"),
    dancers_per_genre: int = 4,
    musics: int = 2,
    views: int = 2,
    frames: int = 60,
    seed: int = 0,
) -> Path:
    """``root/keypoints2d/g{genre}_sBM_cAll_d{dancer}_m{genre}{music}_ch01.pkl``, ``views`` views
    each; dancer ids run genre by genre, as the synthetic dancers' do. Genre k dances at
    0.6 + 0.5 k Hz."""
    folder = Path(root) / "keypoints2d"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for g, genre in enumerate(genres):
        for d in range(dancers_per_genre):
            dancer = GENRES.index(genre) * dancers_per_genre + d + 1
            size, place = rng.uniform(80, 140), rng.uniform([600, 400], [1300, 700])
            for m in range(musics):
                body = dance(0.6 + 0.5 * g, frames, rng)
                keypoints = np.zeros((views, frames, 17, 3), dtype=np.float32)
                for v in range(views):
                    scale, shift = size * (1 + 0.2 * v), place + 60 * v
                    keypoints[v, ..., :2] = body * scale + shift + rng.normal(0, 1.0, (frames, 17, 2))
                    keypoints[v, ..., 2] = rng.uniform(0.6, 1.0, (frames, 17))
                name = f"g{genre}_sBM_cAll_d{dancer:02d}_m{genre}{m}_ch01.pkl"
                write_pose_file(folder / name, keypoints)
    return Path(root)


def write_pose_file(path: Path, keypoints: np.ndarray) -> Path:
    """One keypoints2d file of (V, N, 17, 3) keypoints, every frame detected, at ``FPS``."""
    views, frames = keypoints.shape[:2]
    timestamps = (np.arange(frames) * 1e6 / FPS).astype(np.int64)
    return write_keypoints2d(
        path, Keypoints2D(keypoints.astype(np.float32), np.ones((views, frames), np.float32), timestamps)
    )
