"""The training order resumes exactly mid-epoch: same items, same per-item random draws, same
weights as a run that was never interrupted (deepdance/data/resumable.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torch.utils.data import DataLoader, Dataset

from deepdance.callbacks import CheckpointOnInterrupt, ResumableRandomness
from deepdance.data.resumable import ResumableSampler, ResumableTrainOrder, item_generator
from tests.helpers.interrupt import SignalAt


def items(sampler: ResumableSampler, epoch: int) -> list[tuple[int, int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


def test_sampler_order_and_item_seeds_depend_on_seed_and_epoch_only() -> None:
    data = range(10)
    first, second = items(ResumableSampler(data, seed=7), 3), items(ResumableSampler(data, seed=7), 3)
    assert first == second and sorted(i for i, _ in first) == list(range(10))
    other_epoch = items(ResumableSampler(data, seed=7), 4)
    assert [i for i, _ in other_epoch] != [i for i, _ in first]  # reshuffled
    seeds = dict(first)
    assert all(seeds[i] != s for i, s in other_epoch)  # and every item draws afresh
    assert items(ResumableSampler(data, seed=8), 3) != first


def test_sampler_resumed_mid_epoch_hands_out_exactly_the_rest_then_whole_epochs() -> None:
    data = range(11)
    resumed = ResumableSampler(data, seed=3, start=(2, 4))
    assert resumed.epoch == 2  # set before Lightning does: an eager (workers > 0) iterator reads it
    assert list(resumed) == items(ResumableSampler(data, seed=3), 2)[4:]
    assert items(resumed, 3) == items(ResumableSampler(data, seed=3), 3)  # the skip was once only


def test_ranks_split_an_epoch_and_agree_on_item_seeds() -> None:
    data = range(9)
    ranks = [items(ResumableSampler(data, seed=5, num_replicas=2, rank=r), 1) for r in (0, 1)]
    assert {i for i, _ in ranks[0] + ranks[1]} == set(range(9)) and len(ranks[0]) == len(
        ranks[1]
    ) == 5  # padded
    seeds = dict(ranks[0]) | dict(ranks[1])
    assert dict(items(ResumableSampler(data, seed=5), 1)) == seeds


def test_item_generator_is_private_for_seeded_items_and_global_for_ints() -> None:
    index, generator = item_generator((4, 123))
    assert (
        index == 4
        and torch.rand(3, generator=generator).tolist()
        == torch.rand(3, generator=torch.Generator().manual_seed(123)).tolist()
    )
    assert item_generator(5) == (5, None)


class NoisyItems(Dataset):
    """Each item is noise drawn from its own generator: a stand-in for clip jitter and augmentation."""

    def __len__(self) -> int:
        return 24

    def __getitem__(self, item: int | tuple[int, int]) -> torch.Tensor:
        index, generator = item_generator(item)
        return torch.full((4,), index / 24) + 0.1 * torch.randn(4, generator=generator)


class NoisyData(ResumableTrainOrder, pl.LightningDataModule):
    def __init__(self, num_workers: int, persistent_workers: bool) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.hparams.batch_size = 4

    def train_dataloader(self) -> DataLoader:
        dataset = NoisyItems()
        return DataLoader(
            dataset,
            batch_size=4,
            **self.loader_order(dataset, shuffle=True),
            num_workers=self.hparams.num_workers,
            persistent_workers=self.hparams.persistent_workers,
        )


class DropoutRegression(pl.LightningModule):
    """Dropout draws from the global RNG, which ResumableRandomness restores."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return (self.net(batch) - batch.sum(1, keepdim=True)).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def fit(
    folder: Path, workers: tuple[int, bool], ckpt_path: str | None = None, callbacks: tuple = ()
) -> DropoutRegression:
    pl.seed_everything(12345, workers=True)
    model = DropoutRegression()
    trainer = pl.Trainer(
        max_epochs=3,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        enable_checkpointing=False,
        default_root_dir=folder,
        callbacks=[CheckpointOnInterrupt(str(folder)), ResumableRandomness(), *callbacks],
    )
    trainer.fit(model, datamodule=NoisyData(*workers), ckpt_path=ckpt_path, weights_only=True)
    return model


@pytest.mark.parametrize(
    "workers", [(0, False), (2, False), (2, True)], ids=["main-process", "2-workers", "2-persistent-workers"]
)
@pytest.mark.parametrize("stop_at", [8, 12], ids=["mid-epoch", "epoch-end"])
def test_sigterm_then_resume_trains_exactly_the_uninterrupted_weights(
    tmp_path: Path, workers: tuple[int, bool], stop_at: int
) -> None:
    uninterrupted = fit(tmp_path / "a", workers)
    with pytest.raises(SIGTERMException):
        fit(tmp_path / "b", workers, callbacks=(SignalAt(stop_at, "SIGTERM"),))  # 6 steps an epoch
    last = tmp_path / "b" / "last.ckpt"
    order = torch.load(last, weights_only=True)["NoisyData"]["train_order"]
    assert (order["epoch"], order["items_done"]) == ((1, 8) if stop_at == 8 else (2, 0))
    resumed = fit(tmp_path / "b", workers, ckpt_path=str(last))
    for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_resuming_mid_epoch_with_another_batch_size_says_so(caplog: pytest.LogCaptureFixture) -> None:
    data = NoisyData(0, False)
    stored = {"train_order": {"seed": 1, "epoch": 2, "items_done": 8, "batch_size": 8, "world_size": 1}}
    with caplog.at_level("WARNING", logger="deepdance.data.resumable"):
        data.load_state_dict(stored)
    assert "batch size / processes (4, 1) instead of (8, 1)" in caplog.text and "epoch 2" in caplog.text
    sampler = data.train_sampler(NoisyItems())
    assert (sampler.seed, sampler.epoch, len(list(sampler))) == (
        1,
        2,
        24 - 8,
    )  # the stored position is still used


def test_without_a_global_seed_one_process_shuffles_per_run_and_ranks_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)
    torch.manual_seed(77)  # stands in for the random seed torch starts each process with
    assert NoisyData(0, False).order_seed() == 77
    ranked = NoisyData(0, False)
    ranked.trainer = SimpleNamespace(world_size=2, global_rank=1)
    assert ranked.order_seed() == 0
    monkeypatch.setenv("PL_GLOBAL_SEED", "12345")
    assert NoisyData(0, False).order_seed() == 12345
