"""The synthetic dancers' AIST++ annotation files, so every pose path trains and tests without a download.

For exactly the videos ``video_jobs`` renders (same dancers, performances, cameras, seeds and frame
times ``i / fps``), a folder in AIST++'s layout:

* ``keypoints2d/<sequence>.pkl``: (V, N, 17, 3) float32, the renderer's own points
  (``renderer.figure_layout``) in output pixels per camera, where the figure is drawn
  (``renderer.pixel_points``), confidence 1; nose, eyes and ears by ``body.FACE_RULE``. The dancer
  faces the camera, so COCO's ``left_*`` joints are the figure's screen-right limbs.
* ``keypoints3d/<sequence>.pkl``: the flat figure in 3-D, in centimetres (one body unit =
  ``CM_PER_BODY_UNIT``), y up, the floor at y = 0, the figure in the plane z = depth(t).
* ``cameras/setting<k>.json``: one setting per sequence, one camera per synthetic camera, and
  ``cameras/mapping.txt``. Why per sequence: each video jitters its camera's framing and drift
  (``renderer.camera_view``), so the cameras of two sequences differ.

Why the cameras look like this. A synthetic camera maps the figure affinely: horizontally by
``squash * px``, vertically by ``px``, plus a drift linear in time that differs per camera. No set of
perspective cameras sharing one 3-D scene does that exactly, so each camera is an orthographic one
written as a distant pinhole camera (``CAMERA_DISTANCE_CM`` away, focal length to match; perspective
error under 0.01 px): non-square pixels give the squash, and the figure walks ``DEPTH_WALK_CM`` in depth
over the clip, which a camera turned by ``theta`` about the vertical sees as its own drift.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepdance.data.aist.annotations.cameras import Camera, write_cameras, write_mapping
from deepdance.data.aist.annotations.keypoints import Keypoints2D, write_keypoints2d, write_keypoints3d
from deepdance.data.owned_folder import OwnedFolder, Record, file_facts
from deepdance.data.synthetic.body import face_points, forward_kinematics
from deepdance.data.synthetic.dataset import VideoJob, video_jobs
from deepdance.data.synthetic.renderer import (
    SUPERSAMPLE,
    Appearance,
    Framing,
    camera_view,
    dance_angles,
    figure_layout,
    pixel_points,
)
from deepdance.data.synthetic.settings import SyntheticConfig
from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import COCO17
from deepdance.utils.cache_io import atomic_write_text

log = logging.getLogger(__name__)

RECORD_NAME = "synthetic_annotations.json"
# Bump when the exported files change for the same config: stored folders then regenerate.
ANNOTATION_VERSION = 1
# a nominal body height of 1.7 m
CM_PER_BODY_UNIT = 170.0
# how far the figure walks in depth over a clip (what a turned camera sees as its drift)
DEPTH_WALK_CM = 100.0
# far enough that the pinhole cameras are orthographic to well under 0.01 px
CAMERA_DISTANCE_CM = 1e7
# The folders and files of AIST++'s layout that this exporter writes.
LAYOUT = ("keypoints2d", "keypoints3d", "cameras", "ignore_list.txt")

# COCO-17 joint -> the figure's point: the dancer faces the camera, so its left is the screen's right ("r_").
FIGURE_POINT: dict[str, str] = {
    "nose": "nose",
    "left_eye": "left_eye",
    "right_eye": "right_eye",
    "left_ear": "left_ear",
    "right_ear": "right_ear",
    **{
        f"{side}_{joint}": f"{figure}_{joint}"
        for side, figure in (("left", "r"), ("right", "l"))
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    },
}
assert set(FIGURE_POINT) == set(COCO17)


@dataclass(frozen=True)
class SequenceAnnotations:
    """One sequence (all cameras of one performance) in AIST++'s units and shapes."""

    # AIST++ sequence name with cAll
    name: str
    # (V, N, 17, 3) float32 output pixels, confidence 1
    keypoints2d: np.ndarray
    # (N, 17, 3) float64 centimetres
    keypoints3d: np.ndarray
    cameras: list[Camera]
    # (N,) int64 microseconds
    timestamps: np.ndarray


def timestamps_us(num_frames: int, fps: float) -> np.ndarray:
    """Frame times ``i / fps`` in whole microseconds, as AIST++'s ``timestamps``."""
    return np.round(np.arange(num_frames) * (1e6 / fps)).astype(np.int64)


def sequences(config: SyntheticConfig) -> dict[str, list[VideoJob]]:
    """The videos of ``config`` grouped by sequence (cAll name), cameras in order, in ``video_jobs`` order."""
    grouped: dict[str, list[VideoJob]] = {}
    for job in video_jobs(config):
        grouped.setdefault(job.name.sequence, []).append(job)
    return {name: sorted(jobs, key=lambda job: job.camera) for name, jobs in grouped.items()}


def coco_points(points: dict[str, np.ndarray]) -> np.ndarray:
    """(T, 17, 2) in COCO-17 order from the figure's named points."""
    return np.stack([points[FIGURE_POINT[name]] for name in COCO17], axis=1)


def walk_fraction(num_frames: int) -> np.ndarray:
    """Where each frame is along the clip's drift, from -0.5 to 0.5 (``renderer.figure_layout``)."""
    return np.linspace(-0.5, 0.5, num_frames) if num_frames > 1 else np.zeros(1)


def synthetic_camera(
    name: str, framing: Framing, px: float, drift: float, height: int, width: int, num_frames: int
) -> Camera:
    """The camera whose projection of ``keypoints3d`` is the renderer's framing (see the module doc).

    Output pixel u = (canvas x + 0.5) / SUPERSAMPLE - 0.5, with canvas x from ``figure_layout``:
    u = cx + S * X + W * Z and v = cy - P * Y for world X, Y, Z in cm, Z = DEPTH_WALK_CM * walk.
    A camera turned by ``theta`` about the vertical with ``fx = D * hypot(S, W)`` gives exactly
    that, up to the perspective of a camera ``D`` away.
    """
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    cx = (sw * (0.5 + framing.dx) + 0.5) / SUPERSAMPLE - 0.5
    cy = (framing.ground * sh + 0.5) / SUPERSAMPLE - 0.5
    # output pixels per cm: across, up, and per cm walked in depth
    across = framing.squash * px / SUPERSAMPLE / CM_PER_BODY_UNIT
    up = px / SUPERSAMPLE / CM_PER_BODY_UNIT
    walk = drift * sw / SUPERSAMPLE / DEPTH_WALK_CM if num_frames > 1 else 0.0
    theta = math.atan2(walk, across)
    distance = CAMERA_DISTANCE_CM
    matrix = np.array([[distance * math.hypot(across, walk), 0.0, cx], [0.0, distance * up, cy], [0, 0, 1.0]])
    # R = [[cos, 0, sin], [0, -1, 0], [sin, 0, -cos]]: a half turn about (cos(theta/2), 0, sin(theta/2))
    rotation = math.pi * np.array([math.cos(theta / 2), 0.0, math.sin(theta / 2)])
    return Camera(
        name=name,
        size=(width, height),
        matrix=matrix,
        rotation=rotation,
        translation=np.array([0.0, 0.0, distance]),
        distortions=np.zeros(5),
    )


def sequence_annotations(config: SyntheticConfig, jobs: list[VideoJob]) -> SequenceAnnotations:
    """Keypoints (2-D per camera, 3-D) and cameras of one sequence: ``jobs`` are its videos."""
    first = jobs[0]
    n = config.num_frames
    angles = dance_angles(first.name.genre, first.music, first.rng_seed, first.tempo_factor, n, config.fps)
    # the silhouette look has the same body (Appearance.silhouette)
    body = Appearance.sample(first.dancer_seed).body
    views, cameras = [], []
    for job in jobs:
        _, framing, drift = camera_view(job.rng_seed, job.camera)
        points, px = figure_layout(angles, body, framing, config.size, config.frame_width, drift)
        views.append(coco_points(pixel_points(points)))
        cameras.append(
            synthetic_camera(f"c{job.camera:02d}", framing, px, drift, config.size, config.frame_width, n)
        )
    xy = np.stack(views).astype(np.float32)
    keypoints2d = np.concatenate([xy, np.ones((*xy.shape[:-1], 1), np.float32)], axis=-1)
    pts = forward_kinematics(angles, body)
    pts.update(face_points(pts, body))
    flat = coco_points(pts) * CM_PER_BODY_UNIT
    depth = np.broadcast_to(DEPTH_WALK_CM * walk_fraction(n)[:, None, None], (*flat.shape[:-1], 1))
    keypoints3d = np.concatenate([flat, depth], axis=-1).astype(np.float64)
    return SequenceAnnotations(
        first.name.sequence, keypoints2d, keypoints3d, cameras, timestamps_us(n, config.fps)
    )


def setting_names(config: SyntheticConfig) -> dict[str, str]:
    """Sequence -> its camera setting (``setting1``, ``setting2``, ... in ``video_jobs`` order)."""
    return {name: f"setting{k}" for k, name in enumerate(sequences(config), start=1)}


def _sequence_files(sequence: str, setting: str) -> tuple[str, str, str]:
    return f"keypoints2d/{sequence}.pkl", f"keypoints3d/{sequence}.pkl", f"cameras/{setting}.json"


def _record_config(config: SyntheticConfig) -> dict:
    return {"annotation_version": ANNOTATION_VERSION, **config.to_json()}


def _hint(root: Path) -> str:
    return (
        f"real AIST++ annotations ({root}?) are read where they are; the synthetic dancers' annotations "
        "go into a folder of their own (not the videos' folder): give an empty or new folder"
    )


def _foreign_files(root: Path, record: Record) -> list[Path]:
    """Files where this exporter writes (AIST++'s layout) that its record does not list: someone else's."""
    found = []
    for entry in LAYOUT:
        path = root / entry
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return sorted(p for p in found if p.relative_to(root).as_posix() not in record.files)


def _refuse_foreign(folder: OwnedFolder, record: Record) -> None:
    foreign = _foreign_files(folder.root, record)
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise DeepdanceError(
            f"{foreign[0]}{more} is not listed in {folder.record_path.name}; deepdance writes synthetic "
            f"annotations only into an empty folder or one it made, and leaves other files alone; "
            f"{folder.hint}"
        )


def _write_sequence(root: Path, annotations: SequenceAnnotations, files: tuple[str, str, str]) -> None:
    """Write those of the sequence's three files named in ``files`` (the others are there)."""
    kp2d, kp3d, _ = _sequence_files(annotations.name, "")
    n_views, n_frames = annotations.keypoints2d.shape[:2]
    if kp2d in files:
        keypoints = Keypoints2D(
            keypoints=annotations.keypoints2d,
            det_scores=np.ones((n_views, n_frames), np.float32),
            timestamps=annotations.timestamps,
        )
        write_keypoints2d(root / kp2d, keypoints)
    if kp3d in files:
        write_keypoints3d(root / kp3d, annotations.keypoints3d)
    for name in files:
        if name.startswith("cameras/"):
            write_cameras(root / name, annotations.cameras)


def ensure_synthetic_annotations(directory: str | Path, config: SyntheticConfig | None = None) -> Path:
    """The AIST++ annotation folder of the synthetic dancers of ``config``, written on first use.

    Owned like the videos' folder (``deepdance.data.owned_folder``, record ``synthetic_annotations.json``):
    ``directory`` must be absent, empty, or made by this exporter; a file in its AIST++ layout that
    the record does not list (someone's real annotations) stops it with one line before anything is
    written. Same config: nothing is written; files missing (an interrupted run): only those are;
    another config or version: the recorded files are deleted and all regenerated.
    """
    config = config or SyntheticConfig()
    root = Path(directory)
    folder = OwnedFolder(root, RECORD_NAME, _hint(root))
    _refuse_foreign(folder, folder.audit())
    with folder.claimed() as record:
        _refuse_foreign(folder, record)
        if record.files and record.config != _record_config(config):
            log.info("synthetic annotations in %s were made with %s; regenerating", root, record.config)
            folder.remove_recorded(record)
        record.config = _record_config(config)
        groups = sequences(config)
        settings = setting_names(config)
        wanted = {name: _sequence_files(name, settings[name]) for name in groups}
        extras = ("cameras/mapping.txt", "ignore_list.txt")
        missing = [name for name, files in wanted.items() if any(record.files.get(f) is None for f in files)]
        if not missing and all(record.files.get(f) is not None for f in extras):
            folder.save(record)
            log.info("reusing synthetic annotations in %s (%d sequences)", root, len(groups))
            return root
        start = time.perf_counter()
        log.info("writing annotations of %d of %d synthetic sequences in %s", len(missing), len(groups), root)
        # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
        pending = [f for name in missing for f in wanted[name]] + list(extras)
        record.files.update({f: None for f in pending if record.files.get(f) is None})
        folder.save(record)
        for name in missing:
            files = tuple(f for f in wanted[name] if record.files.get(f) is None)
            _write_sequence(root, sequence_annotations(config, groups[name]), files)
            record.files.update({f: file_facts(root / f) for f in files})
            folder.save(record)
        if record.files.get(extras[0]) is None:
            write_mapping(root / extras[0], settings)
        if record.files.get(extras[1]) is None:
            # AIST++ lists sequences with bad annotations; the synthetic ones have none
            atomic_write_text(root / extras[1], "")
        record.files.update({f: file_facts(root / f) for f in extras})
        record.extra["seconds_to_generate"] = round(time.perf_counter() - start, 2)
        folder.save(record)
    return root


def export_annotations(root: str | Path, config: SyntheticConfig | None = None) -> Path:
    """Write the synthetic dancers' annotation files under ``root`` (``ensure_synthetic_annotations``)."""
    return ensure_synthetic_annotations(root, config)
