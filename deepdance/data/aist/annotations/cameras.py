"""AIST++ camera files: ``cameras/setting<k>.json`` (one calibrated camera rig) and
``cameras/mapping.txt`` (which rig filmed which sequence).

A setting file is a JSON list, one dict per camera: ``name`` (c01..c09), ``size`` [w, h] in
pixels, ``matrix`` (3x3 intrinsics, pixels), ``rotation`` (Rodrigues vector, world -> camera),
``translation`` (world -> camera, centimetres, the unit of ``keypoints3d``) and ``distortions``
(OpenCV k1, k2, p1, p2, k3). ``mapping.txt`` has one line per sequence:
``<sequence name> <setting name>``, e.g. ``gBR_sBM_cAll_d04_mBR0_ch01 setting1``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from deepdance.data.aist.names import parse_sequence_name
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_write_text

CAMERA_KEYS = ("name", "size", "matrix", "rotation", "translation", "distortions")
# the distortion vector lengths OpenCV accepts
DISTORTION_LENGTHS = (4, 5, 8, 12, 14)
_SETTING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


@dataclass
class Camera:
    """One calibrated camera; ``project`` maps world points (cm) to its image (pixels)."""

    name: str
    size: tuple[int, int]
    matrix: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    distortions: np.ndarray

    def __post_init__(self) -> None:
        self.size = (int(self.size[0]), int(self.size[1]))
        self.matrix = np.asarray(self.matrix, dtype=np.float64).reshape(3, 3)
        self.rotation = np.asarray(self.rotation, dtype=np.float64).reshape(3)
        self.translation = np.asarray(self.translation, dtype=np.float64).reshape(3)
        self.distortions = np.asarray(self.distortions, dtype=np.float64).reshape(-1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) pixels, as OpenCV's ``projectPoints`` (lens distortion
        included). Non-finite points give NaN pixels instead of stopping the whole batch."""
        points = np.asarray(points, dtype=np.float64)
        if points.shape[-1:] != (3,):
            raise ValueError(f"camera {self.name}: project expects (..., 3) points, got {points.shape}")
        flat = points.reshape(-1, 3)
        out = np.full((flat.shape[0], 2), np.nan)
        finite = np.isfinite(flat).all(axis=1)
        if finite.any():
            projected, _ = cv2.projectPoints(
                flat[finite].reshape(-1, 1, 3), self.rotation, self.translation, self.matrix, self.distortions
            )
            out[finite] = projected.reshape(-1, 2)
        return out.reshape(*points.shape[:-1], 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": list(self.size),
            "matrix": self.matrix.tolist(),
            "rotation": self.rotation.tolist(),
            "translation": self.translation.tolist(),
            "distortions": self.distortions.tolist(),
        }


def _numbers(path: Path, index: int, key: str, value: Any, shape: tuple[int, ...] | None) -> np.ndarray:
    """``value`` as a finite float array of ``shape`` (None: any 1-D length), else one line."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    ok = array is not None and (array.shape == shape if shape is not None else array.ndim == 1)
    if not ok or not np.all(np.isfinite(array)):
        want = "a list of numbers" if shape is None else f"finite numbers of shape {shape}"
        raise DeepdanceError(f"{path}: camera {index} {key!r} is {value!r:.60}, expected {want}")
    return array


def camera_from_dict(path: Path, index: int, entry: Any) -> Camera:
    """One camera of a setting file, validated; errors name the file, the camera and the key."""
    if not isinstance(entry, dict):
        raise DeepdanceError(
            f"{path}: camera {index} is a {type(entry).__name__}, expected a dict of {CAMERA_KEYS}"
        )
    missing = [key for key in CAMERA_KEYS if key not in entry]
    if missing:
        raise DeepdanceError(
            f"{path}: camera {index} has no {', '.join(missing)}; each camera holds {', '.join(CAMERA_KEYS)}"
        )
    name = entry["name"]
    if not isinstance(name, str) or not name:
        raise DeepdanceError(f"{path}: camera {index} 'name' is {name!r}, expected a name like c01")
    size = _numbers(path, index, "size", entry["size"], (2,))
    if np.any(size <= 0) or np.any(size != np.round(size)):
        raise DeepdanceError(
            f"{path}: camera {name} 'size' is {entry['size']}, expected [width, height] in pixels"
        )
    distortions = _numbers(path, index, "distortions", entry["distortions"], None)
    if len(distortions) not in DISTORTION_LENGTHS:
        raise DeepdanceError(
            f"{path}: camera {name} 'distortions' has {len(distortions)} values, expected one of "
            f"{DISTORTION_LENGTHS} (OpenCV k1, k2, p1, p2[, k3, ...])"
        )
    return Camera(
        name=name,
        size=(int(size[0]), int(size[1])),
        matrix=_numbers(path, index, "matrix", entry["matrix"], (3, 3)),
        rotation=_numbers(path, index, "rotation", entry["rotation"], (3,)),
        translation=_numbers(path, index, "translation", entry["translation"], (3,)),
        distortions=distortions,
    )


def load_cameras(path: str | Path) -> list[Camera]:
    """The cameras of an AIST++ ``setting*.json``, in file order (= the view order of keypoints2d)."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeepdanceError(f"{path}: camera setting file does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DeepdanceError(f"{path}: not a JSON camera setting ({str(err).splitlines()[0]})") from None
    if not isinstance(entries, list) or not entries:
        raise DeepdanceError(
            f"{path}: expected a non-empty JSON list of cameras, each with {', '.join(CAMERA_KEYS)}"
        )
    cameras = [camera_from_dict(path, index, entry) for index, entry in enumerate(entries)]
    names = [camera.name for camera in cameras]
    if len(set(names)) != len(names):
        raise DeepdanceError(
            f"{path}: camera names repeat ({', '.join(names)}); each camera needs its own name"
        )
    return cameras


def write_cameras(path: str | Path, cameras: list[Camera]) -> Path:
    """Write a setting file in the AIST++ format, atomically."""
    if not cameras:
        raise DeepdanceError(f"{path}: no cameras to write")
    return atomic_write_text(path, json.dumps([camera.to_dict() for camera in cameras]))


def load_mapping(path: str | Path) -> dict[str, str]:
    """``mapping.txt``: sequence name (``gBR_sBM_cAll_d04_mBR0_ch01``) -> setting name (``setting1``)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise DeepdanceError(f"{path}: camera mapping file does not exist") from None
    mapping: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2 or not _SETTING_NAME.match(fields[1]):
            raise DeepdanceError(
                f"{path}:{number}: {line.strip()!r} is not '<sequence name> <setting name>', "
                "e.g. 'gBR_sBM_cAll_d04_mBR0_ch01 setting1'"
            )
        sequence, setting = fields
        try:
            parse_sequence_name(sequence)
        except ValueError as err:
            raise DeepdanceError(f"{path}:{number}: {err}") from None
        if mapping.get(sequence, setting) != setting:
            raise DeepdanceError(
                f"{path}:{number}: {sequence} is mapped to both {mapping[sequence]} and {setting}"
            )
        mapping[sequence] = setting
    return mapping


def write_mapping(path: str | Path, mapping: dict[str, str]) -> Path:
    """Write ``mapping.txt`` (sorted by sequence), atomically."""
    for sequence, setting in mapping.items():
        try:
            parse_sequence_name(sequence)
        except ValueError as err:
            raise DeepdanceError(f"{path}: {err}") from None
        if not _SETTING_NAME.match(setting):
            raise DeepdanceError(f"{path}: setting name {setting!r} is not a file stem like setting1")
    return atomic_write_text(path, "".join(f"{seq} {mapping[seq]}\n" for seq in sorted(mapping)))
