"""Load test of the genre data pipeline: does memory stay flat over many videos?

    python experiments/reliability/load_test.py --videos 1000 --workers 2 --out experiments/reliability/results

Generates (once, cached) 1,000 small synthetic AIST++-named videos, builds the manifest the
way a training run does (parallel probing), then decodes one clip per video through the real
``VideoClipDataset`` + ``DataLoader`` with ``--workers`` worker processes, sampling the RSS
of the main process and of its workers after every batch. It reports the mean total RSS over
the first and the last hundred videos and the growth between them (the pass criterion is
< 10 %), and writes ``load_<videos>.csv`` (one row per batch) and ``load_<videos>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deepdance.data.video.bad_videos import collate_skipping_bad, probe_videos  # noqa: E402
from deepdance.data.genre.datamodule import VideoClipDataset  # noqa: E402


def rss_mb(process: psutil.Process) -> tuple[float, float]:
    """(main, workers) resident set sizes in MiB; workers = every live child process."""
    main = process.memory_info().rss
    workers = 0
    for child in process.children(recursive=True):
        try:
            workers += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return main / 2**20, workers / 2**20


def measure(manifest: pd.DataFrame, workers: int = 2, batch_size: int = 10, num_frames: int = 8, img_size: int = 64) -> pd.DataFrame:
    """Decode one clip per manifest row; one row of RSS figures per batch."""
    dataset = VideoClipDataset(manifest, num_frames, img_size, random_offsets=True)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate_skipping_bad, shuffle=False)
    process = psutil.Process(os.getpid())
    rows, done, start = [], 0, time.perf_counter()
    for batch in loader:
        done += 0 if batch is None else len(batch["label"])
        main, children = rss_mb(process)
        rows.append({"videos": done, "seconds": round(time.perf_counter() - start, 3), "rss_main_mb": round(main, 1),
                     "rss_workers_mb": round(children, 1), "rss_total_mb": round(main + children, 1)})
    return pd.DataFrame(rows)


def growth(table: pd.DataFrame, window: int = 100) -> dict[str, float]:
    """Mean total RSS over the first and the last ``window`` videos, and the growth in percent."""
    first = table[table["videos"] <= window]["rss_total_mb"].mean()
    last = table[table["videos"] > table["videos"].max() - window]["rss_total_mb"].mean()
    return {"first_mb": round(float(first), 1), "last_mb": round(float(last), 1), "growth_pct": round(100 * (last - first) / first, 2),
            "peak_mb": float(table["rss_total_mb"].max())}


def synthetic_manifest(root: Path, videos: int, probe_workers: int) -> tuple[pd.DataFrame, float]:
    """``videos`` generated dancers (10 genres x 5 dancers x cameras), probed like a training run."""
    from deepdance.data.aist import build_manifest, find_videos
    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    cameras = max(1, -(-videos // 50))
    ensure_synthetic_dataset(root, SyntheticConfig(seed=7, dancers_per_genre=5, cameras=cameras, musics=1, seconds=1.0, fps=15, size=64))
    manifest, _ = build_manifest(find_videos(root))
    manifest = manifest.head(videos).reset_index(drop=True)
    start = time.perf_counter()
    infos, bad = probe_videos(manifest["path"], workers=probe_workers)
    probe_seconds = time.perf_counter() - start
    assert not bad, bad
    for key in ("num_frames", "height", "width", "fps"):
        manifest[key if key != "num_frames" else "frames"] = [getattr(infos[p], key) for p in manifest["path"]]
    manifest["video_id"] = range(len(manifest))
    return manifest, probe_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--root", type=Path, default=Path("data/load_test"))
    parser.add_argument("--out", type=Path, default=Path("experiments/reliability/results"))
    args = parser.parse_args()
    start = time.perf_counter()
    manifest, probe_seconds = synthetic_manifest(args.root, args.videos, args.workers)
    table = measure(manifest, workers=args.workers, batch_size=args.batch_size)
    result = {"videos": int(table["videos"].iloc[-1]), "workers": args.workers, "batch_size": args.batch_size,
              "probe_seconds": round(probe_seconds, 1), "decode_seconds": float(table["seconds"].iloc[-1]),
              **growth(table), "total_seconds": round(time.perf_counter() - start, 1), "cpu_count": os.cpu_count()}
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / f"load_{args.videos}.csv", index=False)
    (args.out / f"load_{args.videos}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
