"""``data.fold``: the dancer rotation behind the embedded default's fold report."""

from __future__ import annotations

import pandas as pd
import pytest

from deepdance.data.aist.splits import split_by_dancer
from deepdance.errors import DeepdanceError


def _manifest(dancers_per_genre: int = 5) -> pd.DataFrame:
    rows = [
        {"genre": genre, "dancer": f"d{g * 10 + d:02d}", "video": f"{genre}{d}"}
        for g, genre in enumerate(("BR", "PO", "LO"))
        for d in range(dancers_per_genre)
        for _ in range(2)
    ]
    return pd.DataFrame(rows)


def _held_out(split: pd.Series, manifest: pd.DataFrame, name: str) -> dict[str, str]:
    chosen = manifest[split == name].drop_duplicates("genre")
    return dict(zip(chosen["genre"], chosen["dancer"]))


def test_every_dancer_is_the_test_dancer_once_over_the_folds() -> None:
    manifest = _manifest()
    tests = [_held_out(split_by_dancer(manifest, seed=3, fold=k), manifest, "test") for k in range(5)]
    for genre in ("BR", "PO", "LO"):
        assert sorted(t[genre] for t in tests) == sorted(manifest[manifest.genre == genre].dancer.unique())


def test_the_next_folds_test_dancer_validates_and_the_rest_train() -> None:
    manifest = _manifest()
    for k in range(5):
        split = split_by_dancer(manifest, seed=1, fold=k)
        following = _held_out(split_by_dancer(manifest, seed=1, fold=(k + 1) % 5), manifest, "test")
        assert _held_out(split, manifest, "val") == following
        per_genre = manifest.assign(split=split).groupby("genre")["split"].value_counts().unstack()
        assert (per_genre["train"] == 2 * 3).all() and (per_genre["test"] == 2).all()


def test_fold_zero_is_the_split_without_a_fold_and_seeds_shuffle() -> None:
    manifest = _manifest()
    assert split_by_dancer(manifest, seed=7, fold=0).equals(split_by_dancer(manifest, seed=7))
    assert not all(
        split_by_dancer(manifest, seed=0, fold=0).equals(split_by_dancer(manifest, seed=s, fold=0))
        for s in range(1, 6)
    )


@pytest.mark.parametrize("fold", [5, 9])
def test_a_fold_past_the_dancers_names_the_genre(fold: int) -> None:
    with pytest.raises(DeepdanceError, match=rf"data.fold={fold}: genre BR has 5 dancer\(s\)"):
        split_by_dancer(_manifest(), fold=fold)
