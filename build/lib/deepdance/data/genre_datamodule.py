"""Genre-recognition data: a manifest of AIST++-named videos, a dancer-disjoint split, and
clips decoded with decord.

The dataset is map-style over an explicit manifest (one row per video), so epoch length,
DDP sharding and worker counts are plain Lightning behaviour.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
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
from deepdance.data.augment import ClipAugment
from deepdance.data.video import VideoInfo, probe_video, read_clip, sample_frame_indices
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

SplitRule = Literal["dancer", "random"]


class VideoClipDataset(Dataset):
    """One clip per video: ``num_frames`` indices spread over it, decoded and cropped."""

    def __init__(self, manifest: pd.DataFrame, num_frames: int, img_size: int, random_offsets: bool,
                 augment: ClipAugment | None = None) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.augment = augment
        self.num_frames = num_frames
        self.img_size = img_size
        self.random_offsets = random_offsets

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        # Drawn from torch's generator: seeded by seed_everything in the main process and
        # re-seeded per epoch and worker by the DataLoader, so jitter varies yet reproduces.
        rng = np.random.default_rng(int(torch.randint(2**62, ()).item())) if self.random_offsets else None
        indices, mask = sample_frame_indices(info.num_frames, self.num_frames, random=self.random_offsets, rng=rng)
        frames = read_clip(row.path, indices, self.img_size, info)  # (T, 3, S, S) uint8
        if self.augment is not None:
            frames = self.augment(frames)
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
        pin_memory: bool | None = None,
        persistent_workers: bool = False,
        train_jitter: bool = True,
        val_dancers: int = 1,
        test_dancers: int = 1,
        synthetic: dict[str, Any] | None = None,
        augment: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if num_frames <= 0:
            raise DeepdanceError(f"data.num_frames must be a positive integer, got {num_frames}")
        if split not in ("dancer", "random"):
            raise DeepdanceError(f"data.split={split!r} is not known; use 'dancer' (default, leak-free) or 'random'")
        self.save_hyperparameters(logger=False)
        self.root = Path(root)
        self.manifest: pd.DataFrame | None = None
        self.rejected: list[tuple[Path, str]] = []
        self.datasets: dict[str, VideoClipDataset] = {}

    @property
    def num_classes(self) -> int:
        return len(GENRES)

    def prepare_data(self) -> None:
        if self.hparams.synthetic is not None:
            from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

            ensure_synthetic_dataset(self.root, SyntheticConfig(**self.hparams.synthetic))

    def setup(self, stage: str | None = None) -> None:
        if self.manifest is None:
            self.manifest = self._build_manifest()
        for split in ("train", "val", "test"):
            part = self.manifest[self.manifest["split"] == split]
            self.datasets[split] = VideoClipDataset(
                part,
                self.hparams.num_frames,
                self.hparams.img_size,
                random_offsets=(split == "train" and self.hparams.train_jitter),
                augment=ClipAugment(**self.hparams.augment) if split == "train" and self.hparams.augment else None,
            )

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
        infos = [probe_video(path) for path in manifest["path"]]
        manifest["frames"] = [i.num_frames for i in infos]
        manifest["height"] = [i.height for i in infos]
        manifest["width"] = [i.width for i in infos]
        manifest["fps"] = [i.fps for i in infos]
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

    def _pin_memory(self) -> bool:
        """``pin_memory: null`` pins exactly when batches go to a GPU (page-locked copies are
        faster to transfer and pointless on CPU)."""
        if self.hparams.pin_memory is not None:
            return bool(self.hparams.pin_memory)
        trainer = getattr(self, "trainer", None)
        return trainer is not None and trainer.strategy.root_device.type == "cuda"

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            pin_memory=self._pin_memory(),
            persistent_workers=self.hparams.persistent_workers and workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
