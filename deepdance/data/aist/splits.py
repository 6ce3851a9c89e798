"""Leak-free splits of an AIST++ manifest, filters, and the official AIST++ split files.

In AIST++ every dancer dances exactly one genre, so a random split puts the same person in
train and test and rewards recognising people; the default split here holds out whole dancers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from deepdance.data.aist.names import normalise_cameras, normalise_situations, parse_sequence_name
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)


def split_by_dancer(
    manifest: pd.DataFrame,
    seed: int = 0,
    val_dancers: int = 1,
    test_dancers: int = 1,
    fold: int | None = None,
) -> pd.Series:
    """Hold out whole dancers: per genre ``test_dancers`` for test, ``val_dancers`` for val.

    Returns a Series of split names aligned with ``manifest``. A genre with too few dancers
    keeps at least one for training, and the shortfall is logged. ``fold=k`` rotates the held-out
    dancers (one test, one val per genre; see ``fold_split``), so that a result can be averaged
    over which dancers are held out.
    """
    return hold_out(manifest, "dancer", seed, val_dancers, test_dancers, fold)


def hold_out(
    manifest: pd.DataFrame, unit: str, seed: int = 0, val: int = 1, test: int = 1, fold: int | None = None
) -> pd.Series:
    """Per genre, whole values of column ``unit`` (a dancer, a sequence) held out: ``test`` of them
    for test, ``val`` for val, the rest train, drawn by ``seed`` (or rotated by ``fold``)."""
    rng = np.random.default_rng(seed)
    split_of: dict[str, str] = {}
    for genre, group in manifest.groupby("genre", sort=True):
        units = sorted(group[unit].unique())
        rng.shuffle(units)
        if fold is not None:
            split_of.update(fold_split(str(genre), units, fold))
            continue
        n_test = min(test, max(len(units) - 1, 0))
        n_val = min(val, max(len(units) - 1 - n_test, 0))
        if n_test < test or n_val < val:
            log.warning(
                "genre %s has %d %s(s): %d test, %d val, %d train",
                genre,
                len(units),
                unit,
                n_test,
                n_val,
                len(units) - n_test - n_val,
            )
        for i, value in enumerate(units):
            split_of[value] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return manifest[unit].map(split_of).rename("split")


def fold_split(genre: str, dancers: list[str], fold: int) -> dict[str, str]:
    """Fold ``k`` of one genre's shuffled dancers: dancer k tests, dancer (k+1) mod n validates.

    Over k = 0..n-1 every dancer is the test dancer once, and fold 0 is the split of
    ``val_dancers=test_dancers=1`` without a fold.
    """
    n = len(dancers)
    if n < 3 or not 0 <= fold < n:
        raise DeepdanceError(
            f"data.fold={fold}: genre {genre} has {n} dancer(s); expected 0 <= fold < {n} "
            "and at least 3 dancers (train, val and test)"
        )
    split = dict.fromkeys(dancers, "train")
    split[dancers[fold]] = "test"
    split[dancers[(fold + 1) % n]] = "val"
    return split


def split_at_random(
    manifest: pd.DataFrame, seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15
) -> pd.Series:
    """The original notebook's split: videos shuffled at random, stratified by genre.

    It leaks: the same dancer lands in train and test. It exists to measure that leak.
    """
    rng = np.random.default_rng(seed)
    split = pd.Series("train", index=manifest.index, name="split")
    for _, group in manifest.groupby("genre", sort=True):
        index = group.index.to_numpy().copy()
        rng.shuffle(index)
        n_test = round(len(index) * test_fraction)
        n_val = round(len(index) * val_fraction)
        split.loc[index[:n_test]] = "test"
        split.loc[index[n_test : n_test + n_val]] = "val"
    return split


def dancers_shared_between_splits(manifest: pd.DataFrame) -> set[str]:
    """Dancer ids that appear in more than one split: empty for a leak-free split."""
    counts = manifest.groupby("dancer")["split"].nunique()
    return set(counts[counts > 1].index)


def describe_split(manifest: pd.DataFrame) -> str:
    """One line per split: videos, dancers, genres, so the log states what was held out."""
    lines = []
    for split in ("train", "val", "test"):
        part = manifest[manifest["split"] == split]
        dancers = ",".join(sorted(part["dancer"].unique()))
        lines.append(
            f"{split:>5}: {len(part):5d} videos, {part['dancer'].nunique():3d} dancers [{dancers}], "
            f"{part['genre'].nunique()} genres"
        )
    return "\n".join(lines)


SPLIT_SETS: tuple[str, ...] = ("crossmodal", "pose")
IGNORE_LIST = "ignore_list.txt"


def filter_manifest(
    manifest: pd.DataFrame,
    cameras: Iterable[int | str] | None = None,
    situations: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Keep only the given cameras and situations (``None`` keeps all)."""
    keep = pd.Series(True, index=manifest.index)
    if cameras is not None:
        keep &= manifest["camera"].isin(normalise_cameras(cameras))
    if situations is not None:
        keep &= manifest["situation"].isin(normalise_situations(situations))
    return manifest[keep]


def sequence_name(name: str) -> str:
    """The ``cAll`` sequence of a video or sequence name: ``gBR_sBM_c01_..`` -> ``gBR_sBM_cAll_..``."""
    return parse_sequence_name(name.strip()).sequence


def list_entry(name: str) -> str:
    """The video or sequence a list line names: ``gBR_sBM_c01_..`` stays that one camera's video,
    ``gBR_sBM_cAll_..`` is the sequence seen by every camera (suffixes such as ``.pkl`` dropped)."""
    fields = parse_sequence_name(name.strip())
    return fields.sequence if fields.camera == "All" else fields.filename("")


def read_sequence_list(path: Path) -> list[str]:
    """The entries of an AIST++ list file (one a line; ``#`` comments and blanks skipped).

    A line names a sequence (``gBR_sBM_cAll_d04_mBR0_ch01``: every camera) or one camera's
    video (``gBR_sBM_c01_d04_mBR0_ch01``: that camera only); see ``list_entry``. A line that
    is neither is an error naming the file and line.
    """
    names = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            names.append(list_entry(text))
        except ValueError as err:
            raise ValueError(f"{path}:{number}: {err}") from None
    return names


def split_files(split_dir: Path, split_set: str) -> dict[str, Path]:
    """The three files of ``split_set`` in ``split_dir``; a missing one is a ``FileNotFoundError``."""
    if split_set not in SPLIT_SETS:
        raise ValueError(f"split set {split_set!r} is not known; AIST++ ships {', '.join(SPLIT_SETS)}")
    files = {split: Path(split_dir) / f"{split_set}_{split}.txt" for split in ("train", "val", "test")}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(
                f"split file {path} does not exist; a split dir holds {split_set}_train.txt, "
                f"{split_set}_val.txt, "
                f"{split_set}_test.txt and optionally {IGNORE_LIST} (the AIST++ annotations' splits/ folder)"
            )
    return files


def _entry_of(name: str, entries: dict[str, str] | set[str]) -> str | None:
    """The list entry that covers video ``name``: its own camera line first, else its ``cAll`` line."""
    for key in (name, sequence_name(name)):
        if key in entries:
            return key
    return None


def split_by_files(manifest: pd.DataFrame, split_dir: Path, split_set: str = "crossmodal") -> pd.Series:
    """Assign each video the split of the list line that covers it.

    AIST++ convention: a ``cAll`` line covers every camera of its sequence; a line naming one
    camera (``c01``) covers that camera's video only. ``ignore_list.txt`` (if the folder has
    one) follows the same rule. Videos no line covers, and ignored ones, get no split (NaN):
    the caller drops them and says how many.
    """
    split_of: dict[str, str] = {}
    for split, path in split_files(split_dir, split_set).items():
        for entry in read_sequence_list(path):
            if split_of.get(entry, split) != split:
                raise ValueError(f"{path}: {entry} is also listed in {split_set}_{split_of[entry]}.txt")
            split_of[entry] = split
    # A camera line in one split and its cAll line in another leave that video's split ambiguous.
    for entry, split in split_of.items():
        whole = sequence_name(entry)
        if whole != entry and split_of.get(whole, split) != split:
            raise ValueError(
                f"{split_dir}: {entry} is listed in {split_set}_{split}.txt "
                f"but its sequence {whole} is in {split_set}_{split_of[whole]}.txt"
            )
    ignore_path = Path(split_dir) / IGNORE_LIST
    ignored = set(read_sequence_list(ignore_path)) if ignore_path.is_file() else set()
    names = manifest["name"]
    covered = names.map(lambda name: _entry_of(name, split_of))
    is_ignored = names.map(lambda name: _entry_of(name, ignored) is not None).astype(bool)
    split = covered.map(split_of).where(~is_ignored).rename("split")
    unseen = set(split_of) - set(covered.dropna())
    log.info(
        "split files %s/%s_*.txt: %d lines, %d ignored by %s; %d of %d videos matched, "
        "%d listed names have no video here",
        split_dir,
        split_set,
        len(split_of),
        len(ignored),
        IGNORE_LIST,
        int(split.notna().sum()),
        len(manifest),
        len(unseen),
    )
    return split
