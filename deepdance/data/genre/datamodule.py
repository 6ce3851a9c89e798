"""Genre-recognition data: clips of the videos of a manifest, decoded with decord or read from
the feature store.

The run builds the manifest (``deepdance.data.genre.manifest``) and, for a frozen backbone,
the feature store (``deepdance.features``) first, and hands both to the datamodule; it only
probes the videos it decodes and makes the datasets. The dataset is map-style over an explicit
manifest (one row per video), so epoch length, DDP sharding and worker counts are plain
Lightning behaviour. Bad videos are left out at probe time and dropped from their batch at
decode time (``data.on_bad_video``, see ``deepdance/data/video/bad_videos.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytorch_lightning as pl
from torch.utils.data import Dataset

from deepdance.config.data import GenreDataConfig
from deepdance.data.genre.clip_datasets import MultiClipVideoDataset, StoredClipDataset, VideoClipDataset
from deepdance.data.genre.manifest import SPLITS, build_manifest, check_splits, ensure_videos, video_refs
from deepdance.data.genre.workers import init_worker
from deepdance.data.split_loaders import GenreSplitData
from deepdance.data.video.bad_videos import (
    REPORT_NAME,
    BadVideoReport,
    SkipBadVideos,
    probe_videos,
)
from deepdance.data.video.reader import keyframe_indices
from deepdance.errors import DeepdanceError
from deepdance.features.store import FeatureStore

__all__ = ["GenreDataModule", "VideoClipDataset", "init_worker"]

log = logging.getLogger(__name__)


class GenreDataModule(GenreSplitData, pl.LightningDataModule):
    """Clips of the videos of a manifest (AIST++ names, or generated synthetic dancers), split by dancer.

    ``config`` is the checked ``data`` group; ``manifest`` the run's (``build_manifest``), else
    built from ``config`` on setup; ``store`` a filled ``deepdance.features.FeatureStore`` to read
    clips from instead of videos; ``report_dir`` where ``bad_videos.csv`` goes (default: the
    trainer's run dir).
    """

    def __init__(
        self,
        config: GenreDataConfig,
        manifest: pd.DataFrame | None = None,
        store: FeatureStore | None = None,
        report_dir: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        # plain data: checkpoints hold it, and the module reads view_vote from it
        hparams = config.model_dump(mode="json", by_alias=True)
        self.save_hyperparameters(hparams, ignore=["manifest", "store"], logger=False)
        self.root = Path(config.root)
        self.manifest = manifest
        self.store = store
        self.report_dir = report_dir
        self.datasets: dict[str, Dataset] = {}
        self.bad_videos = BadVideoReport(None)

    def prepare_data(self) -> None:
        # the run has made the videos already; a datamodule built without a manifest makes them here
        if self.manifest is None:
            ensure_videos(self.config)

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is None:
            self.manifest = build_manifest(self.config)
        manifest = self.manifest
        if self.store is not None:
            self._setup_from_store(manifest)
            return
        if "frames" not in manifest.columns:
            self.manifest = manifest = self._probe_videos(manifest)
        check_splits(manifest, self.root, self.config.split)
        if self.config.sampling == "keyframe" and "keyframes" not in manifest.columns:
            manifest["keyframes"] = [keyframe_indices(path).tolist() for path in manifest["path"]]
        sampler = self.clip_sampler
        for split in SPLITS:
            part = manifest[manifest["split"] == split]
            if split == "test":
                dataset = MultiClipVideoDataset(part, sampler, self.config.img_size)
            else:
                dataset = VideoClipDataset(
                    part,
                    self.config.num_frames,
                    self.config.img_size,
                    random_offsets=(split == "train" and self.config.train_jitter),
                    augment=self.config.augment if split == "train" else None,
                    sampling=self.config.sampling,
                )
            self.datasets[split] = SkipBadVideos(dataset, self.config.on_bad_video, self.bad_videos)

    def teardown(self, stage: str | None = None) -> None:
        skipped = self.bad_videos.read()
        if skipped:
            stages = pd.Series([row["stage"] for row in skipped]).value_counts()
            log.warning(
                "%d bad video(s) skipped so far (%s); listed in %s",
                len(skipped),
                ", ".join(f"{n} at {stage}" for stage, n in stages.items()),
                self.bad_videos.path or "memory (no run dir)",
            )

    def _setup_from_store(self, manifest: pd.DataFrame) -> None:
        """Datasets over stored features; the video facts in the manifest come from entry headers."""
        refs = video_refs(manifest, self.root)
        if "frames" not in manifest.columns:
            infos = [self.store.video_info(rel) for rel, _ in refs]
            for column in ("frames", "height", "width", "fps"):
                manifest[column] = [info[column] for info in infos]
        manifest["entry"] = [rel for rel, _ in refs]
        clips = int(self.store.key.clips)
        if self.config.test_clips > clips:
            raise DeepdanceError(
                f"data.test_clips={self.config.test_clips} exceeds data.features.clips={clips}, "
                "the clips stored per video; raise data.features.clips (a new store fills) or lower "
                "data.test_clips"
            )
        for split in SPLITS:
            part = manifest[manifest["split"] == split]
            if split == "train":
                self.datasets[split] = StoredClipDataset(
                    part, self.store, self.clip_sampler, random_clip=self.config.train_jitter
                )
            elif split == "val":
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler)
            else:
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler, test=True)

    def _report_path(self) -> Path | None:
        """``bad_videos.csv`` in ``report_dir``, else in the trainer's run dir."""
        if self.report_dir:
            return Path(self.report_dir) / REPORT_NAME
        trainer = getattr(self, "trainer", None)
        return Path(trainer.default_root_dir) / REPORT_NAME if trainer is not None else None

    def _probe_videos(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """Length, size and frame rate of every video (what the clip sampler needs), probed on
        ``data.num_workers`` processes; bad videos leave the manifest (or stop the run)."""
        self.bad_videos = BadVideoReport(self._report_path())
        infos, bad = probe_videos(
            manifest["path"], workers=self.config.num_workers, on_bad_video=self.config.on_bad_video
        )
        trainer = getattr(self, "trainer", None)
        if trainer is None or trainer.is_global_zero:
            self.bad_videos.start(bad)
        if bad:
            log.warning(
                "%d of %d videos are bad and left out (data.on_bad_video=skip); listed in %s",
                len(bad),
                len(manifest),
                self.bad_videos.path or "memory (no run dir)",
            )
        manifest = manifest[manifest["path"].isin(infos)].reset_index(drop=True)
        for split in SPLITS:
            if not (manifest["split"] == split).any():
                raise DeepdanceError(
                    f"data root {self.root}: the {split} split is empty once bad videos are left out (first "
                    f"bad: {bad[0][0]}: {bad[0][2]})"
                )
        manifest["frames"] = [infos[p].num_frames for p in manifest["path"]]
        manifest["height"] = [infos[p].height for p in manifest["path"]]
        manifest["width"] = [infos[p].width for p in manifest["path"]]
        manifest["fps"] = [infos[p].fps for p in manifest["path"]]
        return manifest
