"""Remedies against rollouts that freeze: the rollout loss, scheduled sampling, input noise and the
mixture density head change training as claimed, and every one left off is the original training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepdance.errors import DeepdanceError
from deepdance.models.dance_generator import DanceGenerator
from deepdance.models.latent_lstm import LatentLSTM
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.mixture_head import Mixture
from deepdance.models.rollout_training import RolloutTraining
from tests.helpers.models import tiny_lstm, tiny_preprocessing
from tests.helpers.runs import REPO, compose_config, tiny_deep_dance, train_in_process

PREPROCESSING = tiny_preprocessing()


def _net(head: str = "point", dropout: float = 0.0) -> LatentLSTM:
    torch.manual_seed(0)
    return LatentLSTM(8, hidden_sizes=(16,), dropout=dropout, head=head, mixtures=3)


def _module(**settings: object) -> LatentLSTMModule:
    return tiny_lstm(**settings)


def test_rollout_loss_is_a_hand_rolled_three_step_loss_and_not_the_one_step_loss() -> None:
    net, z = _net(), torch.randn(5, 4 + 3, 8)
    # by hand: three steps, each feeding back the prediction before it
    window, losses = z[:, :4], []
    for k in range(3):
        pred = net(window)
        losses.append(F.mse_loss(pred, z[:, 4 + k]))
        window = torch.cat([window[:, 1:], pred[:, None]], dim=1)
    three = RolloutTraining(steps=3).loss(net, z)
    assert torch.allclose(three, torch.stack(losses).mean())
    one = RolloutTraining(steps=1).loss(net, z[:, :5])
    assert not torch.allclose(three, one)
    # gradients reach the LSTM through the fed-back predictions
    three.backward()
    assert all(p.grad is not None for p in net.parameters())


def test_scheduled_sampling_of_one_is_teacher_forcing() -> None:
    net, z = _net(), torch.randn(5, 4 + 3, 8)
    forced = torch.stack([F.mse_loss(net(z[:, k : k + 4]), z[:, 4 + k]) for k in range(3)]).mean()
    assert torch.allclose(RolloutTraining(steps=3, scheduled_sampling=1.0).loss(net, z), forced)
    torch.manual_seed(1)
    half = RolloutTraining(steps=3, scheduled_sampling=0.5).loss(net, z)
    assert not torch.allclose(half, forced)


def test_the_default_is_the_original_one_step_mse_bit_for_bit() -> None:
    """Same value and the same random draws (dropout), so existing runs are reproduced."""
    net, z = _net(dropout=0.3), torch.randn(6, 5, 8)
    torch.manual_seed(7)
    original = F.mse_loss(net(z[:, :-1]), z[:, -1])
    after_original = torch.rand(3)
    torch.manual_seed(7)
    default = RolloutTraining().loss(net, z)
    assert torch.equal(default, original) and torch.equal(torch.rand(3), after_original)
    torch.manual_seed(7)
    assert not torch.equal(RolloutTraining(input_noise=0.5).loss(net, z), original)


def test_mixture_head_nll_mean_and_samples() -> None:
    net, z = _net("mdn"), torch.randn(4, 6, 8)
    out = net.predict(z)
    assert isinstance(out, Mixture) and out.means.shape == (4, 3, 8)
    nll = LatentLSTM.next_loss(out, torch.randn(4, 8))
    assert nll.ndim == 0 and torch.isfinite(nll)
    # the one-step forecast is the mixture's mean
    weights = out.logits.softmax(-1)[..., None]
    assert torch.allclose(net(z), (weights * out.means).sum(1))
    draw = [net.sample_next(z, generator=torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert draw[0].shape == (4, 8) and torch.equal(draw[0], draw[1]) and not torch.equal(draw[0], draw[2])
    # a point head's draw is its forecast
    point = _net()
    assert torch.equal(point.sample_next(z, generator=torch.Generator().manual_seed(1)), point(z))
    # trained over a rollout of its own draws: finite, and the gradient reaches the mixture
    loss = RolloutTraining(steps=2, input_noise=0.1).loss(net, torch.randn(4, 6, 8))
    loss.backward()
    assert torch.isfinite(loss) and net.head.proj.weight.grad is not None


def test_generation_samples_a_mixture_head_and_not_a_point_head() -> None:
    def dance(module: LatentLSTMModule, seed: int) -> torch.Tensor:
        generator = DanceGenerator(module.eval())
        seed_latents = generator.seed_random(torch.Generator().manual_seed(0))
        draws = torch.Generator().manual_seed(seed)
        return torch.as_tensor(generator.generate(seed_latents, steps=4, generator=draws).frames)

    torch.manual_seed(0)
    mdn = _module(head="mdn", mixtures=3)
    assert not torch.equal(dance(mdn, 1), dance(mdn, 2)) and torch.equal(dance(mdn, 1), dance(mdn, 1))
    torch.manual_seed(0)
    point = _module()
    assert torch.equal(dance(point, 1), dance(point, 2))


def test_default_module_keeps_its_state_dict_keys() -> None:
    torch.manual_seed(0)
    default = _module()
    assert (default.hparams.head, default.hparams.rollout_loss_steps, default.hparams.input_noise) == (
        "point",
        1,
        0.0,
    )
    assert {"lstm.head.weight", "lstm.head.bias"} <= set(default.state_dict())
    # the defaults spelled out build the same weights (the same draws, the same keys)
    torch.manual_seed(0)
    explicit = _module(head="point", rollout_loss_steps=1, scheduled_sampling=0.0, input_noise=0.0)
    pairs = zip(default.state_dict().values(), explicit.state_dict().values())
    assert all(torch.equal(a, b) for a, b in pairs)
    mdn = _module(head="mdn", mixtures=2, rollout_loss_steps=3, input_noise=0.1)
    assert mdn.hparams.head == "mdn" and mdn.hparams.rollout_loss_steps == 3
    # a checkpoint's hyper-parameters rebuild the same kind of model
    assert isinstance(LatentLSTMModule.from_hparams(mdn.hparams).lstm.predict(torch.randn(2, 4, 8)), Mixture)


def test_time_warped_window_latents_are_interpolated() -> None:
    from deepdance.models.latent_table import LatentTable

    module = _module()
    module.table = LatentTable(torch.arange(20.0)[:, None].expand(-1, 8).clone(), torch.tensor([0, 10]))
    batch = {
        "video": torch.tensor([1]),
        "target": torch.tensor([8]),
        "positions": torch.tensor([[2.5, 4.0, 5.5, 7.0, 8.0]], dtype=torch.float64),
    }
    assert module.batch_latents(batch, 1)[0, :, 0].tolist() == [12.5, 14.0, 15.5, 17.0, 18.0]
    del batch["positions"]
    assert module.batch_latents(batch, 3)[0, :, 0].tolist() == list(range(12, 19))


def test_validation_liveliness_of_a_frozen_lstm_is_its_first_step() -> None:
    """A residual LSTM whose head outputs nothing repeats its last latent: after the first step
    (from the real last seed frame to its decoded latent) no motion at all, whatever the real
    frames do; the baselines are measured beside it."""
    from deepdance.data.silhouette import Segment, SilhouetteSequences

    frames = np.random.default_rng(0).integers(0, 256, (40, 24, 40), dtype=np.uint8)
    segments = {"train": [Segment(0, 0, 30)], "val": [Segment(0, 30, 35)], "test": [Segment(0, 35, 40)]}
    module = _module(rollout_horizons=[1, 6]).eval()
    module.use_sequences(SilhouetteSequences([frames], segments, PREPROCESSING, 4), fit=True)
    torch.nn.init.zeros_(module.lstm.head.weight)
    torch.nn.init.zeros_(module.lstm.head.bias)
    metrics = module.evaluator.liveliness(module, "val")
    # the 5 val windows (30..34): step 1 leaves the real frame t - 1 for its reconstruction,
    # the next 5 steps repeat it (zero up to the rounding of standardising and back)
    held = torch.as_tensor(frames[29:34]).float()[:, None] / 255
    first_step = float((module.decode(module.table.latents[29:34]) - held).abs().mean())
    assert metrics["val/liveliness"] == pytest.approx(first_step / 6, abs=1e-6)
    assert metrics["val/liveliness_repeat"] == 0 and metrics["val/liveliness_real"] > 0
    ratio = metrics["val/liveliness_extrap"] / metrics["val/liveliness_real"]
    assert metrics["val/liveliness_ratio_extrap"] == pytest.approx(ratio)
    # every window (test's choice) of the same split: the same 5 here; and the rollouts run
    # past the end of the 5-frame test split
    assert module.evaluator.liveliness(module, "val", count=None) == pytest.approx(metrics)
    assert set(module.evaluator.liveliness(module, "test")) == {k.replace("val/", "test/") for k in metrics}


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"rollout_loss_steps": 0}, "model.rollout_loss_steps=0: expected an integer >= 1"),
        ({"scheduled_sampling": 1.5}, r"model.scheduled_sampling=1.5: expected a number in \[0, 1\]"),
        ({"input_noise": -0.1}, "model.input_noise=-0.1: expected a number >= 0"),
        ({"head": "gmm"}, "model.head='gmm': expected one of point, mdn"),
        ({"head": "mdn", "mixtures": 0}, "model.mixtures=0: expected an integer >= 1"),
    ],
)
def test_bad_remedy_settings_are_one_line_errors(settings: dict[str, object], message: str) -> None:
    with pytest.raises(DeepdanceError, match=message) as err:
        _module(**settings)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_every_remedy_at_once_trains_validates_and_generates(tmp_path: Path) -> None:
    """experiment=deep_dance with the mixture head, a 2-step rollout loss, scheduled sampling,
    input noise, time-warped and mirrored windows: validation measures liveliness, test scores
    the sampled rollouts, and the checkpoint generates different dances from different seeds."""
    run_dir = tmp_path / "run"
    train_in_process(
        tiny_deep_dance(
            tmp_path,
            f"hydra.run.dir={run_dir}",
            lstm=(
                "model.rollout_horizons=[1,3]",
                "model.head=mdn",
                "model.mixtures=2",
                "model.rollout_loss_steps=2",
                "model.scheduled_sampling=0.5",
                "model.input_noise=0.1",
                "data.time_warp=[0.8,1.25]",
                "data.flip=true",
            ),
        )
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    names = ("val/liveliness_ratio", "val/next_mse", "test/liveliness3_ratio", "test/liveliness3_ratio_recon")
    for name in (*names, "test/liveliness3_ratio_ridge", "test/liveliness3_ratio_extrap"):
        assert math.isfinite(summary[name]), name
    # one liveliness per split: validation's few windows, test's every window
    assert "test/liveliness_ratio" not in summary
    from deepdance.generate import load_lstm

    module = load_lstm(Path(summary["best_ckpt"]))
    assert module.hparams.head == "mdn" and module.hparams.rollout_loss_steps == 2
    generator = DanceGenerator(module)
    seed = generator.seed_random(torch.Generator().manual_seed(0))
    dances = [
        generator.generate(seed, steps=4, generator=torch.Generator().manual_seed(s)).frames for s in (1, 2)
    ]
    assert dances[0].shape == dances[1].shape and not np.array_equal(*dances)


def test_clips_experiment_trains_the_lstm_with_the_recipe_chosen_on_validation() -> None:
    """experiment=deep_dance_clips: the LSTM stage gets the freeze study's selected candidate
    (report/select.txt), the autoencoder stage the original's; both read the clips."""
    cfg = compose_config("train", ["experiment=deep_dance_clips"])
    stages = {
        name: compose_config("train", [f"experiment={stage.experiment}", *stage.overrides])
        for name, stage in cfg.stages.items()
    }
    assert {stage.data.root for stage in stages.values()} == {cfg.data.root}
    assert cfg.data.root.endswith("shared/data/deep_dance")
    lstm, ae = stages["lstm"], stages["ae"]
    assert (lstm.data.flip, list(lstm.data.time_warp), lstm.data.phases) == (True, [0.8, 1.25], 4)
    assert lstm.trainer.limit_train_batches == 0.25
    assert (ae.data.phases, ae.data.time_warp, ae.trainer.get("limit_train_batches")) == (1, None, None)
    selected = (REPO / "experiments" / "deep_dance_freeze" / "report" / "select.txt").read_text()
    chosen = selected.splitlines()[0].removeprefix("selected: ").split(" (")[0].split()
    assert chosen[0] == "experiment=deep_dance_lstm" and chosen[1:] == list(cfg.stages.lstm.overrides[1:])
