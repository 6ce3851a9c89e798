"""Genre-recognition data: a manifest of AIST++-named videos, a dancer-disjoint split, and
clips decoded with decord.

The dataset is map-style over an explicit manifest (one row per video), so epoch length,
DDP sharding and worker counts are plain Lightning behaviour. Bad videos are left out at
probe time and dropped from their batch at decode time (``data.on_bad_video``, see
``deepdance/data/bad_videos.py``).
"""

from __future__ import annotations

import functools
import logging
import os
import signal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset

from deepdance.data.aist import (
    GENRES,
    build_manifest,
    dancers_shared_between_splits,
    describe_split,
    find_videos,
    split_at_random,
    split_by_dancer,
)
from deepdance.data.bad_videos import (
    REPORT_NAME,
    BadVideoReport,
    OnBadVideo,
    check_policy,
    collate_skipping_bad,
    probe_videos,
    reason_of,
    stop_message,
)
from deepdance.data.video import VideoInfo, read_clip, sample_frame_indices
from deepdance.errors import DeepdanceError, VideoError

log = logging.getLogger(__name__)

SplitRule = Literal["dancer", "random"]


class VideoClipDataset(Dataset):
    """One clip per video: ``num_frames`` indices spread over it, decoded and cropped."""

    def __init__(
        self,
        manifest: pd.DataFrame,
        num_frames: int,
        img_size: int,
        random_offsets: bool,
        on_bad_video: OnBadVideo = "skip",
        report: BadVideoReport | None = None,
    ) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.num_frames = num_frames
        self.img_size = img_size
        self.random_offsets = random_offsets
        self.on_bad_video = on_bad_video
        self.report = report if report is not None else BadVideoReport(None)

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        """The clip, or ``None`` for a video that fails to decode with ``on_bad_video=skip``
        (recorded in the report; ``collate_skipping_bad`` drops it from the batch)."""
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        # Drawn from torch's generator: seeded by seed_everything in the main process and
        # re-seeded per epoch and worker by the DataLoader, so jitter varies yet reproduces.
        rng = np.random.default_rng(int(torch.randint(2**62, ()).item())) if self.random_offsets else None
        indices, mask = sample_frame_indices(info.num_frames, self.num_frames, random=self.random_offsets, rng=rng)
        try:
            frames = read_clip(row.path, indices, self.img_size, info)  # (T, 3, S, S) uint8
        except VideoError as err:
            if self.on_bad_video == "error":
                raise VideoError(stop_message(row.path, reason_of(err, row.path))) from None
            self.report.record(row.path, "decode", reason_of(err, row.path))
            return None
        return {
            "frames": frames,
            "mask": torch.from_numpy(mask),  # (T,)
            "indices": torch.from_numpy(indices),  # (T,) which frames, the feature-cache key
            "label": int(row.label),
            "video": int(row.video_id),
        }


class GenreDataModule(pl.LightningDataModule):
    """AIST++-named videos under ``root`` (or generated synthetic dancers) split by dancer."""

    def __init__(
        self,
        root: str,
        num_frames: int = 20,
        img_size: int = 299,
        split: SplitRule = "dancer",
        seed: int = 0,
        batch_size: int = 8,
        num_workers: int = 2,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        train_jitter: bool = True,
        val_dancers: int = 1,
        test_dancers: int = 1,
        synthetic: dict[str, Any] | None = None,
        genres: list[str] | None = None,
        on_bad_video: OnBadVideo = "skip",
        report_dir: str | None = None,
    ) -> None:
        super().__init__()
        if num_frames <= 0:
            raise DeepdanceError(f"data.num_frames must be a positive integer, got {num_frames}")
        if split not in ("dancer", "random"):
            raise DeepdanceError(f"data.split={split!r} is not known; use 'dancer' (default, leak-free) or 'random'")
        check_policy(on_bad_video)
        genres = check_genres(genres)
        synthetic = OmegaConf.to_container(synthetic, resolve=True) if isinstance(synthetic, DictConfig) else synthetic
        self.save_hyperparameters(logger=False)  # the checked, plain values above: checkpoints hold data
        self.root = Path(root)
        self.manifest: pd.DataFrame | None = None
        self.rejected: list[tuple[Path, str]] = []
        self.datasets: dict[str, VideoClipDataset] = {}
        self.bad_videos = BadVideoReport(None)

    @property
    def class_names(self) -> list[str]:
        return list(self.hparams.genres or GENRES)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def prepare_data(self) -> None:
        if self.hparams.synthetic is not None:
            from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

            ensure_synthetic_dataset(self.root, SyntheticConfig(**self.hparams.synthetic))

    def _report_path(self) -> Path | None:
        """``bad_videos.csv`` in ``data.report_dir``, else in the trainer's run dir."""
        if self.hparams.report_dir:
            return Path(self.hparams.report_dir) / REPORT_NAME
        trainer = getattr(self, "trainer", None)
        return Path(trainer.default_root_dir) / REPORT_NAME if trainer is not None else None

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is None:
            self.bad_videos = BadVideoReport(self._report_path())
            self.manifest = self._build_manifest()
        for split in ("train", "val", "test"):
            part = self.manifest[self.manifest["split"] == split]
            self.datasets[split] = VideoClipDataset(
                part,
                self.hparams.num_frames,
                self.hparams.img_size,
                random_offsets=(split == "train" and self.hparams.train_jitter),
                on_bad_video=self.hparams.on_bad_video,
                report=self.bad_videos,
            )

    def teardown(self, stage: str | None = None) -> None:
        skipped = self.bad_videos.read()
        if skipped:
            log.warning("%d bad video(s) skipped so far (%s); listed in %s", len(skipped),
                        ", ".join(f"{n} at {s}" for s, n in pd.Series([r["stage"] for r in skipped]).value_counts().items()),
                        self.bad_videos.path or "memory (no run dir)")

    def _build_manifest(self) -> pd.DataFrame:
        try:
            videos = find_videos(self.root)
        except FileNotFoundError as err:
            raise DeepdanceError(str(err)) from None
        manifest, self.rejected = build_manifest(videos)
        for path, reason in self.rejected:
            log.warning("not an AIST++ single-dancer video, left out: %s (%s)", path, reason)
        if manifest.empty:
            raise DeepdanceError(f"data root {self.root}: none of its {len(videos)} video(s) has an AIST++ name like gBR_sBM_c01_d04_mBR0_ch01.mp4")
        if self.hparams.genres:
            manifest = manifest[manifest["genre"].isin(self.hparams.genres)].reset_index(drop=True)
            manifest["label"] = manifest["genre"].map({g: i for i, g in enumerate(self.hparams.genres)})
            if manifest.empty:
                raise DeepdanceError(f"data root {self.root}: no video of data.genres={self.hparams.genres}")
        manifest = self._probe(manifest)
        manifest["video_id"] = np.arange(len(manifest))
        if self.hparams.split == "dancer":
            manifest["split"] = split_by_dancer(manifest, self.hparams.seed, self.hparams.val_dancers, self.hparams.test_dancers)
        else:
            manifest["split"] = split_at_random(manifest, self.hparams.seed)
            log.warning("data.split=random: the same dancers appear in train and test, so test accuracy rewards recognising people")
        shared = dancers_shared_between_splits(manifest)
        log.info("split=%s (%d videos, %d rejected names)\n%s", self.hparams.split, len(manifest), len(self.rejected), describe_split(manifest))
        if shared and self.hparams.split == "dancer":
            raise DeepdanceError(f"dancer split leaks dancers {sorted(shared)} across splits")
        for split in ("train", "val", "test"):
            if not (manifest["split"] == split).any():
                raise DeepdanceError(f"data root {self.root}: the {split} split is empty; it needs at least 3 dancers per genre (found {manifest['dancer'].nunique()} dancers)")
        return manifest

    def _probe(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """Probe every video on ``data.num_workers`` processes; leave out (or stop at) bad ones."""
        infos, bad = probe_videos(manifest["path"], workers=self.hparams.num_workers, on_bad_video=self.hparams.on_bad_video)
        trainer = getattr(self, "trainer", None)
        if trainer is None or trainer.is_global_zero:
            self.bad_videos.start(bad)
        if bad:
            log.warning("%d of %d videos are bad and left out (data.on_bad_video=skip); listed in %s", len(bad), len(manifest),
                        self.bad_videos.path or "memory (no run dir)")
        manifest = manifest[manifest["path"].isin(infos)].reset_index(drop=True)
        if manifest.empty:
            raise DeepdanceError(f"data root {self.root}: every video is bad (first: {bad[0][0]}: {bad[0][2]})")
        manifest["frames"] = [infos[p].num_frames for p in manifest["path"]]
        manifest["height"] = [infos[p].height for p in manifest["path"]]
        manifest["width"] = [infos[p].width for p in manifest["path"]]
        manifest["fps"] = [infos[p].fps for p in manifest["path"]]
        return manifest

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            pin_memory=self.hparams.pin_memory,
            persistent_workers=self.hparams.persistent_workers and workers > 0,
            collate_fn=collate_skipping_bad,
            worker_init_fn=functools.partial(init_worker, rank=getattr(self.trainer, "global_rank", 0) if self.trainer else 0) if workers > 0 else None,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


def check_genres(genres: list[str] | None) -> list[str] | None:
    """``data.genres``: a subset of the ten AIST++ genre codes (class order = list order)."""
    if genres is None:
        return None
    genres = [str(g) for g in genres]
    unknown = [g for g in genres if g not in GENRES]
    if unknown:
        raise DeepdanceError(f"data.genres: unknown genre {', '.join(map(repr, unknown))}; AIST++ genres are {', '.join(GENRES)}")
    if len(set(genres)) != len(genres) or len(genres) < 2:
        raise DeepdanceError(f"data.genres={genres}: give at least two distinct genres of {', '.join(GENRES)}")
    return genres


def init_worker(worker_id: int, rank: int = 0) -> None:
    """DataLoader worker start-up: leave SIGTERM to the main process (``timeout``, SLURM and
    ``kill -- -PGID`` signal the whole process group), which stops after the batch and saves a
    checkpoint; then seed like Lightning does under ``seed_everything(workers=True)``."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.environ.get("PL_SEED_WORKERS") == "1":
        from lightning_fabric.utilities.seed import pl_worker_init_function

        pl_worker_init_function(worker_id, rank=rank)
