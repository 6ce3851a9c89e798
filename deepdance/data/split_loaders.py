"""The train/val/test loaders of a datamodule whose ``datasets`` are keyed by split and whose
``config`` holds the loader settings (``batch_size``, ``num_workers``, ``pin_memory``,
``persistent_workers``): the genre videos and the keypoint sequences load the same way, and
name their classes and clips the same way (``GenreSplitData``)."""

from __future__ import annotations

import functools

from torch.utils.data import DataLoader, Dataset

from deepdance.data.aist.names import GENRES
from deepdance.data.resumable import ResumableSampler, ResumableTrainOrder
from deepdance.data.video.bad_videos import collate_skipping_bad
from deepdance.data.video.clip_sampling import ClipSampler


class SplitLoaders(ResumableTrainOrder):
    """LightningDataModule mixin: resumable training order, worker start-up, pinned memory on GPUs."""

    config: object
    datasets: dict[str, Dataset]

    def _pin_memory(self) -> bool:
        """``pin_memory: null`` pins exactly when batches go to a GPU (page-locked copies are
        faster to transfer and pointless on CPU)."""
        if self.config.pin_memory is not None:
            return bool(self.config.pin_memory)
        trainer = getattr(self, "trainer", None)
        return trainer is not None and trainer.strategy.root_device.type == "cuda"

    def train_genres(self) -> list[int]:
        """The genre label of every training window, in the train dataset's order (for
        ``data.balance=genre``); a datamodule whose data has a ``balance`` setting says how."""
        raise NotImplementedError(f"{type(self).__name__} does not list its training windows' genres")

    def train_sampler(self, dataset: Dataset) -> ResumableSampler:
        """The resumable training order; with ``data.balance=genre``, drawn by genre weight."""
        sampler = super().train_sampler(dataset)
        if getattr(self.config, "balance", "none") != "genre":
            return sampler
        # here: deepdance.data.pose's package imports its datamodule, which imports this module
        from deepdance.data.pose.balance import GenreBalancedSampler

        return GenreBalancedSampler.like(sampler, self.train_genres())

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        # here: deepdance.data.genre's package imports its datamodule, which imports this module
        from deepdance.data.genre.workers import init_worker

        workers = self.config.num_workers
        dataset = self.datasets[split]
        return DataLoader(
            dataset,
            batch_size=self.config.batch_size,
            # resumable mid-epoch, see deepdance/data/resumable.py
            **self.loader_order(dataset, shuffle),
            num_workers=workers,
            pin_memory=self._pin_memory(),
            persistent_workers=self.config.persistent_workers and workers > 0,
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


class GenreSplitData(SplitLoaders):
    """A genre datamodule's loaders, classes (``data.genres``, else the ten AIST++ genres) and clip
    sampler (``data.num_frames``, ``sampling``, ``test_clips``)."""

    @property
    def class_names(self) -> list[str]:
        return list(self.config.genres or GENRES)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def clip_sampler(self) -> ClipSampler:
        """The frame indices of every clip (or keypoint window) this data reads."""
        return ClipSampler(self.config.num_frames, self.config.sampling, self.config.test_clips)
