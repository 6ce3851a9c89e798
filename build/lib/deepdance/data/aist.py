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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

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
        n_test = int(round(len(index) * test_fraction))
        n_val = int(round(len(index) * val_fraction))
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
