"""Load: decoding 200 clips through the real dataset and 2 DataLoader workers keeps RSS flat
(the 1,000-video figures are in docs/reliability.md, from experiments/reliability/load_test.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from deepdance.data.aist import build_manifest, find_videos
from deepdance.data.bad_videos import probe_videos

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "reliability" / "load_test.py"


def load_script():
    spec = importlib.util.spec_from_file_location("load_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rss_stays_flat_over_200_clips_with_2_workers(tiny_synthetic: Path) -> None:
    load_test = load_script()
    manifest, _ = build_manifest(find_videos(tiny_synthetic))
    infos, bad = probe_videos(manifest["path"], workers=2)
    assert not bad
    manifest["frames"] = [infos[p].num_frames for p in manifest["path"]]
    manifest["height"] = [infos[p].height for p in manifest["path"]]
    manifest["width"] = [infos[p].width for p in manifest["path"]]
    manifest["fps"] = [infos[p].fps for p in manifest["path"]]
    repeated = pd.concat([manifest] * 7, ignore_index=True).head(200)  # 30 videos -> 200 clip reads
    repeated["video_id"] = range(len(repeated))
    table = load_test.measure(repeated, workers=2, batch_size=10)
    assert table["videos"].iloc[-1] == 200
    figures = load_test.growth(table)
    assert figures["growth_pct"] < 10, figures
