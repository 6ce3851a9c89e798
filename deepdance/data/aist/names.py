"""AIST++ video names, the manifest table built from them, and leak-free splits.

An AIST++ video name encodes who danced what where:
``gBR_sBM_c01_d04_mBR0_ch01.mp4`` = genre BR, situation BM (basic), camera 01, dancer 04,
music mBR0, choreography 01. In AIST++ every dancer dances exactly one genre, so a random
split puts the same person in train and test and rewards recognising people; the default
split here holds out whole dancers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

# The ten AIST++ genres, in the order used for class indices.
GENRES: tuple[str, ...] = ("BR", "PO", "LO", "MH", "LH", "HO", "WA", "KR", "JS", "JB")
GENRE_NAMES: dict[str, str] = {
    "BR": "Break", "PO": "Pop", "LO": "Lock", "MH": "Middle Hip-hop", "LH": "LA-style Hip-hop",
    "HO": "House", "WA": "Waack", "KR": "Krump", "JS": "Street Jazz", "JB": "Ballet Jazz",
}
SITUATIONS: tuple[str, ...] = ("BM", "FM", "MM", "GR", "SH")
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")

# g{genre}_s{situation}_c{camera}_d{dancer}_m{genre}{music}_ch{choreography}
_NAME = re.compile(
    r"^g(?P<genre>[A-Z]{2})_s(?P<situation>[A-Z]{2})_c(?P<camera>\d{2})_d(?P<dancer>\d{2})"
    r"_m(?P<music_genre>[A-Z]{2})(?P<music>\d)_ch(?P<choreography>\d{2})$"
)

MANIFEST_COLUMNS = ["path", "name", "genre", "label", "situation", "camera", "dancer", "music", "choreography"]
SplitName = Literal["train", "val", "test"]


@dataclass(frozen=True)
class AistName:
    """The parsed fields of one single-dancer AIST++ video name."""

    genre: str
    situation: str
    camera: str
    dancer: str
    music: str
    choreography: str

    @property
    def sequence(self) -> str:
        """The name with the camera replaced by ``cAll``: one sequence seen by every camera."""
        return f"g{self.genre}_s{self.situation}_cAll_d{self.dancer}_m{self.music}_ch{self.choreography}"

    def filename(self, suffix: str = ".mp4") -> str:
        return f"g{self.genre}_s{self.situation}_c{self.camera}_d{self.dancer}_m{self.music}_ch{self.choreography}{suffix}"


def parse_aist_name(name: str) -> AistName:
    """Parse ``gBR_sBM_c01_d04_mBR0_ch01[.mp4]``; raise ``ValueError`` naming what is off."""
    stem = Path(name).name
    for suffix in VIDEO_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    match = _NAME.match(stem)
    if match is None:
        raise ValueError(
            f"{name!r} is not a single-dancer AIST++ name like gBR_sBM_c01_d04_mBR0_ch01.mp4"
        )
    fields = match.groupdict()
    if fields["genre"] not in GENRES:
        raise ValueError(f"{name!r}: unknown genre {fields['genre']!r}; AIST++ genres are {', '.join(GENRES)}")
    if fields["situation"] not in SITUATIONS:
        raise ValueError(f"{name!r}: unknown situation {fields['situation']!r}; expected one of {', '.join(SITUATIONS)}")
    if fields["music_genre"] != fields["genre"]:
        raise ValueError(f"{name!r}: music m{fields['music_genre']} does not match genre g{fields['genre']}")
    return AistName(
        genre=fields["genre"],
        situation=fields["situation"],
        camera=fields["camera"],
        dancer=fields["dancer"],
        music=f"{fields['music_genre']}{fields['music']}",
        choreography=fields["choreography"],
    )


def find_videos(root: Path) -> list[Path]:
    """All video files under ``root`` (recursively), sorted; errors name the path at fault."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"data root {root} does not exist")
    if root.is_file():
        return [root]
    videos = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise FileNotFoundError(f"data root {root} holds no video files ({', '.join(VIDEO_SUFFIXES)})")
    return videos


def build_manifest(videos: Iterable[Path]) -> tuple[pd.DataFrame, list[tuple[Path, str]]]:
    """Parse every video name into a table; return it and the ``(path, reason)`` pairs rejected.

    Rejected names (group dances, showcase videos, stray files) are returned, never dropped
    silently: callers log them by path.
    """
    rows, rejected = [], []
    for path in videos:
        try:
            fields = parse_aist_name(path.name)
        except ValueError as err:
            rejected.append((Path(path), str(err)))
            continue
        rows.append(
            {
                "path": str(path),
                "name": Path(path).stem,
                "genre": fields.genre,
                "label": GENRES.index(fields.genre),
                "situation": fields.situation,
                "camera": fields.camera,
                "dancer": fields.dancer,
                "music": fields.music,
                "choreography": fields.choreography,
            }
        )
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    return manifest, rejected


def split_by_dancer(manifest: pd.DataFrame, seed: int = 0, val_dancers: int = 1, test_dancers: int = 1) -> pd.Series:
    """Hold out whole dancers: per genre ``test_dancers`` for test, ``val_dancers`` for val.

    Returns a Series of split names aligned with ``manifest``. A genre with too few dancers
    keeps at least one for training, and the shortfall is logged.
    """
    rng = np.random.default_rng(seed)
    dancer_split: dict[str, str] = {}
    for genre, group in manifest.groupby("genre", sort=True):
        dancers = sorted(group["dancer"].unique())
        rng.shuffle(dancers)
        n_test = min(test_dancers, max(len(dancers) - 1, 0))
        n_val = min(val_dancers, max(len(dancers) - 1 - n_test, 0))
        if n_test < test_dancers or n_val < val_dancers:
            log.warning("genre %s has %d dancer(s): %d test, %d val, %d train", genre, len(dancers), n_test, n_val, len(dancers) - n_test - n_val)
        for i, dancer in enumerate(dancers):
            dancer_split[dancer] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return manifest["dancer"].map(dancer_split).rename("split")


def split_at_random(manifest: pd.DataFrame, seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15) -> pd.Series:
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
        lines.append(f"{split:>5}: {len(part):5d} videos, {part['dancer'].nunique():3d} dancers [{dancers}], {part['genre'].nunique()} genres")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Filters and the official AIST++ split files
# --------------------------------------------------------------------------------------------

SPLIT_SETS: tuple[str, ...] = ("crossmodal", "pose")
IGNORE_LIST = "ignore_list.txt"


def normalise_cameras(cameras: Iterable[int | str]) -> list[str]:
    """``[1, "02", "c03"]`` -> ``["01", "02", "03"]``; anything else is a ``ValueError``."""
    out = []
    for camera in cameras:
        text = str(camera).strip()
        digits = text[1:] if text.lower().startswith("c") else text
        if not digits.isdigit() or not 0 <= int(digits) <= 99:
            raise ValueError(f"camera {camera!r} is not a camera id; use numbers or names like 1, '01' or 'c01'")
        out.append(f"{int(digits):02d}")
    return out


def normalise_situations(situations: Iterable[str]) -> list[str]:
    """``["BM", "sFM"]`` -> ``["BM", "FM"]``; unknown situations are a ``ValueError``."""
    out = []
    for situation in situations:
        text = str(situation).strip()
        code = text[1:] if len(text) == 3 and text[0] == "s" else text
        if code not in SITUATIONS:
            raise ValueError(f"situation {situation!r} is not known; AIST++ situations are {', '.join(SITUATIONS)}")
        out.append(code)
    return out


def filter_manifest(manifest: pd.DataFrame, cameras: Iterable[int | str] | None = None,
                    situations: Iterable[str] | None = None) -> pd.DataFrame:
    """Keep only the given cameras and situations (``None`` keeps all)."""
    keep = pd.Series(True, index=manifest.index)
    if cameras is not None:
        keep &= manifest["camera"].isin(normalise_cameras(cameras))
    if situations is not None:
        keep &= manifest["situation"].isin(normalise_situations(situations))
    return manifest[keep]


def sequence_name(name: str) -> str:
    """The ``cAll`` sequence of a video or sequence name: ``gBR_sBM_c01_..`` -> ``gBR_sBM_cAll_..``."""
    stem = Path(name.strip()).name
    for suffix in (*VIDEO_SUFFIXES, ".pkl", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return parse_aist_name(re.sub(r"_cAll_", "_c01_", stem)).sequence


def list_entry(name: str) -> str:
    """The video or sequence a list line names: ``gBR_sBM_c01_..`` stays that one camera's video,
    ``gBR_sBM_cAll_..`` is the sequence seen by every camera (suffixes such as ``.pkl`` dropped)."""
    stem = Path(name.strip()).name
    for suffix in (*VIDEO_SUFFIXES, ".pkl", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    fields = parse_aist_name(re.sub(r"_cAll_", "_c01_", stem))
    return fields.sequence if "_cAll_" in stem else fields.filename("")


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
                f"split file {path} does not exist; a split dir holds {split_set}_train.txt, {split_set}_val.txt, "
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
            raise ValueError(f"{split_dir}: {entry} is listed in {split_set}_{split}.txt "
                             f"but its sequence {whole} is in {split_set}_{split_of[whole]}.txt")
    ignore_path = Path(split_dir) / IGNORE_LIST
    ignored = set(read_sequence_list(ignore_path)) if ignore_path.is_file() else set()
    names = manifest["name"]
    covered = names.map(lambda name: _entry_of(name, split_of))
    is_ignored = names.map(lambda name: _entry_of(name, ignored) is not None).astype(bool)
    split = covered.map(split_of).where(~is_ignored).rename("split")
    unseen = set(split_of) - set(covered.dropna())
    log.info("split files %s/%s_*.txt: %d lines, %d ignored by %s; %d of %d videos matched, "
             "%d listed names have no video here",
             split_dir, split_set, len(split_of), len(ignored), IGNORE_LIST, int(split.notna().sum()),
             len(manifest), len(unseen))
    return split
