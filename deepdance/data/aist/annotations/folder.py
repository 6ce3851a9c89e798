"""An AIST++ annotation folder: which sequences it holds and where each one's files are.

The layout is AIST++'s own::

    <root>/keypoints2d/<name>.pkl   name = a sequence (gBR_sBM_cAll_d04_mBR0_ch01, V views) or one
                                    camera's video stem (gBR_sBM_c01_d04_mBR0_ch01, V = 1), as
                                    ``extract_poses`` writes
    <root>/keypoints3d/<seq>.pkl    world joints (cm), per sequence
    <root>/motions/<seq>.pkl        SMPL parameters: refused (see motions.py)
    <root>/cameras/setting<k>.json  camera rigs; cameras/mapping.txt says which rig filmed which
                                    sequence (a folder with a single setting file needs no mapping)
    <root>/splits/{pose,crossmodal}_{train,val,test}.txt, <root>/ignore_list.txt (or splits/)

Files whose names are not AIST++ names are listed in ``rejected`` (and logged), never dropped
silently, as ``build_manifest`` does for videos.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from deepdance.data.aist.annotations.cameras import Camera, load_cameras, load_mapping
from deepdance.data.aist.annotations.keypoints import Keypoints2D, load_keypoints2d, load_keypoints3d
from deepdance.data.aist.names import MANIFEST_COLUMNS, AistName, parse_sequence_name
from deepdance.data.aist.splits import IGNORE_LIST, read_sequence_list, sequence_name
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

KEYPOINTS2D_DIR = "keypoints2d"
KEYPOINTS3D_DIR = "keypoints3d"
CAMERAS_DIR = "cameras"
MOTIONS_DIR = "motions"
SPLITS_DIR = "splits"
MAPPING_FILE = "mapping.txt"


@dataclass(frozen=True)
class AnnotationSequence:
    """The files of one annotated name (a whole sequence, or one camera's video)."""

    name: str
    fields: AistName
    keypoints2d: Path | None
    keypoints3d: Path | None

    @property
    def sequence(self) -> str:
        """The ``cAll`` sequence this name belongs to (itself for a sequence)."""
        return self.fields.sequence

    @property
    def per_camera(self) -> bool:
        """True for one camera's video stem (V = 1), False for a ``cAll`` sequence (V views)."""
        return self.fields.camera != "All"


def _stems(folder: Path, suffix: str, rejected: list[tuple[Path, str]]) -> dict[str, tuple[Path, AistName]]:
    found: dict[str, tuple[Path, AistName]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        # hidden files: temporary files of atomic writes, editor and OS files
        if path.name.startswith(".") or path.name.endswith(".lock"):
            continue
        if path.suffix != suffix or not path.is_file():
            rejected.append((path, f"not a {suffix} file"))
            continue
        try:
            found[path.stem] = (path, parse_sequence_name(path.name))
        except ValueError as err:
            rejected.append((path, str(err)))
    return found


class AnnotationFolder:
    """Read-only view of an AIST++ annotation folder; files are loaded on request."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DeepdanceError(f"annotation folder {self.root} does not exist or is not a folder")
        has_2d = (self.root / KEYPOINTS2D_DIR).is_dir()
        if not has_2d and not (self.root / KEYPOINTS3D_DIR).is_dir():
            hint = ""
            if (self.root / MOTIONS_DIR).is_dir():
                hint = f"; its {MOTIONS_DIR}/ (SMPL) is not read, use keypoints3d/"
            raise DeepdanceError(
                f"{self.root}: no {KEYPOINTS2D_DIR}/ or {KEYPOINTS3D_DIR}/ folder; an AIST++ annotation "
                f"folder holds {KEYPOINTS2D_DIR}/<sequence>.pkl and/or {KEYPOINTS3D_DIR}/<sequence>.pkl{hint}"
            )
        self.rejected: list[tuple[Path, str]] = []
        found_2d = _stems(self.root / KEYPOINTS2D_DIR, ".pkl", self.rejected)
        found_3d = _stems(self.root / KEYPOINTS3D_DIR, ".pkl", self.rejected)
        for name, (path, fields) in list(found_3d.items()):
            if fields.camera != "All":
                self.rejected.append((path, "keypoints3d files are per sequence (cAll), not per camera"))
                del found_3d[name]
        for path, reason in self.rejected:
            log.warning("annotation file %s skipped: %s", path, reason)
        self._sequences = {
            name: AnnotationSequence(
                name=name,
                fields=(found_2d.get(name) or found_3d[name])[1],
                keypoints2d=found_2d[name][0] if name in found_2d else None,
                keypoints3d=found_3d[name][0] if name in found_3d else None,
            )
            for name in sorted(set(found_2d) | set(found_3d))
        }
        if not self._sequences:
            raise DeepdanceError(
                f"{self.root}: no annotation file with an AIST++ name in {KEYPOINTS2D_DIR}/ or "
                f"{KEYPOINTS3D_DIR}/ (expected names like gBR_sBM_cAll_d04_mBR0_ch01.pkl)"
            )
        self._cameras: dict[str, list[Camera]] = {}

    @property
    def sequences(self) -> list[AnnotationSequence]:
        """Every annotated name, sorted."""
        return list(self._sequences.values())

    def __getitem__(self, name: str) -> AnnotationSequence:
        stem = Path(name).stem if name.endswith(".pkl") else name
        if stem not in self._sequences:
            raise DeepdanceError(
                f"{self.root}: no annotation for {name!r}; it holds {len(self._sequences)} names"
            )
        return self._sequences[stem]

    def keypoints2d(self, name: str) -> Keypoints2D:
        """The 2D keypoints of ``name``, with its view count checked against its cameras."""
        entry = self[name]
        if entry.keypoints2d is None:
            raise DeepdanceError(f"{self.root / KEYPOINTS2D_DIR}: no {entry.name}.pkl (only keypoints3d)")
        keypoints = load_keypoints2d(entry.keypoints2d)
        if entry.per_camera and keypoints.num_views != 1:
            raise DeepdanceError(
                f"{entry.keypoints2d}: a per-camera file (c{entry.fields.camera}) holds 1 view, found "
                f"{keypoints.num_views}; name a file of V views with cAll"
            )
        if not entry.per_camera and self.has_cameras(entry.name):
            cameras = self.cameras(entry.name)
            if keypoints.num_views != len(cameras):
                raise DeepdanceError(
                    f"{entry.keypoints2d}: holds {keypoints.num_views} views but its camera setting "
                    f"{self.setting_of(entry.name)} has {len(cameras)} cameras"
                )
        return keypoints

    def keypoints3d(self, name: str, optim: bool = True) -> np.ndarray:
        """(N, 17, 3) world joints in cm of ``name``'s sequence (optimised by default)."""
        entry = self[name]
        sequence = self._sequences.get(entry.sequence)
        if sequence is None or sequence.keypoints3d is None:
            raise DeepdanceError(f"{self.root / KEYPOINTS3D_DIR}: no {entry.sequence}.pkl")
        return load_keypoints3d(sequence.keypoints3d, optim=optim)

    @cached_property
    def mapping(self) -> dict[str, str]:
        """``cameras/mapping.txt`` (empty when the folder has none)."""
        path = self.root / CAMERAS_DIR / MAPPING_FILE
        return load_mapping(path) if path.is_file() else {}

    @cached_property
    def settings(self) -> dict[str, Path]:
        """Setting name -> its ``cameras/<setting>.json``."""
        folder = self.root / CAMERAS_DIR
        if not folder.is_dir():
            return {}
        return {path.stem: path for path in sorted(folder.glob("*.json")) if not path.name.startswith(".")}

    def setting_of(self, name: str) -> str:
        """The camera setting that filmed ``name``: from mapping.txt, or the only setting file."""
        sequence = self[name].sequence if name in self._sequences else sequence_name(name)
        if sequence in self.mapping:
            setting = self.mapping[sequence]
            if setting not in self.settings:
                raise DeepdanceError(
                    f"{self.root / CAMERAS_DIR / MAPPING_FILE}: maps {sequence} to {setting}, but "
                    f"{self.root / CAMERAS_DIR / (setting + '.json')} does not exist"
                )
            return setting
        if not self.mapping and len(self.settings) == 1:
            return next(iter(self.settings))
        raise DeepdanceError(
            f"{self.root / CAMERAS_DIR}: no camera setting for {sequence}: "
            + (f"{MAPPING_FILE} does not list it" if self.mapping else f"no {MAPPING_FILE}")
            + f" and there are {len(self.settings)} setting files (one setting needs no mapping)"
        )

    def has_cameras(self, name: str) -> bool:
        sequence = self[name].sequence
        return sequence in self.mapping or (not self.mapping and len(self.settings) == 1)

    def cameras(self, name: str) -> list[Camera]:
        """The cameras of ``name``'s sequence, in view order (keypoints2d view v = camera v)."""
        setting = self.setting_of(name)
        if setting not in self._cameras:
            self._cameras[setting] = load_cameras(self.settings[setting])
        return self._cameras[setting]

    def view_names(self, name: str) -> list[str]:
        """Camera names of the views of ``name``'s keypoints2d: its cameras, c01.. without them, or
        the one camera of a per-camera file."""
        entry = self[name]
        if entry.per_camera:
            return [f"c{entry.fields.camera}"]
        if self.has_cameras(name):
            return [camera.name for camera in self.cameras(name)]
        return [f"c{v + 1:02d}" for v in range(self.keypoints2d(name).num_views)]

    @cached_property
    def split_dir(self) -> Path | None:
        """``<root>/splits`` when present (the official split files), else None."""
        folder = self.root / SPLITS_DIR
        return folder if folder.is_dir() else None

    @cached_property
    def ignored(self) -> set[str]:
        """Entries of ``ignore_list.txt`` (at the root, as AIST++ ships it, or in splits/)."""
        entries: set[str] = set()
        for path in (self.root / IGNORE_LIST, self.root / SPLITS_DIR / IGNORE_LIST):
            if path.is_file():
                try:
                    entries.update(read_sequence_list(path))
                except ValueError as err:
                    raise DeepdanceError(str(err)) from None
        return entries

    def is_ignored(self, name: str) -> bool:
        """A name is ignored when its own line or its sequence's ``cAll`` line is listed."""
        entry = self[name]
        return entry.name in self.ignored or entry.sequence in self.ignored

    def manifest(self, drop_ignored: bool = True, need: str = "keypoints2d") -> pd.DataFrame:
        """The names as a manifest table (``MANIFEST_COLUMNS``, ``path`` = the ``need`` file), so the
        splits of ``data=aist`` (``split_by_dancer``, ``split_by_files``) apply unchanged."""
        if need not in (KEYPOINTS2D_DIR, KEYPOINTS3D_DIR):
            raise ValueError(f"need={need!r}; expected {KEYPOINTS2D_DIR} or {KEYPOINTS3D_DIR}")
        rows = []
        dropped = 0
        for entry in self._sequences.values():
            path = entry.keypoints2d if need == KEYPOINTS2D_DIR else entry.keypoints3d
            if path is None:
                continue
            if drop_ignored and self.is_ignored(entry.name):
                dropped += 1
                continue
            fields = entry.fields
            rows.append({"path": str(path), "name": entry.name, **fields.columns()})
        if dropped:
            log.info("%s: %d names dropped by %s", self.root, dropped, IGNORE_LIST)
        return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
