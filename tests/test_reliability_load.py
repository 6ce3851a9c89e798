"""Load: decoding clips through the real dataset and 2 DataLoader workers does not grow memory
per clip (the 1,000-video figures are in docs/reliability.md, from
experiments/reliability/load_test.py).

A bound on total growth (the script's "< 10 %" over ~2 GB of RSS) lets a leak of a whole
decoded clip per video pass unnoticed over a few hundred clips; the growth per clip, fitted
after the warm-up, does not: a planted leak of 64 KB per clip must fail the same bound.
Memory is the unique set size (USS) of the main process and its workers: a forked worker's
RSS already counts the parent's pages, so a leak that reuses the parent's freed heap (as in
a long pytest session) does not move RSS, but its copied pages do move USS.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from torch.utils.data import DataLoader

from deepdance.data.aist import build_manifest, find_videos
from deepdance.data.genre.datamodule import VideoClipDataset
from deepdance.data.video.bad_videos import collate_skipping_bad, probe_videos

# the process tier (make test-slow): 2 worker processes decode a few hundred clips per test
pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "reliability" / "load_test.py"
CLIPS = 240
# RSS while the workers start and the allocator settles is not growth.
WARM_UP_CLIPS = 100
# Clean runs here grow 2-3 KB per clip (allocator noise), the planted leak 59-65 KB; one
# leaked uint8 clip of the script's 8 x 64 x 64 x 3 frames is 98 KB.
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


def measure_uss(reads: pd.DataFrame, dataset_type: type[VideoClipDataset] = VideoClipDataset) -> pd.DataFrame:
    """The load script's loop (one clip per row, 2 workers, batches of 10), sampling the USS of
    the main process and its workers after every batch."""
    dataset = dataset_type(reads, 8, 64, random_offsets=True)
    loader = DataLoader(dataset, batch_size=10, num_workers=2, collate_fn=collate_skipping_bad, shuffle=False)
    main = psutil.Process()
    rows, done = [], 0
    for batch in loader:
        done += 0 if batch is None else len(batch["label"])
        total = 0
        for process in (main, *main.children(recursive=True)):
            try:
                total += process.memory_full_info().uss
            except psutil.NoSuchProcess:
                continue
        rows.append({"videos": done, "uss_bytes": total})
    return pd.DataFrame(rows)


def growth_per_clip(table: pd.DataFrame) -> float:
    """Bytes of total USS (main + workers) per clip: the least-squares slope after the warm-up."""
    settled = table[table["videos"] > WARM_UP_CLIPS]
    return float(np.polyfit(settled["videos"], settled["uss_bytes"], 1)[0])


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


def measure_uss_in_fresh_process(
    reads: pd.DataFrame, dataset_type: type[VideoClipDataset] = VideoClipDataset
) -> pd.DataFrame:
    """``measure_uss`` in a newly spawned process: in a long pytest session the test process carries
    other tests' heap and threads, and its workers' copied pages grew 35 KB per clip with no leak in
    the dataset (a full ``make test``); a fresh process measures the dataset alone."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure_uss, reads, dataset_type).result()


def test_memory_does_not_grow_per_clip_with_2_workers(clip_reads: pd.DataFrame) -> None:
    table = measure_uss_in_fresh_process(clip_reads)
    assert table["videos"].iloc[-1] == CLIPS
    assert growth_per_clip(table) < BOUND_BYTES_PER_CLIP, table["uss_bytes"].tolist()


def test_the_bound_catches_a_planted_leak(clip_reads: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    table = measure_uss_in_fresh_process(clip_reads, LeakyClipDataset)
    assert growth_per_clip(table) > BOUND_BYTES_PER_CLIP, table["uss_bytes"].tolist()
    # the script's criterion, < 10 % growth of total RSS, passes the same leak
    load_test = load_script()
    monkeypatch.setattr(load_test, "VideoClipDataset", LeakyClipDataset)
    assert load_test.growth(load_test.measure(clip_reads, workers=2, batch_size=10))["growth_pct"] < 10
