"""Genre-balanced training order (``data.balance=genre``): on a folder where one genre holds most
windows (the shared sample: 9 views of break dance against one of each other genre), a plain
shuffle teaches the majority class only; drawing each genre equally often does not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Sized

import torch
from torch.utils.data import WeightedRandomSampler

from deepdance.data.resumable import ResumableSampler
from deepdance.errors import DeepdanceError


def genre_weights(labels: Sequence[int]) -> torch.Tensor:
    """One weight per window: every genre the same total, split evenly among its windows."""
    counts = Counter(int(label) for label in labels)
    return torch.tensor([1.0 / (len(counts) * counts[int(label)]) for label in labels], dtype=torch.double)


class GenreBalancedSampler(ResumableSampler):
    """``ResumableSampler`` whose epoch is drawn with replacement by genre weight
    (``WeightedRandomSampler``) rather than permuted: as many windows as before, seeded by
    ``(seed, epoch)``. Under DDP every rank draws the same epoch and keeps its own share (so no
    window is drawn twice for one), as a ``DistributedSampler`` shares a permutation."""

    def __init__(self, dataset: Sized, labels: Sequence[int], **kwargs) -> None:
        super().__init__(dataset, **kwargs)
        if len(labels) != len(dataset):
            raise DeepdanceError(f"data.balance=genre: {len(labels)} genre labels for {len(dataset)} windows")
        self.weights = genre_weights(labels)

    @classmethod
    def like(cls, sampler: ResumableSampler, labels: Sequence[int]) -> GenreBalancedSampler:
        """The balanced counterpart of a training sampler (same seed, ranks and resume point)."""
        return cls(
            sampler.dataset,
            labels,
            seed=sampler.seed,
            num_replicas=sampler.num_replicas,
            rank=sampler.rank,
            start=sampler._start,
        )

    def epoch_indices(self) -> list[int]:
        """This rank's share of the epoch's weighted draw (``ResumableSampler`` skips and seeds)."""
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = list(
            WeightedRandomSampler(self.weights, self.total_size, replacement=True, generator=generator)
        )
        return [int(index) for index in drawn[self.rank : self.total_size : self.num_replicas]]
