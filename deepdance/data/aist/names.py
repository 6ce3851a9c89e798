"""AIST++ video names and the manifest table built from them.

An AIST++ video name encodes who danced what where:
``gBR_sBM_c01_d04_mBR0_ch01.mp4`` = genre BR, situation BM (basic), camera 01, dancer 04,
music mBR0, choreography 01.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

log = logging.getLogger(__name__)

# The ten AIST++ genres, in the order used for class indices.
GENRES: tuple[str, ...] = ("BR", "PO", "LO", "MH", "LH", "HO", "WA", "KR", "JS", "JB")
GENRE_NAMES: dict[str, str] = {
    "BR": "Break",
    "PO": "Pop",
    "LO": "Lock",
    "MH": "Middle Hip-hop",
    "LH": "LA-style Hip-hop",
    "HO": "House",
    "WA": "Waack",
    "KR": "Krump",
    "JS": "Street Jazz",
    "JB": "Ballet Jazz",
}
SITUATIONS: tuple[str, ...] = ("BM", "FM", "MM", "GR", "SH")
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")

# g{genre}_s{situation}_c{camera}_d{dancer}_m{genre}{music}_ch{choreography}
_NAME = re.compile(
    r"^g(?P<genre>[A-Z]{2})_s(?P<situation>[A-Z]{2})_c(?P<camera>\d{2})_d(?P<dancer>\d{2})"
    r"_m(?P<music_genre>[A-Z]{2})(?P<music>\d)_ch(?P<choreography>\d{2})$"
)

MANIFEST_COLUMNS = [
    "path",
    "name",
    "genre",
    "label",
    "situation",
    "camera",
    "dancer",
    "music",
    "choreography",
]
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

    def columns(self) -> dict[str, str | int]:
        """The fields as a table row's columns (genre, class label, situation, camera, ...): the
        video manifest, the annotation folder and the keypoint sequence table share them."""
        return {
            "genre": self.genre,
            "label": GENRES.index(self.genre),
            "situation": self.situation,
            "camera": self.camera,
            "dancer": self.dancer,
            "music": self.music,
            "choreography": self.choreography,
        }

    def filename(self, suffix: str = ".mp4") -> str:
        return (
            f"g{self.genre}_s{self.situation}_c{self.camera}_d{self.dancer}"
            f"_m{self.music}_ch{self.choreography}{suffix}"
        )


def parse_aist_name(name: str) -> AistName:
    """Parse ``gBR_sBM_c01_d04_mBR0_ch01[.mp4]``; raise ``ValueError`` naming what is off."""
    stem = Path(name).name
    for suffix in VIDEO_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    match = _NAME.match(stem)
    if match is None:
        raise ValueError(f"{name!r} is not a single-dancer AIST++ name like gBR_sBM_c01_d04_mBR0_ch01.mp4")
    fields = match.groupdict()
    if fields["genre"] not in GENRES:
        raise ValueError(
            f"{name!r}: unknown genre {fields['genre']!r}; AIST++ genres are {', '.join(GENRES)}"
        )
    if fields["situation"] not in SITUATIONS:
        raise ValueError(
            f"{name!r}: unknown situation {fields['situation']!r}; expected one of {', '.join(SITUATIONS)}"
        )
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
        rows.append({"path": str(path), "name": Path(path).stem, **fields.columns()})
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    return manifest, rejected


def normalise_cameras(cameras: Iterable[int | str]) -> list[str]:
    """``[1, "02", "c03"]`` -> ``["01", "02", "03"]``; anything else is a ``ValueError``."""
    out = []
    for camera in cameras:
        text = str(camera).strip()
        digits = text[1:] if text.lower().startswith("c") else text
        if not digits.isdigit() or not 0 <= int(digits) <= 99:
            raise ValueError(
                f"camera {camera!r} is not a camera id; use numbers or names like 1, '01' or 'c01'"
            )
        out.append(f"{int(digits):02d}")
    return out


def normalise_situations(situations: Iterable[str]) -> list[str]:
    """``["BM", "sFM"]`` -> ``["BM", "FM"]``; unknown situations are a ``ValueError``."""
    out = []
    for situation in situations:
        text = str(situation).strip()
        code = text[1:] if len(text) == 3 and text[0] == "s" else text
        if code not in SITUATIONS:
            raise ValueError(
                f"situation {situation!r} is not known; AIST++ situations are {', '.join(SITUATIONS)}"
            )
        out.append(code)
    return out


def parse_sequence_name(name: str) -> AistName:
    """Parse an annotation file name: a sequence ``gBR_sBM_cAll_d04_mBR0_ch01[.pkl]`` (every
    camera; ``camera`` is ``"All"``) or one camera's ``gBR_sBM_c01_d04_mBR0_ch01``.

    AIST++ annotations are named by sequence, which ``parse_aist_name`` (video names) refuses.
    """
    stem = Path(name).name
    for suffix in (*VIDEO_SUFFIXES, ".pkl", ".npy", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if "_cAll_" not in stem:
        return parse_aist_name(stem)
    try:
        fields = parse_aist_name(stem.replace("_cAll_", "_c00_", 1))
    except ValueError:
        raise ValueError(f"{name!r} is not an AIST++ sequence name like gBR_sBM_cAll_d04_mBR0_ch01") from None
    return AistName(
        genre=fields.genre,
        situation=fields.situation,
        camera="All",
        dancer=fields.dancer,
        music=fields.music,
        choreography=fields.choreography,
    )
