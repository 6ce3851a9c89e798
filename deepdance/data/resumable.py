"""A training order that a resumed run picks up exactly where the checkpoint left it, mid-epoch
included (a SIGTERM'd or requeued job), with the same shuffles and the same random draws.

Two things make a plain ``DataLoader(shuffle=True)`` unresumable mid-epoch: its permutation is
drawn from the global RNG when an epoch's iterator is created, and each item's random draws
(clip offsets, augmentation, flips) come from whichever process loads it, in loading order,
prefetch included. Here both are functions of ``(seed, epoch)`` alone:

* ``ResumableSampler`` is a ``DistributedSampler`` (so Lightning leaves it in place under DDP and
  calls ``set_epoch``): this rank's share of the epoch's permutation, each index handed out
  with a seed of its own, ``(index, item_seed)``. Resuming, it skips the items already trained.
* Datasets turn that seed into a private generator (``item_generator``); a plain ``int`` index
  (evaluation, feature extraction, Lightning's ``overfit_batches``) keeps the global RNG.
* ``ResumableTrainOrder`` (a LightningDataModule mixin) stores where training stands in every
  checkpoint (``state_dict``: seed, epoch, items done) and builds the resumed run's sampler
  from it. The global RNG is then touched only by the model, and ``ResumableRandomness``
  restores that.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Sized
from typing import Any

import torch
from torch.utils.data import DistributedSampler

Item = int | tuple[int, int]
log = logging.getLogger(__name__)


def item_index(item: Item) -> int:
    """The dataset index of an item, seeded or not (for datasets that draw nothing)."""
    return int(item[0]) if isinstance(item, tuple) else int(item)


def item_generator(item: Item) -> tuple[int, torch.Generator | None]:
    """``(index, generator)`` for a dataset's ``__getitem__``: a private generator for an
    ``(index, seed)`` item from ``ResumableSampler``, ``None`` (the global RNG) for an int."""
    if isinstance(item, tuple):
        index, seed = item
        return int(index), torch.Generator().manual_seed(int(seed))
    return int(item), None


class ResumableSampler(DistributedSampler):
    """This rank's items of the epoch's permutation (``seed + epoch``, as ``DistributedSampler``),
    as ``(index, item_seed)``; items' seeds depend on ``(seed, epoch, index)`` only.

    ``start=(epoch, items_done)`` resumes: the first iteration of that epoch skips the items a
    checkpoint already trained on (``len`` stays the whole epoch's, which is what Lightning
    counts its restored batch progress against).
    """

    def __init__(
        self,
        dataset: Sized,
        seed: int,
        shuffle: bool = True,
        num_replicas: int = 1,
        rank: int = 0,
        start: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(
            dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
        )
        self._start = start
        if start is not None:
            # an eager iterator (workers > 0) may be built before Lightning sets it
            self.set_epoch(start[0])

    def item_seeds(self) -> torch.Tensor:
        """One seed per dataset index for this epoch, the same on every rank."""
        # never the permutation's seed
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch + 1)
        return torch.randint(2**62, (len(self.dataset),), generator=generator)

    def epoch_indices(self) -> list[int]:
        """This rank's dataset indices for the epoch, before any resume skip."""
        return [int(index) for index in super().__iter__()]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        indices = self.epoch_indices()
        if self._start is not None:
            epoch, done = self._start
            self._start = None
            if epoch == self.epoch:
                indices = indices[done:]
        seeds = self.item_seeds()
        return iter([(index, int(seeds[index])) for index in indices])


def training_position(trainer: Any, batch_size: int) -> tuple[int, int] | None:
    """``(epoch to run next, items of it already trained on this rank)`` while fitting, else None.

    Read when a checkpoint is written. After the last batch of an epoch (at its validation, its
    epoch end, or a SIGTERM there) the next run starts the following epoch; mid-epoch (SIGTERM),
    the same one, after the batches done. ``epochs started`` counts the running epoch in every
    one of these, whereas ``current_epoch`` moves on part-way through the epoch-end hooks.
    """
    if trainer is None or trainer.state.fn != "fit" or trainer.sanity_checking:
        return None
    started = trainer.fit_loop.epoch_progress.current.started
    done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
    if done >= trainer.num_training_batches:
        return started, 0
    return started - 1, done * batch_size


class ResumableTrainOrder:
    """LightningDataModule mixin: ``self.train_sampler(dataset)`` for the training loader, and
    the training position in every checkpoint (Lightning calls ``state_dict`` when it saves and
    ``load_state_dict`` before it builds the resumed run's loaders). Needs ``hparams.batch_size``."""

    _resume_at: tuple[int, int] | None = None
    _order_seed: int | None = None

    def order_seed(self) -> int:
        """``seed_everything``'s seed (``PL_GLOBAL_SEED``, the one Lightning's own distributed
        sampler uses, the same on every rank), fixed at first use and kept by checkpoints.
        Without one (``seed=null``) a single process shuffles differently every run (torch's
        random initial seed); several processes use 0, as Lightning does, so they agree."""
        if self._order_seed is None:
            seed = os.environ.get("PL_GLOBAL_SEED")
            trainer = getattr(self, "trainer", None)
            if seed is None:
                seed = 0 if trainer is not None and trainer.world_size > 1 else torch.initial_seed() % 2**31
            self._order_seed = int(seed)
        return self._order_seed

    def train_sampler(self, dataset: Sized) -> ResumableSampler:
        trainer = getattr(self, "trainer", None)
        start, self._resume_at = self._resume_at, None
        return ResumableSampler(
            dataset,
            seed=self.order_seed(),
            shuffle=True,
            start=start,
            num_replicas=trainer.world_size if trainer is not None else 1,
            rank=trainer.global_rank if trainer is not None else 0,
        )

    def loader_order(self, dataset: Sized, shuffle: bool) -> dict[str, Any]:
        """``DataLoader`` keywords: the resumable sampler when shuffling (training), and a generator
        of the loader's own for worker seeds, so the global RNG is left to the model."""
        return {
            "sampler": self.train_sampler(dataset) if shuffle else None,
            "generator": torch.Generator().manual_seed(self.order_seed()),
        }

    def state_dict(self) -> dict[str, Any]:
        position = training_position(getattr(self, "trainer", None), int(self.hparams.batch_size))
        if position is None:
            return {}
        trainer = self.trainer
        return {
            "train_order": {
                "seed": self.order_seed(),
                "epoch": position[0],
                "items_done": position[1],
                "batch_size": int(self.hparams.batch_size),
                "world_size": int(trainer.world_size),
            }
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        order = state_dict.get("train_order")
        trainer = getattr(self, "trainer", None)
        # testing a checkpoint resumes nothing
        if order and (trainer is None or trainer.state.fn == "fit"):
            self._order_seed = int(order["seed"])
            self._resume_at = (int(order["epoch"]), int(order["items_done"]))
            saved = (order.get("batch_size"), order.get("world_size"))
            now = (int(self.hparams.batch_size), int(trainer.world_size) if trainer is not None else 1)
            if self._resume_at[1] and saved != now:
                log.warning(
                    "resuming mid-epoch with batch size / processes %s instead of %s: the rest of epoch "
                    "%d will not be exactly the items the interrupted run had left",
                    now,
                    saved,
                    self._resume_at[0],
                )
            # Lightning looks for state_dict() on the DataLoader only and would warn that this
            # mid-epoch resume is unreliable; it is exact (tests/test_resumable.py).
            warnings.filterwarnings(
                "ignore", message="You're resuming from a checkpoint that ended before the epoch ended"
            )
