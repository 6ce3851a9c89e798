"""The manifest of a genre run: one row per video, its names and its split, nothing decoded.

``build_manifest`` is a plain function of the ``data`` config, so a run builds the manifest once
and hands it to the datamodule, and the start-up check calls the same function without one.
Inside ``one_manifest_per_run`` a second call with the same settings (the run after its
start-up check) returns the first call's table instead of listing the videos again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd

from deepdance.config.data import GenreDataConfig
from deepdance.config.pose_data import PoseDataConfig
from deepdance.data.aist import names
from deepdance.data.aist.splits import (
    dancers_shared_between_splits,
    describe_split,
    filter_manifest,
    sequence_name,
    split_at_random,
    split_by_dancer,
    split_by_files,
)
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

# The data settings that decide the manifest; any other setting leaves it unchanged.
MANIFEST_KEYS = (
    "root",
    "split",
    "seed",
    "val_dancers",
    "test_dancers",
    "fold",
    "genres",
    "cameras",
    "situations",
    "split_dir",
    "split_set",
)
SPLITS = ("train", "val", "test")

# The manifests built so far in this run, by settings; None outside ``one_manifest_per_run``.
_RUN_MANIFESTS: ContextVar[dict[str, pd.DataFrame] | None] = ContextVar("run_manifests", default=None)


@contextlib.contextmanager
def one_manifest_per_run() -> Iterator[None]:
    """Within, ``build_manifest`` builds each manifest once: the start-up check's is the run's."""
    if _RUN_MANIFESTS.get() is not None:
        # an enclosing run (e.g. the stages of one command) already keeps them
        yield
        return
    token = _RUN_MANIFESTS.set({})
    try:
        yield
    finally:
        _RUN_MANIFESTS.reset(token)


def build_manifest(config: GenreDataConfig) -> pd.DataFrame:
    """The videos under ``config.root`` with AIST++ names, filtered and split; no video opened.

    Errors are one line: a missing root, no AIST++ name, a filter that keeps nothing, an empty
    split.
    """
    key = config.model_dump_json(include=set(MANIFEST_KEYS))
    built = _RUN_MANIFESTS.get()
    if built is not None and key in built:
        return built[key].copy()
    manifest = _split(_filter(_named_videos(Path(config.root)), config), config)
    if built is not None:
        built[key] = manifest
    return manifest.copy()


def ensure_videos(config: GenreDataConfig) -> None:
    """Synthetic dancers (``data.synthetic``) are generated on first use; real videos are read as they are."""
    if config.synthetic is not None:
        from deepdance.data.synthetic.dataset import ensure_synthetic_dataset

        ensure_synthetic_dataset(config.root, config.synthetic)


def video_refs(manifest: pd.DataFrame, root: str | Path) -> list[tuple[str, str]]:
    """``(path relative to the data root, path)`` per video: the feature store's entry names."""
    root = Path(root)
    base = root if root.is_dir() else root.parent
    return [(os.path.relpath(path, base), path) for path in manifest["path"]]


def check_splits(manifest: pd.DataFrame, root: str | Path, split_rule: str) -> None:
    """Every split needs videos: checked on the names (no video opened), and again after probing."""
    for split in SPLITS:
        if not (manifest["split"] == split).any():
            need = (
                "its split files to list videos found here"
                if split_rule == "files"
                else "at least 3 dancers per genre"
            )
            raise DeepdanceError(
                f"data root {root}: the {split} split is empty; it needs {need} (found "
                f"{len(manifest)} videos of {manifest['dancer'].nunique()} dancers)"
            )


def _named_videos(root: Path) -> pd.DataFrame:
    """Every video under ``root`` whose name parses as a single-dancer AIST++ video."""
    try:
        videos = names.find_videos(root)
    except FileNotFoundError as err:
        raise DeepdanceError(str(err)) from None
    manifest, rejected = names.build_manifest(videos)
    for path, reason in rejected:
        log.warning("not an AIST++ single-dancer video, left out: %s (%s)", path, reason)
    if manifest.empty:
        raise DeepdanceError(
            f"data root {root}: none of its {len(videos)} video(s) has an AIST++ name like "
            "gBR_sBM_c01_d04_mBR0_ch01.mp4"
        )
    log.info("%d AIST++-named videos under %s (%d other names left out)", len(manifest), root, len(rejected))
    return manifest


def _filter(manifest: pd.DataFrame, config: GenreDataConfig) -> pd.DataFrame:
    """``data.genres`` / ``data.cameras`` / ``data.situations``: keep only those videos."""
    root, genres = config.root, config.genres
    if genres:
        manifest = manifest[manifest["genre"].isin(genres)].reset_index(drop=True)
        # class order = list order
        manifest["label"] = manifest["genre"].map({g: i for i, g in enumerate(genres)})
        if manifest.empty:
            raise DeepdanceError(f"data root {root}: no video of data.genres={genres}")
    cameras, situations = config.cameras, config.situations
    if cameras is None and situations is None:
        return manifest
    try:
        kept = filter_manifest(manifest, cameras, situations)
    except ValueError as err:
        raise DeepdanceError(f"data.cameras={cameras} / data.situations={situations}: {err}") from None
    log.info(
        "filters cameras=%s situations=%s keep %d of %d videos", cameras, situations, len(kept), len(manifest)
    )
    if kept.empty:
        raise DeepdanceError(
            f"data root {root}: no video matches data.cameras={cameras} data.situations={situations} "
            f"(found cameras {sorted(manifest['camera'].unique())}, situations "
            f"{sorted(manifest['situation'].unique())})"
        )
    return kept


def _split(manifest: pd.DataFrame, config: GenreDataConfig) -> pd.DataFrame:
    """The split column by ``data.split``, ids, and the checks a split must pass from names alone."""
    rule = config.split
    if rule == "dancer":
        manifest["split"] = split_by_dancer(
            manifest, config.seed, config.val_dancers, config.test_dancers, config.fold
        )
    elif rule == "files":
        manifest = apply_split_files(manifest, config)
    else:
        manifest["split"] = split_at_random(manifest, config.seed)
        log.warning(
            "data.split=random: the same dancers appear in train and test, so test accuracy rewards "
            "recognising people"
        )
    manifest = manifest.reset_index(drop=True)
    manifest["video_id"] = np.arange(len(manifest))
    manifest["sequence"] = manifest["name"].map(sequence_name)
    manifest["sequence_id"] = pd.factorize(manifest["sequence"], sort=True)[0]
    log.info("split=%s (%d videos)\n%s", rule, len(manifest), describe_split(manifest))
    shared = dancers_shared_between_splits(manifest)
    if shared and rule == "dancer":
        raise DeepdanceError(f"dancer split leaks dancers {sorted(shared)} across splits")
    if shared and rule == "files":
        log.warning(
            "split files share %d dancer(s) between splits (the official crossmodal split differs "
            "only in music): genre accuracy on it partly measures recognising dancers; data.split=dancer "
            "holds dancers out",
            len(shared),
        )
    # From the file names alone: an empty split stops the run before any video is probed
    # or any feature computed.
    check_splits(manifest, config.root, rule)
    return manifest


def apply_split_files(manifest: pd.DataFrame, config: GenreDataConfig | PoseDataConfig) -> pd.DataFrame:
    """``data.split=files``: the official AIST++ lists decide; unlisted and ignored videos (or
    keypoint files) leave."""
    split_dir, split_set = config.split_dir, config.split_set
    try:
        split = split_by_files(manifest, Path(split_dir), split_set)
    except (OSError, ValueError, TypeError) as err:
        raise DeepdanceError(f"data.split_dir={split_dir}: {err}") from None
    manifest = manifest.assign(split=split)
    dropped = manifest["split"].isna()
    if dropped.any():
        log.info(
            "%d video(s) are in no %s split file or in ignore_list.txt: left out",
            int(dropped.sum()),
            split_set,
        )
    return manifest[~dropped]
