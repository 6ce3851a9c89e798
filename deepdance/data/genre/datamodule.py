"""Genre-recognition data: a manifest of AIST++-named videos, a dancer-disjoint split (or the
official split files), and clips decoded with decord or read from the feature store.

The dataset is map-style over an explicit manifest (one row per video), so epoch length,
DDP sharding and worker counts are plain Lightning behaviour. Bad videos are left out at
probe time and dropped from their batch at decode time (``data.on_bad_video``, see
``deepdance/data/video/bad_videos.py``).
"""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing
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

from deepdance.data.aist.names import GENRES, build_manifest, find_videos
from deepdance.data.aist.splits import (
    dancers_shared_between_splits,
    describe_split,
    filter_manifest,
    sequence_name,
    split_at_random,
    split_by_dancer,
    split_by_files,
)
from deepdance.data.genre.augment import ClipAugment
from deepdance.data.genre.clip_datasets import MultiClipVideoDataset, StoredClipDataset
from deepdance.data.resumable import Item, ResumableTrainOrder, item_generator
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
from deepdance.data.video.reader import VideoInfo, keyframe_indices, read_clip
from deepdance.errors import DeepdanceError

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


class VideoClipDataset(Dataset):
    """One clip per video: ``num_frames`` indices spread over it, decoded and cropped.

    ``sampling="keyframe"`` snaps the indices to the key frames listed in the manifest's
    ``keyframes`` column, so each sampled frame costs a short decode.
    """

    def __init__(
        self,
        manifest: pd.DataFrame,
        num_frames: int,
        img_size: int,
        random_offsets: bool,
        augment: ClipAugment | None = None,
        sampling: Sampling = "exact",
    ) -> None:
        self.manifest = manifest.reset_index(drop=True)
        self.augment = augment
        self.sampler = ClipSampler(num_frames, sampling)
        self.img_size = img_size
        self.random_offsets = random_offsets

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # Training items carry their own seed (ResumableSampler): jitter and augmentation vary
        # per epoch yet do not depend on workers, prefetching or a mid-epoch resume.
        index, generator = item_generator(item)
        row = self.manifest.iloc[index]
        info = VideoInfo(int(row.frames), int(row.height), int(row.width), float(row.fps))
        keyframes = getattr(row, "keyframes", None)
        if self.random_offsets:
            indices, mask = self.sampler.train_indices(info.num_frames, keyframes, generator)
        else:
            indices, mask = self.sampler.eval_indices(info.num_frames, keyframes)
        frames = read_clip(row.path, indices, self.img_size, info)  # (T, 3, S, S) uint8
        if self.augment is not None:
            frames = self.augment(frames, generator=generator)
        return {
            "frames": frames,
            "mask": torch.from_numpy(mask),  # (T,)
            # (T,) which frames, the feature-cache key
            "indices": torch.from_numpy(indices),
            "label": int(row.label),
            "video": int(row.video_id),
        }


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
    ) -> None:
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
        self.save_hyperparameters(logger=False)
        self.root = Path(root)
        self.manifest: pd.DataFrame | None = None
        self.rejected: list[tuple[Path, str]] = []
        self.datasets: dict[str, Dataset] = {}
        self.feature_settings: dict[str, Any] = {**FEATURE_DEFAULTS, **(features or {})}
        # a deepdance.features.FeatureStore once use_feature_store() is called
        self.store = None
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
        if self.hparams.synthetic is not None:
            from deepdance.data.synthetic.dataset import SyntheticConfig, ensure_synthetic_dataset

            ensure_synthetic_dataset(self.root, SyntheticConfig(**self.hparams.synthetic))

    def load_manifest(self) -> pd.DataFrame:
        """The videos (names, filters, split) of this run, built once; no video is opened."""
        if self.manifest is None:
            self.manifest = self._build_manifest()
        return self.manifest

    def use_feature_store(self, store: Any) -> None:
        """Read stored backbone features instead of decoding videos (frozen backbone)."""
        self.store = store

    def video_refs(self, manifest: pd.DataFrame) -> list[tuple[str, str]]:
        """``(path relative to the data root, path)`` per video: the feature store's entry names."""
        base = self.root if self.root.is_dir() else self.root.parent
        return [(os.path.relpath(path, base), path) for path in manifest["path"]]

    def setup(self, stage: str | None = None) -> None:
        manifest = self.load_manifest()
        if self.store is not None:
            self._check_splits(manifest)
            self._setup_from_store(manifest)
            return
        if "frames" not in manifest.columns:
            self.manifest = manifest = self._probe_videos(manifest)
        self._check_splits(manifest)
        if self.hparams.sampling == "keyframe" and "keyframes" not in manifest.columns:
            manifest["keyframes"] = [keyframe_indices(path).tolist() for path in manifest["path"]]
        sampler = self.clip_sampler
        for split in ("train", "val", "test"):
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
        refs = self.video_refs(manifest)
        if "frames" not in manifest.columns:
            infos = [self.store.video_info(rel) for rel, _ in refs]
            for column in ("frames", "height", "width", "fps"):
                manifest[column] = [info[column] for info in infos]
        manifest["entry"] = [rel for rel, _ in refs]
        clips = int(self.feature_settings["clips"])
        if self.hparams.test_clips > clips:
            raise DeepdanceError(
                f"data.test_clips={self.hparams.test_clips} exceeds data.features.clips={clips}, "
                "the clips stored per video; raise data.features.clips (a new store fills) or lower "
                "data.test_clips"
            )
        for split in ("train", "val", "test"):
            part = manifest[manifest["split"] == split]
            if split == "train":
                self.datasets[split] = StoredClipDataset(
                    part, self.store, self.clip_sampler, random_clip=self.hparams.train_jitter
                )
            elif split == "val":
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler)
            else:
                self.datasets[split] = StoredClipDataset(part, self.store, self.clip_sampler, test=True)

    def _build_manifest(self) -> pd.DataFrame:
        try:
            videos = find_videos(self.root)
        except FileNotFoundError as err:
            raise DeepdanceError(str(err)) from None
        manifest, self.rejected = build_manifest(videos)
        for path, reason in self.rejected:
            log.warning("not an AIST++ single-dancer video, left out: %s (%s)", path, reason)
        if manifest.empty:
            raise DeepdanceError(
                f"data root {self.root}: none of its {len(videos)} video(s) has an AIST++ name like "
                "gBR_sBM_c01_d04_mBR0_ch01.mp4"
            )
        manifest = self._filter(manifest)
        if self.hparams.split == "dancer":
            manifest["split"] = split_by_dancer(
                manifest,
                self.hparams.seed,
                self.hparams.val_dancers,
                self.hparams.test_dancers,
                fold=self.hparams.get("fold"),
            )
        elif self.hparams.split == "files":
            manifest = self._split_by_files(manifest)
        else:
            manifest["split"] = split_at_random(manifest, self.hparams.seed)
            log.warning(
                "data.split=random: the same dancers appear in train and test, so test accuracy rewards "
                "recognising people"
            )
        manifest = manifest.reset_index(drop=True)
        manifest["video_id"] = np.arange(len(manifest))
        manifest["sequence"] = manifest["name"].map(sequence_name)
        manifest["sequence_id"] = pd.factorize(manifest["sequence"], sort=True)[0]
        shared = dancers_shared_between_splits(manifest)
        log.info(
            "split=%s (%d videos, %d rejected names)\n%s",
            self.hparams.split,
            len(manifest),
            len(self.rejected),
            describe_split(manifest),
        )
        if shared and self.hparams.split == "dancer":
            raise DeepdanceError(f"dancer split leaks dancers {sorted(shared)} across splits")
        if shared and self.hparams.split == "files":
            log.warning(
                "split files share %d dancer(s) between splits (the official crossmodal split differs "
                "only in music): genre accuracy on it partly measures recognising dancers; data.split=dancer "
                "holds dancers out",
                len(shared),
            )
        # From the file names alone: an empty split stops the run before any video is probed
        # or any feature computed.
        self._check_splits(manifest)
        return manifest

    def _check_splits(self, manifest: pd.DataFrame) -> None:
        """Every split needs videos: checked on the names (no video opened), and again after probing."""
        for split in ("train", "val", "test"):
            if not (manifest["split"] == split).any():
                need = (
                    "its split files to list videos found here"
                    if self.hparams.split == "files"
                    else "at least 3 dancers per genre"
                )
                raise DeepdanceError(
                    f"data root {self.root}: the {split} split is empty; it needs {need} (found "
                    f"{len(manifest)} videos of {manifest['dancer'].nunique()} dancers)"
                )

    def _filter(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """``data.genres`` / ``data.cameras`` / ``data.situations``: keep only those videos."""
        if self.hparams.genres:
            manifest = manifest[manifest["genre"].isin(self.hparams.genres)].reset_index(drop=True)
            # class order = list order
            manifest["label"] = manifest["genre"].map({g: i for i, g in enumerate(self.hparams.genres)})
            if manifest.empty:
                raise DeepdanceError(f"data root {self.root}: no video of data.genres={self.hparams.genres}")
        cameras, situations = self.hparams.cameras, self.hparams.situations
        if cameras is None and situations is None:
            return manifest
        try:
            kept = filter_manifest(manifest, cameras, situations)
        except ValueError as err:
            raise DeepdanceError(f"data.cameras={cameras} / data.situations={situations}: {err}") from None
        log.info(
            "filters cameras=%s situations=%s keep %d of %d videos",
            cameras,
            situations,
            len(kept),
            len(manifest),
        )
        if kept.empty:
            raise DeepdanceError(
                f"data root {self.root}: no video matches data.cameras={cameras} "
                f"data.situations={situations} "
                f"(found cameras {sorted(manifest['camera'].unique())}, situations "
                f"{sorted(manifest['situation'].unique())})"
            )
        return kept

    def _split_by_files(self, manifest: pd.DataFrame) -> pd.DataFrame:
        """``data.split=files``: the official AIST++ lists decide; unlisted and ignored videos leave."""
        try:
            split = split_by_files(manifest, Path(self.hparams.split_dir), self.hparams.split_set)
        except (OSError, ValueError) as err:
            raise DeepdanceError(f"data.split_dir={self.hparams.split_dir}: {err}") from None
        manifest = manifest.assign(split=split)
        dropped = manifest["split"].isna()
        if dropped.any():
            log.info(
                "%d video(s) are in no %s split file or in ignore_list.txt: left out",
                int(dropped.sum()),
                self.hparams.split_set,
            )
        return manifest[~dropped]

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
        for split in ("train", "val", "test"):
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


def init_worker(worker_id: int, rank: int = 0) -> None:
    """DataLoader worker start-up: leave SIGTERM to the main process (``timeout``, SLURM and
    ``kill -- -PGID`` signal the whole process group), which stops after the batch and saves a
    checkpoint; then seed like Lightning does under ``seed_everything(workers=True)``.

    Ignoring SIGTERM means ``multiprocessing``'s exit handler (terminate, then join) could wait
    forever on a worker whose iterator is still alive at exit (e.g. held by the traceback of an
    error raised in a worker): ``_kill_workers_at_exit`` ends them first."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.environ.get("PL_SEED_WORKERS") == "1":
        from lightning_fabric.utilities.seed import pl_worker_init_function

        pl_worker_init_function(worker_id, rank=rank)


# registered after multiprocessing's own exit handler, so it runs before it (LIFO)
@atexit.register
def _kill_workers_at_exit() -> None:
    """SIGKILL the daemonic child processes still alive at interpreter exit.

    multiprocessing would terminate them anyway (SIGTERM, then an unbounded join); our
    DataLoader workers ignore SIGTERM (see ``init_worker``), so without this a leftover worker
    keeps the process from ever exiting."""
    workers = [child for child in multiprocessing.active_children() if child.daemon]
    if not workers:
        return
    # torch's handler would raise as each killed worker dies
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for child in workers:
        child.kill()
    for child in workers:
        child.join(timeout=5)
