"""Official AIST++ split files (a cAll line covers every camera, a camera line that camera only;
ignore_list.txt) and the camera and situation filters, on the parser and through the datamodule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from deepdance.config.base import parse
from deepdance.config.data import GenreDataConfig
from deepdance.data.aist import (
    build_manifest,
    filter_manifest,
    normalise_cameras,
    sequence_name,
    split_by_files,
)
from deepdance.data.genre.manifest import build_manifest as genre_manifest
from deepdance.errors import DeepdanceError


def _manifest() -> pd.DataFrame:
    names = [
        f"g{g}_s{s}_c{c:02d}_d{d}_m{g}0_ch01.mp4"
        for g, d in (("BR", "01"), ("PO", "02"), ("LO", "03"))
        for s in ("BM", "FM")
        for c in (1, 2, 3)
    ]
    manifest, rejected = build_manifest([Path("/videos") / n for n in names])
    assert not rejected
    return manifest


def _split_dir(tmp_path: Path, ignore: list[str] | None = None, prefix: str = "crossmodal") -> Path:
    (tmp_path / f"{prefix}_train.txt").write_text(
        "gBR_sBM_cAll_d01_mBR0_ch01\ngBR_sFM_cAll_d01_mBR0_ch01\n# a comment\n\n"
    )
    (tmp_path / f"{prefix}_val.txt").write_text("gPO_sBM_cAll_d02_mPO0_ch01\n")
    (tmp_path / f"{prefix}_test.txt").write_text(
        "gLO_sBM_cAll_d03_mLO0_ch01\ngLO_sFM_c02_d03_mLO0_ch01\ngJB_sBM_cAll_d27_mJB0_ch01\n"
    )
    if ignore is not None:
        (tmp_path / "ignore_list.txt").write_text("\n".join(ignore) + "\n")
    return tmp_path


def test_call_lines_cover_every_camera_and_camera_lines_one_camera(tmp_path: Path) -> None:
    manifest = _manifest()
    split = split_by_files(manifest, _split_dir(tmp_path))
    # train: 2 cAll sequences x 3 cameras; val: 1 x 3; test: 1 cAll x 3 + the one camera line gLO_sFM_c02
    assert split.value_counts().to_dict() == {"train": 6, "val": 3, "test": 4}
    assert set(manifest.loc[split == "train", "camera"]) == {"01", "02", "03"}
    test_sfm = manifest.loc[(split == "test") & (manifest["situation"] == "FM"), "name"]
    assert list(test_sfm) == ["gLO_sFM_c02_d03_mLO0_ch01"]
    # gPO_sFM (3 cameras) is in no list; gLO_sFM c01 and c03 are not covered by the c02 line
    assert split.isna().sum() == 5


def test_camera_line_and_its_call_line_in_two_splits_is_refused(tmp_path: Path) -> None:
    _split_dir(tmp_path)
    (tmp_path / "crossmodal_val.txt").write_text("gPO_sBM_cAll_d02_mPO0_ch01\ngBR_sBM_c02_d01_mBR0_ch01\n")
    with pytest.raises(
        ValueError, match="gBR_sBM_c02_d01_mBR0_ch01 is listed in crossmodal_val.txt but its sequence"
    ):
        split_by_files(_manifest(), tmp_path)


def test_ignore_list_removes_sequences_or_single_cameras(tmp_path: Path) -> None:
    manifest = _manifest()
    ignore = ["gBR_sFM_cAll_d01_mBR0_ch01", "gLO_sBM_c01_d03_mLO0_ch01.pkl"]
    split = split_by_files(manifest, _split_dir(tmp_path, ignore=ignore))
    assert split.value_counts().to_dict() == {"train": 3, "val": 3, "test": 3}
    # the c01 ignore line drops that camera only: gLO_sBM c02 and c03 stay in test
    kept = manifest.loc[(split == "test") & (manifest["situation"] == "BM"), "camera"]
    assert sorted(kept) == ["02", "03"]


def test_pose_split_set_and_errors_name_the_file(tmp_path: Path) -> None:
    assert split_by_files(_manifest(), _split_dir(tmp_path, prefix="pose"), "pose").notna().sum() == 13
    with pytest.raises(FileNotFoundError, match="crossmodal_train.txt does not exist"):
        split_by_files(_manifest(), tmp_path, "crossmodal")
    (tmp_path / "pose_val.txt").write_text("gPO_sBM_cAll_d02_mPO0_ch01\nnot_a_sequence\n")
    with pytest.raises(ValueError, match=r"pose_val.txt:2: 'not_a_sequence'"):
        split_by_files(_manifest(), tmp_path, "pose")
    (tmp_path / "pose_val.txt").write_text("gBR_sBM_cAll_d01_mBR0_ch01\n")
    with pytest.raises(ValueError, match="also listed"):
        split_by_files(_manifest(), tmp_path, "pose")


def test_filters_accept_several_spellings_and_refuse_unknown_values() -> None:
    manifest = _manifest()
    assert normalise_cameras([1, "02", "c03"]) == ["01", "02", "03"]
    assert len(filter_manifest(manifest, cameras=["c01", 2])) == 12
    assert len(filter_manifest(manifest, situations=["sBM"])) == 9
    assert len(filter_manifest(manifest, cameras=[1], situations=["FM"])) == 3
    with pytest.raises(ValueError, match="situation 'XX' is not known"):
        filter_manifest(manifest, situations=["XX"])
    assert sequence_name("gBR_sBM_c07_d01_mBR0_ch01.mp4") == "gBR_sBM_cAll_d01_mBR0_ch01"


def _write_split_files(tiny_synthetic: Path, tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    """Split files over the tiny dataset's sequences: dancers 1 of each genre test, 2 val,
    3 train; one ignored."""
    manifest, _ = build_manifest(sorted(tiny_synthetic.glob("*.mp4")))
    sequences = sorted(set(manifest["name"].map(sequence_name)))
    by_split: dict[str, set[str]] = {"train": set(), "val": set(), "test": set()}
    for i, sequence in enumerate(sequences):
        by_split[("test", "val", "train")[i % 3]].add(sequence)
    for split, names in by_split.items():
        (tmp_path / f"crossmodal_{split}.txt").write_text("\n".join(sorted(names)) + "\n")
    ignored = min(by_split["train"])
    (tmp_path / "ignore_list.txt").write_text(ignored + "\n")
    by_split["train"].discard(ignored)
    return tmp_path, by_split


def test_manifest_uses_split_files_and_filters(tiny_synthetic: Path, tmp_path: Path) -> None:
    split_dir, expected = _write_split_files(tiny_synthetic, tmp_path)
    root = str(tiny_synthetic)
    manifest = genre_manifest(GenreDataConfig(root=root, split="files", split_dir=str(split_dir)))
    for split, names in expected.items():
        assert set(manifest.loc[manifest["split"] == split, "sequence"]) == names
    assert len(manifest) == 29 and "frames" not in manifest  # nothing probed (no video opened) to split
    with pytest.raises(DeepdanceError, match="no video matches data.cameras=\\[2\\]"):
        genre_manifest(GenreDataConfig(root=root, cameras=[2]))
    # the schema refuses an unknown situation before any manifest
    with pytest.raises(DeepdanceError, match="data.situations: situation 'XY' is not known"):
        parse(GenreDataConfig, {"root": root, "situations": ["XY"]}, "data")
    with pytest.raises(DeepdanceError, match="crossmodal_train.txt does not exist"):
        genre_manifest(GenreDataConfig(root=root, split="files", split_dir=str(tmp_path / "nowhere")))
