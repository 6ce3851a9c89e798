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

import functools
import logging
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset

from deepdance.data.aist.names import GENRES
from deepdance.data.genre.augment import ClipAugment
from deepdance.data.genre.clip_datasets import MultiClipVideoDataset, StoredClipDataset, VideoClipDataset
from deepdance.data.genre.manifest import SPLITS, build_manifest, check_splits, ensure_videos, video_refs
from deepdance.data.genre.workers import init_worker
from deepdance.data.resumable import ResumableTrainOrder
from deepdance.data.video.bad_videos import (
    REPORT_NAME,
    BadVideoReport,
    OnBadVideo,
    SkipBadVideos,
    check_policy,
    collate_skipping_bad,
    probe_videos,
)
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.data.video.reader import keyframe_indices
from deepdance.errors import DeepdanceError

__all__ = [
    "FEATURE_DEFAULTS",
    "SAMPLINGS",
    "GenreDataModule",
    "VideoClipDataset",
    "check_genres",
    "init_worker",
]

log = logging.getLogger(__name__)

SplitRule = Literal["dancer", "random", "files"]
# How frozen-backbone features are stored (deepdance.features); see conf/data/*.yaml.
FEATURE_DEFAULTS: dict[str, Any] = {
    "use": "auto",
    "dir": "data/features",
    "clips": 5,
    "batch_size": 2,
    "inference_batch_size": 64,
}
Sampling = Literal["exact", "keyframe"]
SAMPLINGS = ("exact", "keyframe")


class GenreDataModule(ResumableTrainOrder, pl.LightningDataModule):
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
        pin_memory: bool | None = None,
        persistent_workers: bool = False,
        train_jitter: bool = True,
        val_dancers: int = 1,
        test_dancers: int = 1,
        synthetic: dict[str, Any] | None = None,
        sampling: Sampling = "exact",
        augment: dict[str, Any] | None = None,
        split_dir: str | None = None,
        split_set: str = "crossmodal",
        cameras: list[int | str] | None = None,
        situations: list[str] | None = None,
        test_clips: int = 1,
        view_vote: bool = False,
        features: dict[str, Any] | None = None,
        genres: list[str] | None = None,
        on_bad_video: OnBadVideo = "skip",
        report_dir: str | None = None,
        fold: int | None = None,
        manifest: pd.DataFrame | None = None,
        store: Any = None,
    ) -> None:
        """``manifest``: the run's (``build_manifest``), else built from these settings on setup;
        ``store``: a filled ``deepdance.features.FeatureStore`` to read clips from instead of videos."""
        super().__init__()
        if sampling not in SAMPLINGS:
            raise DeepdanceError(
                f"data.sampling={sampling!r} is not known; use 'exact' (default: uniform spacing) or "
                "'keyframe' (snap to key frames: short decodes)"
            )
        if num_frames <= 0:
            raise DeepdanceError(f"data.num_frames must be a positive integer, got {num_frames}")
        if split not in ("dancer", "random", "files"):
            raise DeepdanceError(
                f"data.split={split!r} is not known; use 'dancer' (default, leak-free), 'random', "
                "or 'files' with data.split_dir=<folder of AIST++ split files>"
            )
        if split == "files" and not split_dir:
            raise DeepdanceError(
                "data.split=files needs data.split_dir=<folder holding crossmodal_train.txt, "
                "crossmodal_val.txt, crossmodal_test.txt>"
            )
        if int(test_clips) < 1:
            raise DeepdanceError(
                f"data.test_clips must be >= 1 (clips averaged per test video), got {test_clips}"
            )
        unknown = set(features or {}) - set(FEATURE_DEFAULTS)
        if unknown:
            raise DeepdanceError(
                f"data.features has unknown setting(s) {sorted(unknown)}; known: "
                f"{', '.join(FEATURE_DEFAULTS)}"
            )
        check_policy(on_bad_video)
        genres = check_genres(genres)
        synthetic = (
            OmegaConf.to_container(synthetic, resolve=True)
            if isinstance(synthetic, DictConfig)
            else synthetic
        )
        # the checked, plain values above: checkpoints hold data
        self.save_hyperparameters(logger=False, ignore=["manifest", "store"])
        self.root = Path(root)
        self.manifest = manifest
        self.store = store
        self.datasets: dict[str, Dataset] = {}
        self.bad_videos = BadVideoReport(None)

    @property
    def class_names(self) -> list[str]:
        return list(self.hparams.genres or GENRES)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def clip_sampler(self) -> ClipSampler:
        """The frame indices of every clip this data reads (data.num_frames, sampling, test_clips)."""
        return ClipSampler.from_config(self.hparams)

    def prepare_data(self) -> None:
        # the run has made the videos already; a datamodule built without a manifest makes them here
        if self.manifest is None:
            ensure_videos(self.hparams)

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is None:
            self.manifest = build_manifest(self.hparams)
        manifest = self.manifest
        if self.store is not None:
            self._setup_from_store(manifest)
            return
        if "frames" not in manifest.columns:
            self.manifest = manifest = self._probe_videos(manifest)
        check_splits(manifest, self.root, self.hparams.split)
        if self.hparams.sampling == "keyframe" and "keyframes" not in manifest.columns:
            manifest["keyframes"] = [keyframe_indices(path).tolist() for path in manifest["path"]]
        sampler = self.clip_sampler
        for split in SPLITS:
            part = manifest[manifest["split"] == split]
            if split == "test":
                dataset = MultiClipVideoDataset(part, sampler, self.hparams.img_size)
            else:
                dataset = VideoClipDataset(
                    part,
                    self.hparams.num_frames,
                    self.hparams.img_size,
                    random_offsets=(split == "train" and self.hparams.train_jitter),
                    augment=ClipAugment(**self.hparams.augment)
                    if split == "train" and self.hparams.augment
                    else None,
                    sampling=self.hparams.sampling,
                )
            self.datasets[split] = SkipBadVideos(dataset, self.hparams.on_bad_video, self.bad_videos)

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
        if self.hparams.test_clips > clips:
            raise DeepdanceError(
                f"data.test_clips={self.hparams.test_clips} exceeds data.features.clips={clips}, "
                "the clips stored per video; raise data.features.clips (a new store fills) or lower "
                "data.test_clips"
            )
        for split in SPLITS:
            part = manifest[manifest["split"] == split]
            if split == "train":
                self.datasets[split] = StoredClipDataset(
                    part, self.store, self.clip_sampler, random_clip=self.hparams.train_jitter
                )
            elif split == "val":
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler)
            else:
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler, test=True)

    def _report_path(self) -> Path | None:
        """``bad_videos.csv`` in ``data.report_dir``, else in the trainer's run dir."""
        if self.hparams.report_dir:
            return Path(self.hparams.report_dir) / REPORT_NAME
        trainer = getattr(self, "trainer", None)
        return Path(trainer.default_root_dir) / REPORT_NAME if trainer is not None else None

    def _probe_videos(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """Length, size and frame rate of every video (what the clip sampler needs), probed on
        ``data.num_workers`` processes; bad videos leave the manifest (or stop the run)."""
        self.bad_videos = BadVideoReport(self._report_path())
        infos, bad = probe_videos(
            manifest["path"], workers=self.hparams.num_workers, on_bad_video=self.hparams.on_bad_video
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

    def _pin_memory(self) -> bool:
        """``pin_memory: null`` pins exactly when batches go to a GPU (page-locked copies are
        faster to transfer and pointless on CPU)."""
        if self.hparams.pin_memory is not None:
            return bool(self.hparams.pin_memory)
        trainer = getattr(self, "trainer", None)
        return trainer is not None and trainer.strategy.root_device.type == "cuda"

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        dataset = self.datasets[split]
        return DataLoader(
            dataset,
            batch_size=self.hparams.batch_size,
            # resumable mid-epoch, see deepdance/data/resumable.py
            **self.loader_order(dataset, shuffle),
            num_workers=workers,
            pin_memory=self._pin_memory(),
            persistent_workers=self.hparams.persistent_workers and workers > 0,
            collate_fn=collate_skipping_bad,
            worker_init_fn=functools.partial(
                init_worker, rank=self.trainer.global_rank if self.trainer else 0
            )
            if workers > 0
            else None,
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
        raise DeepdanceError(
            f"data.genres: unknown genre {', '.join(map(repr, unknown))}; AIST++ genres are "
            f"{', '.join(GENRES)}"
        )
    if len(set(genres)) != len(genres) or len(genres) < 2:
        raise DeepdanceError(
            f"data.genres={genres}: give at least two distinct genres of {', '.join(GENRES)}"
        )
    return genres
