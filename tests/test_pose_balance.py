"""``data.balance=genre``: the skeleton datamodules' training windows drawn every genre equally often
(``deepdance.data.pose.balance``), on a folder of one genre of many views and one of few."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from deepdance.config.pose_data import PoseDataConfig
from deepdance.config.pose_motion import PoseMotionConfig
from deepdance.data.pose import PoseDataModule
from deepdance.data.pose.balance import GenreBalancedSampler, genre_weights
from deepdance.data.pose.motion import PoseMotionDataModule
from deepdance.data.resumable import item_index
from tests.helpers.poses import write_dance_folder

EPOCHS = 20


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Break: 12 sequences of 9 views; house: 12 of one view (split=sequence keeps 10 of each to train)."""
    root = tmp_path_factory.mktemp("skewed")
    write_dance_folder(root, genres=("BR",), dancers_per_genre=3, musics=4, views=9, frames=40)
    write_dance_folder(root, genres=("HO",), dancers_per_genre=3, musics=4, views=1, frames=40, seed=1)
    return root


def genre_share(data: PoseDataModule | PoseMotionDataModule) -> tuple[float, int]:
    """The share of the minority genre (house) over EPOCHS training epochs, and one epoch's length."""
    labels = data.train_genres()
    sampler = data.train_dataloader().sampler
    drawn = Counter()
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        drawn.update(labels[item_index(item)] for item in sampler)
    house = min(drawn, key=lambda label: Counter(labels)[label])
    return drawn[house] / sum(drawn.values()), sum(drawn.values()) // EPOCHS


def classifier(root: Path, **settings: object) -> PoseDataModule:
    data = PoseDataModule(PoseDataConfig(root=str(root), split="sequence", num_frames=8, **settings))
    data.setup()
    return data


def test_genre_weights_give_each_genre_the_same_total() -> None:
    weights = genre_weights([0, 0, 0, 5])
    torch.testing.assert_close(weights, torch.tensor([1 / 6, 1 / 6, 1 / 6, 1 / 2], dtype=torch.double))


def test_classifier_train_loader_draws_each_genre_half_the_time(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_GLOBAL_SEED", "3")
    plain, balanced = classifier(folder), classifier(folder, balance="genre")
    assert len(plain.datasets["train"]) == 100 and Counter(plain.train_genres()) == Counter({0: 90, 5: 10})
    share, epoch = genre_share(plain)
    assert epoch == 100 and share == pytest.approx(0.1)
    share, epoch = genre_share(balanced)
    # an epoch as long as before, 2,000 draws in all
    assert epoch == 100 and share == pytest.approx(0.5, abs=0.05)
    # seeded by the run's seed: the same windows, and their own draws, on a second run
    first = list(balanced.train_dataloader().sampler)
    assert list(classifier(folder, balance="genre").train_dataloader().sampler) == first
    monkeypatch.setenv("PL_GLOBAL_SEED", "4")
    assert list(classifier(folder, balance="genre").train_dataloader().sampler) != first
    # evaluation loaders unchanged: every window once, in order
    for split in ("val", "test"):
        loaders = plain._loader(split, shuffle=False), balanced._loader(split, shuffle=False)
        assert [loader.sampler.__class__ for loader in loaders] == [torch.utils.data.SequentialSampler] * 2
        assert len(loaders[1].dataset) == len(loaders[0].dataset) == 10


def test_generator_train_loader_draws_each_genre_half_the_time(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_GLOBAL_SEED", "3")
    settings = {"root": str(folder), "split": "sequence", "context_frames": 4, "target_frames": 1}
    plain = PoseMotionDataModule(PoseMotionConfig(**settings))
    balanced = PoseMotionDataModule(PoseMotionConfig(**settings, balance="genre"))
    plain.setup(), balanced.setup()
    counts = Counter(plain.train_genres())
    assert len(plain.train_genres()) == len(plain.datasets["train"]) and counts[0] == 9 * counts[5]
    share, epoch = genre_share(plain)
    assert epoch == len(plain.datasets["train"]) and share == pytest.approx(0.1, abs=0.01)
    share, epoch = genre_share(balanced)
    assert epoch == len(balanced.datasets["train"]) and share == pytest.approx(0.5, abs=0.05)
    assert type(balanced.val_dataloader().sampler) is torch.utils.data.SequentialSampler


def test_ranks_share_one_draw_without_overlap_and_resume_mid_epoch() -> None:
    labels = [0] * 9 + [1]
    ranks = [GenreBalancedSampler(labels, labels, seed=0, num_replicas=2, rank=r) for r in (0, 1)]
    shares = [list(sampler) for sampler in ranks]
    # each rank half an epoch; together one weighted draw of the whole epoch
    whole = list(GenreBalancedSampler(labels, labels, seed=0))
    assert [len(share) for share in shares] == [5, 5]
    assert [item for pair in zip(*shares) for item in pair] == whole
    resumed = GenreBalancedSampler(labels, labels, seed=0, start=(0, 4))
    assert list(resumed) == whole[4:] and list(resumed) == whole
