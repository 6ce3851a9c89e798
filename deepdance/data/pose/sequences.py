"""The keypoint sequences of an annotation folder: which files, which genre and dancer, which
split, read from the file names alone; then the views of each file, one sample each.

A ``keypoints2d/`` file is a whole sequence seen by every camera (``gBR_sBM_cAll_d04_mBR0_ch01.pkl``,
V views, as AIST++ and the synthetic dancers' export write it) or one camera's video
(``gBR_sBM_c01_d04_mBR0_ch01.pkl``, V = 1, as ``extract_poses`` writes it). Each view is one
sample, as each camera's video is one sample of ``data=aist``; all views of a sequence share its
split. ``keypoints3d/`` files are one sample per sequence. In 2-D, ``normalized_2d/*.npy`` files
(AIST++'s z-scored coordinates, one view, 30 fps, confidence 1) are sequences too, unless
``data.normalized_2d=false``; a sequence with a keypoints2d file is never read twice. Both data
groups (``data=aist_pose``, ``data=pose_motion``) list them with ``source_table`` and read them
with ``read_source``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdance.config.pose_data import PoseDataConfig
from deepdance.data.aist.names import MANIFEST_COLUMNS, normalise_cameras, parse_sequence_name
from deepdance.data.aist.splits import (
    IGNORE_LIST,
    describe_split,
    hold_out,
    read_sequence_list,
    sequence_name,
    split_by_dancer,
)
from deepdance.data.genre.manifest import apply_split_files
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

FOLDERS = {"2d": "keypoints2d", "3d": "keypoints3d"}
STANDARDISED = "normalized_2d"
# the camera of a normalized_2d file's one view (they name none): data.views never selects it
STANDARDISED_CAMERA = "std"
# AIST++'s keypoints3d carry no timestamps; its keypoints2d are 60 fps
AIST_FPS = 60.0
SPLITS = ("train", "val", "test")
# A file of a whole sequence names its camera cAll.
ALL_VIEWS = "all"
# the video manifest's columns, a file's stem and its sequence in place of a video's name
TABLE_COLUMNS = ["path", "file", "sequence", *MANIFEST_COLUMNS[2:]]


def keypoint_files(root: Path, kind: str) -> list[Path]:
    """The ``.pkl`` files of ``root/keypoints2d`` (or ``keypoints3d``); one line when there are none."""
    folder = Path(root) / FOLDERS[kind]
    if not Path(root).is_dir():
        raise DeepdanceError(f"data.root={root}: no such folder; expected an AIST++ annotation folder")
    files = sorted(folder.glob("*.pkl")) if folder.is_dir() else []
    if not files:
        raise DeepdanceError(
            f"data.root={root}: no {FOLDERS[kind]}/*.pkl files (data.kind={kind}); expected an AIST++ "
            "annotation folder or the out folder of python -m deepdance.extract_poses"
        )
    return files


def named_rows(paths: list[Path]) -> tuple[list[dict[str, object]], list[tuple[Path, str]]]:
    """A ``TABLE_COLUMNS`` row per file with an AIST++ name, and (path, why) for the others (logged)."""
    rows, rejected = [], []
    for path in paths:
        try:
            fields = parse_sequence_name(path.name)
        except ValueError as err:
            rejected.append((path, str(err)))
            continue
        # a cAll file holds every camera's view
        camera = ALL_VIEWS if fields.camera == "All" else fields.camera
        row = {"path": str(path), "file": path.stem, "sequence": fields.sequence, **fields.columns()}
        rows.append({**row, "camera": camera})
    for path, reason in rejected:
        log.warning("not an AIST++ sequence name, left out: %s (%s)", path, reason)
    return rows, rejected


def sequence_table(root: str | Path, kind: str) -> pd.DataFrame:
    """One row per keypoint file with its AIST++ fields; files with other names are left out
    (logged by name), sequences in ``root/ignore_list.txt`` too."""
    rows, rejected = named_rows(keypoint_files(Path(root), kind))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if table.empty:
        raise DeepdanceError(
            f"data.root={root}: none of its {len(rejected)} {FOLDERS[kind]} file(s) has an AIST++ name "
            "like gBR_sBM_cAll_d04_mBR0_ch01.pkl"
        )
    ignore = Path(root) / IGNORE_LIST
    if ignore.is_file():
        ignored = set(map(sequence_name, read_sequence_list(ignore)))
        kept = ~table["sequence"].isin(ignored)
        log.info("%s: %d file(s) left out", ignore, int((~kept).sum()))
        table = table[kept].reset_index(drop=True)
    return table


def source_table(root: str | Path, kind: str, normalized_2d: bool = True) -> pd.DataFrame:
    """One row per file (``source``: its folder): the keypoint files of ``kind``, then (2-D, unless
    ``normalized_2d`` is false) the ``normalized_2d/*.npy`` of sequences without a keypoints2d file."""
    root = Path(root)
    if not root.is_dir():
        raise DeepdanceError(f"data.root={root}: no such folder; expected an AIST++ annotation folder")
    parts = []
    folder = FOLDERS[kind]
    if any((root / folder).glob("*.pkl")):
        parts.append(sequence_table(root, kind).assign(source=folder))
    standardised = sorted((root / STANDARDISED).glob("*.npy")) if kind == "2d" else []
    if standardised and normalized_2d:
        rows, _ = named_rows(standardised)
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS).assign(
            source=STANDARDISED, camera=STANDARDISED_CAMERA
        )
        seen = set(parts[0]["sequence"]) if parts else set()
        parts.append(table[~table["sequence"].isin(seen)])
    if not parts or sum(len(part) for part in parts) == 0:
        extra = f" or {STANDARDISED}/*.npy" if kind == "2d" and normalized_2d else ""
        raise DeepdanceError(
            f"data.root={root}: no {folder}/*.pkl{extra} files with AIST++ names (data.kind={kind}); "
            "expected an AIST++ annotation folder or the out folder of python -m deepdance.extract_poses"
        )
    return pd.concat(parts, ignore_index=True)


def read_source(row: Any, config: PoseDataConfig) -> tuple[np.ndarray, np.ndarray | None, float, Any]:
    """One ``source_table`` row's file as (points (V, N, J, D), confidence (V, N, J) or None, its fps,
    timestamps or None): a normalized_2d file is one view of confidence 1 (None) at 30 fps."""
    from deepdance.data.aist.annotations import load_keypoints2d, load_keypoints3d, load_standardised_2d

    path = Path(row.path)
    if row.source == STANDARDISED:
        standardised = load_standardised_2d(path)
        return standardised.coords[None], None, standardised.fps, None
    if row.source == FOLDERS["3d"]:
        # the same sequence's keypoints2d file, beside this file's folder, gives the rate
        twin = path.parent.parent / FOLDERS["2d"] / path.name
        fps = load_keypoints2d(twin).fps() if twin.is_file() else AIST_FPS
        return load_keypoints3d(path, optim=config.optim)[None], None, fps, None
    keypoints = load_keypoints2d(path)
    return keypoints.keypoints[..., :2], keypoints.keypoints[..., 2], keypoints.fps(), keypoints.timestamps


def split_table(config: PoseDataConfig) -> pd.DataFrame:
    """The source table of ``config.root``, filtered to ``data.genres`` and split by ``data.split``,
    from the file names alone: an empty split or a single genre stops here, before any file is read."""
    return assign_split(source_table(config.root, config.kind, config.normalized_2d), config)


def assign_split(table: pd.DataFrame, config: PoseDataConfig, min_genres: int = 2) -> pd.DataFrame:
    """``table`` filtered to ``data.genres`` and split by ``data.split``; without ``data.genres``, a
    table of fewer than ``min_genres`` genres stops here (a genre model needs two)."""
    root = config.root
    if config.genres:
        table = table[table["genre"].isin(config.genres)].reset_index(drop=True)
        if table.empty:
            raise DeepdanceError(f"data root {root}: no keypoints of data.genres={config.genres}")
        table["label"] = table["genre"].map({g: i for i, g in enumerate(config.genres)})
        missing = sorted(set(config.genres) - set(table["genre"]))
        if missing:
            log.warning("data root %s has no keypoints of genre(s) %s of data.genres", root, missing)
    elif table["genre"].nunique() < min_genres:
        raise DeepdanceError(
            f"data root {root}: keypoints of one genre only ({table['genre'].iloc[0]}); a genre model needs "
            "two or more (add sequences of other genres, or name the classes, e.g. data.genres=[BR,PO], "
            "for a smoke test)"
        )
    if config.split == "dancer":
        table["split"] = split_by_dancer(
            table, config.seed, config.val_dancers, config.test_dancers, config.fold
        )
    elif config.split == "sequence":
        # every view and file of a sequence in one split
        table["split"] = hold_out(table, "sequence", config.seed, config.val_sequences, config.test_sequences)
    else:
        # a cAll line covers its sequence's file, a camera's line that camera's file
        table = apply_split_files(table.assign(name=table["file"]), config)
    table = table.reset_index(drop=True)
    for split in SPLITS:
        if not (table["split"] == split).any():
            need = {
                "dancer": "at least 3 dancers per genre, or data.split=sequence",
                "sequence": "at least 3 sequences per genre",
                "files": "its split files to list sequences found here",
            }[config.split]
            raise DeepdanceError(
                f"data root {root}: the {split} split is empty; data.split={config.split} needs {need} "
                f"(found {table['sequence'].nunique()} sequences of {table['dancer'].nunique()} dancers)"
            )
    return table


def view_cameras(row: pd.Series, views: int, kind: str = "2d") -> list[str]:
    """The camera of each view of a file: c01.. for a whole sequence, its own for a video's file,
    ``all`` for a 3-D sequence (seen from no camera)."""
    if kind == "3d":
        return [ALL_VIEWS]
    if row["camera"] == ALL_VIEWS:
        return [f"{v + 1:02d}" for v in range(views)]
    if views != 1:
        raise DeepdanceError(
            f"{row['path']}: {views} views in the file of one camera's video (c{row['camera']}); expected "
            "1, or a cAll sequence name for several views"
        )
    return [row["camera"]]


def expand_views(
    table: pd.DataFrame, views_per_file: list[int], keep: list[int | str] | None, kind: str = "2d"
) -> pd.DataFrame:
    """One row per view of each file (``views_per_file[i]`` views in file ``i``), with its camera,
    video name and index ``view`` in the file; ``keep`` (``data.views``) filters the cameras."""
    wanted = set(normalise_cameras(keep)) if keep is not None else None
    rows = []
    for (_, row), views in zip(table.iterrows(), views_per_file):
        for view, camera in enumerate(view_cameras(row, views, kind)):
            if wanted is not None and camera not in wanted:
                continue
            name = (
                row["sequence"] if camera == ALL_VIEWS else row["sequence"].replace("_cAll_", f"_c{camera}_")
            )
            rows.append({**row.to_dict(), "camera": camera, "name": name, "view": view})
    manifest = pd.DataFrame(rows)
    if manifest.empty:
        raise DeepdanceError(f"data.views={keep}: no view of these cameras in the keypoint files")
    manifest["video_id"] = np.arange(len(manifest))
    manifest["sequence_id"] = pd.factorize(manifest["sequence"], sort=True)[0]
    for split in SPLITS:
        if not (manifest["split"] == split).any():
            raise DeepdanceError(f"data.views={keep}: the {split} split has no view of these cameras")
    log.info(
        "%d samples (views) of %d sequences\n%s",
        len(manifest),
        table["sequence"].nunique(),
        describe_split(manifest),
    )
    return manifest
