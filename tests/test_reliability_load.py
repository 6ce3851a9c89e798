"""Load: decoding clips through the real dataset and 2 DataLoader workers does not grow memory
per clip (the 1,000-video figures are in docs/reliability.md, from
experiments/reliability/load_test.py).

A bound on total growth (the script's "< 10 %" over ~2 GB of RSS) lets a leak of a whole
decoded clip per video pass unnoticed over a few hundred clips; the growth per clip, fitted
after the warm-up, does not: a planted leak of 64 KB per clip must fail the same bound.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdance.data.aist import build_manifest, find_videos
from deepdance.data.video.bad_videos import probe_videos
from deepdance.data.genre.datamodule import VideoClipDataset

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "reliability" / "load_test.py"
CLIPS = 240
# RSS while the workers start and the allocator settles is not growth.
WARM_UP_CLIPS = 100
# Clean runs here grow about 4 KB per clip (allocator noise); one leaked uint8 clip of the
# script's 8 x 64 x 64 x 3 frames is 98 KB.
BOUND_BYTES_PER_CLIP = 24 * 1024
PLANTED_LEAK_BYTES = 64 * 1024


def load_script():
    spec = importlib.util.spec_from_file_location("load_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LeakyClipDataset(VideoClipDataset):
    """Keeps ``PLANTED_LEAK_BYTES`` per clip read alive, in the worker that read it."""

    kept: list[np.ndarray] = []

    def __getitem__(self, index: int):
        self.kept.append(np.ones(PLANTED_LEAK_BYTES, dtype=np.uint8))
        return super().__getitem__(index)


def growth_per_clip(table: pd.DataFrame) -> float:
    """Bytes of total RSS (main + workers) per clip: the least-squares slope after the warm-up."""
    settled = table[table["videos"] > WARM_UP_CLIPS]
    return float(np.polyfit(settled["videos"], settled["rss_total_mb"] * 2**20, 1)[0])


@pytest.fixture(scope="module")
def clip_reads(tiny_synthetic: Path) -> pd.DataFrame:
    """``CLIPS`` reads of the 30 tiny videos, probed the way a training run probes them."""
    manifest, _ = build_manifest(find_videos(tiny_synthetic))
    infos, bad = probe_videos(manifest["path"], workers=2)
    assert not bad
    for key in ("num_frames", "height", "width", "fps"):
        column = "frames" if key == "num_frames" else key
        manifest[column] = [getattr(infos[p], key) for p in manifest["path"]]
    repeats = -(-CLIPS // len(manifest))
    reads = pd.concat([manifest] * repeats, ignore_index=True).head(CLIPS)
    reads["video_id"] = range(len(reads))
    return reads


def test_rss_does_not_grow_per_clip_with_2_workers(clip_reads: pd.DataFrame) -> None:
    load_test = load_script()
    table = load_test.measure(clip_reads, workers=2, batch_size=10)
    assert table["videos"].iloc[-1] == CLIPS
    assert growth_per_clip(table) < BOUND_BYTES_PER_CLIP, table["rss_total_mb"].tolist()


def test_the_bound_catches_a_planted_leak(clip_reads: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    load_test = load_script()
    monkeypatch.setattr(load_test, "VideoClipDataset", LeakyClipDataset)
    table = load_test.measure(clip_reads, workers=2, batch_size=10)
    assert growth_per_clip(table) > BOUND_BYTES_PER_CLIP, table["rss_total_mb"].tolist()
    # the old criterion, < 10 % total growth, passes this leak
    assert load_test.growth(table)["growth_pct"] < 10
