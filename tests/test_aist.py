"""AIST++ names, the manifest, and splits that never share a dancer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdance.data.aist import (
    GENRES,
    SITUATIONS,
    build_manifest,
    dancers_shared_between_splits,
    parse_aist_name,
    split_at_random,
    split_by_dancer,
)


def test_parses_every_field() -> None:
    name = parse_aist_name("gBR_sBM_c01_d04_mBR0_ch01.mp4")
    assert (name.genre, name.situation, name.camera, name.dancer, name.music, name.choreography) == (
        "BR",
        "BM",
        "01",
        "04",
        "BR0",
        "01",
    )
    assert name.sequence == "gBR_sBM_cAll_d04_mBR0_ch01"
    assert name.filename() == "gBR_sBM_c01_d04_mBR0_ch01.mp4"


@pytest.mark.parametrize(
    "bad",
    [
        "gBR_sSH_c01_v0.mp4",  # showcase
        "gBR_sGR_c01_d04_d05_d06_mBR0_ch01.mp4",  # group dance, several dancers
        "gXX_sBM_c01_d04_mXX0_ch01.mp4",  # unknown genre
        "gBR_sBM_c01_d04_mPO0_ch01.mp4",  # music of another genre
        "notes.txt",
        "gBR_sBM_c1_d04_mBR0_ch01.mp4",
    ],
)
def test_rejects_names_outside_the_pattern(bad: str) -> None:
    with pytest.raises(ValueError, match="AIST|genre|music"):
        parse_aist_name(bad)


names = st.builds(
    lambda g, s, c, d, m, ch: f"g{g}_s{s}_c{c:02d}_d{d:02d}_m{g}{m}_ch{ch:02d}.mp4",
    st.sampled_from(GENRES),
    st.sampled_from(SITUATIONS),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 9),
    st.integers(0, 99),
)


@given(names)
def test_valid_names_roundtrip(name: str) -> None:
    assert parse_aist_name(name).filename() == name


@given(st.text(max_size=40))
@settings(max_examples=300)
def test_arbitrary_text_parses_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_aist_name(text)
    except ValueError:
        return
    assert parsed.genre in GENRES


@given(names, st.integers(0, 5), st.sampled_from(["x", "_", "0", "A"]))
def test_corrupted_names_never_crash(name: str, position: int, char: str) -> None:
    corrupted = name[:position] + char + name[position + 1 :]
    try:
        parse_aist_name(corrupted)
    except ValueError:
        pass


def _manifest(dancers_per_genre: int = 5, videos_per_dancer: int = 4) -> pd.DataFrame:
    paths = []
    dancer = 0
    for genre in GENRES:
        for _ in range(dancers_per_genre):
            dancer += 1
            paths += [
                Path(f"g{genre}_sBM_c{c + 1:02d}_d{dancer:02d}_m{genre}0_ch01.mp4")
                for c in range(videos_per_dancer)
            ]
    paths.append(Path("gBR_sSH_c01_v0.mp4"))
    manifest, rejected = build_manifest(paths)
    assert [p.name for p, _ in rejected] == ["gBR_sSH_c01_v0.mp4"]
    return manifest


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_dancer_split_holds_out_whole_dancers(seed: int) -> None:
    manifest = _manifest()
    manifest["split"] = split_by_dancer(manifest, seed=seed)
    assert dancers_shared_between_splits(manifest) == set()
    per_genre = manifest.groupby(["genre", "split"])["dancer"].nunique().unstack()
    assert (
        (per_genre["test"] == 1).all() and (per_genre["val"] == 1).all() and (per_genre["train"] == 3).all()
    )


def test_random_split_leaks_dancers() -> None:
    manifest = _manifest()
    manifest["split"] = split_at_random(manifest, seed=0)
    assert len(dancers_shared_between_splits(manifest)) > 10


def test_genre_with_too_few_dancers_keeps_one_for_training() -> None:
    manifest = _manifest(dancers_per_genre=2)
    manifest["split"] = split_by_dancer(manifest)
    assert set(manifest["split"]) == {"train", "test"}
    assert dancers_shared_between_splits(manifest) == set()
