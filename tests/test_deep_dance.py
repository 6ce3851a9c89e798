"""Deep-Dance models: autoencoder shapes, forecasters and baselines, generation, the two-stage run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder import SilhouetteAutoencoder
from deepdance.models.dance_generator import DanceGenerator, interpolate_latents
from deepdance.models.latent_lstm import LatentLSTM, RidgeForecaster, extrapolate, rollout
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.silhouette_metrics import frame_iou
from tests.helpers.models import tiny_lstm
from tests.helpers.runs import compose_config, run_generate, tiny_deep_dance, train_in_process


@pytest.mark.parametrize("height,width,pools", [(24, 40, 3), (32, 48, 2), (120, 200, 3)])
def test_autoencoder_shapes_at_any_size(height: int, width: int, pools: int) -> None:
    net = SilhouetteAutoencoder(height, width, latent_dim=12, channels=4, hidden=16, pools=pools)
    x = torch.rand(3, 1, height, width)
    z = net.encode(x)
    assert z.shape == (3, 12)
    y = net.decode(z)
    assert y.shape == x.shape and 0 <= float(y.min().detach()) and float(y.max().detach()) <= 1


def test_autoencoder_rejects_sizes_the_pools_cannot_halve() -> None:
    with pytest.raises(DeepdanceError, match="divisible by 8"):
        SilhouetteAutoencoder(60, 100)


def test_lstm_shapes_and_residual_start() -> None:
    z = torch.randn(4, 10, 8)
    lstm = LatentLSTM(8, hidden_sizes=(16, 12), dropout=0.0)
    assert lstm(z).shape == (4, 8) and [m.hidden_size for m in lstm.lstms] == [16, 12]
    assert rollout(lstm, z, 7).shape == (4, 7, 8)


def test_baselines_are_exact_where_they_should_be() -> None:
    t = torch.arange(10.0)[None, :, None] * torch.ones(1, 1, 3)  # a latent moving at constant speed
    assert torch.allclose(extrapolate(t), torch.full((1, 3), 10.0))
    torch.manual_seed(0)
    contexts = torch.randn(400, 4, 3)
    truth = torch.randn(12, 3)
    targets = contexts.flatten(1) @ truth + 0.5
    ridge = RidgeForecaster(4, 3, alpha=1e-6).fit(contexts, targets)
    assert torch.allclose(ridge(contexts), targets, atol=1e-3)


def test_iou_counts_empty_frames_as_perfect() -> None:
    empty = torch.zeros(1, 1, 4, 4)
    half = torch.zeros(1, 1, 4, 4)
    half[..., :2] = 1
    assert frame_iou(empty, empty).item() == 1.0
    assert frame_iou(half, empty).item() == 0.0
    assert frame_iou(half, half).item() == 1.0


def test_interpolation_keeps_keyframes_and_counts() -> None:
    keys = torch.tensor([[0.0], [10.0], [20.0]])
    smooth = interpolate_latents(keys, 5)
    assert smooth.shape == (11, 1) and smooth[::5, 0].tolist() == [0.0, 10.0, 20.0] and smooth[1, 0] == 2.0
    held = interpolate_latents(keys, 5, smooth=False)
    assert held[:5, 0].tolist() == [0.0] * 5


def _untrained_lstm() -> LatentLSTMModule:
    return tiny_lstm().eval()


def test_generation_from_both_seed_kinds(tmp_path: Path) -> None:
    from deepdance.data.synthetic import render_silhouettes
    from deepdance.data.video.writer import write_mp4

    generator = DanceGenerator(_untrained_lstm())
    video = write_mp4(tmp_path / "seed.mp4", render_silhouettes(12, height=48, width=80, fps=3.0), fps=3.0)
    seeds = {
        "video": generator.seed_from_video(video),
        "random": generator.seed_random(torch.Generator().manual_seed(0)),
    }
    for kind, seed in seeds.items():
        assert seed.shape == (4, 8), kind
        dance = generator.generate(seed, steps=3, fps=9)  # 3 output frames per LSTM step
        assert dance.frames.shape == ((4 + 3 - 1) * 3 + 1, 24, 40, 3) and dance.frames.dtype == np.uint8
        assert dance.first_generated == 10
        assert (dance.frames[:10, 0, 0] == [40, 90, 220]).all() and (
            dance.frames[10:, 0, 0] == [220, 30, 30]
        ).all()
    assert DanceGenerator.steps_for(50, 4, 3) == 14
    with pytest.raises(DeepdanceError, match="only 12 frames"):
        DanceGenerator(
            LatentLSTMModule.from_hparams({**_untrained_lstm().hparams, "look_back": 20})
        ).seed_from_video(video)


def test_generation_is_the_modules_own_rollout(monkeypatch: pytest.MonkeyPatch) -> None:
    """generate rolls out through ``LatentLSTMModule.rollout`` (no copy of its normalise ->
    sample -> denormalise step): the dance's generated keyframes are that rollout, decoded."""
    module = _untrained_lstm()
    calls = []
    own_rollout = module.rollout

    def spy(context: torch.Tensor, steps: int, *args: object) -> torch.Tensor:
        calls.append((tuple(context.shape), steps, args[-1]))
        return own_rollout(context, steps, *args)

    monkeypatch.setattr(module, "rollout", spy)
    generator = DanceGenerator(module)
    seed = generator.seed_random(torch.Generator().manual_seed(0))
    dance = generator.generate(seed, steps=3, noise=0.5, generator=torch.Generator().manual_seed(1))
    assert calls == [((1, 4, 8), 3, 0.5)]
    latents = own_rollout(seed[None], 3, None, torch.Generator().manual_seed(1), 0.5)[0]
    # (3, H, W) shown as black dancers on white, below the red bar
    expected = 1 - module.decode(latents)[:, 0]
    shown = torch.as_tensor(dance.frames[-3:, 4:, :, 0]).float() / 255
    assert torch.allclose(shown, expected[:, 4:], atol=0.5 / 255 + 1e-6)


@pytest.mark.slow
def test_two_stage_experiment_then_generate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """experiment=deep_dance on a tiny synthetic dance, then both generation modes from its best_ckpt
    (in-process, composed as the CLI composes them)."""
    import decord

    run_dir = tmp_path / "run"
    train_in_process(
        tiny_deep_dance(
            tmp_path,
            f"hydra.run.dir={run_dir}",
            "logger=tensorboard",
            ae=("callbacks.frame_strips.every_n_epochs=1",),
            lstm=(
                "callbacks.rollout_video.steps=3",
                "callbacks.rollout_video.every_n_epochs=1",
                # 3 fits the tiny test segment, 40 does not: liveliness still rolls out 40 steps
                "model.rollout_horizons=[1,3,40]",
            ),
        )
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    # the pipeline's own record beside its summary, and each stage's beside the stage's
    records = [
        json.loads((folder / "run_info.json").read_text())
        for folder in (run_dir, run_dir / "ae", run_dir / "lstm")
    ]
    assert len({record["git"]["commit"] for record in records}) == 1 and records[0]["git"]["commit"]
    assert [record["task_name"] for record in records] == ["deep_dance", "deep_dance_ae", "deep_dance_lstm"]
    for name in (
        "test/next_mse",
        "test/next_iou",
        "test/next_mse_repeat",
        "test/next_iou_repeat",
        "test/next_mse_extrap",
        "test/next_iou_extrap",
        "test/next_mse_ridge",
        "test/next_iou_ridge",
        "ae/test/iou",
        "ae/test/ssim",
        "test/rollout1_mse",
        "test/rollout1_mse_repeat",
        "test/rollout1_mse_ridge",
        "test/rollout1_mse_extrap",
    ):
        assert isinstance(summary.get(name), float), name
    # Liveliness over the longest horizon that fits: holding the last frame never moves, real
    # frames do, and each ratio is the source's motion over the real motion.
    assert "test/rollout40_mse" not in summary
    live = "test/liveliness40"
    assert summary[f"{live}_repeat"] == 0 and summary[f"{live}_ratio_repeat"] == 0
    assert summary[f"{live}_real"] > 0
    for suffix in ("", "_ridge", "_extrap", "_recon"):
        ratio = summary[f"{live}{suffix}"] / summary[f"{live}_real"]
        assert summary[f"{live}_ratio{suffix}"] == pytest.approx(ratio)
    ckpt = Path(summary["best_ckpt"])
    assert ckpt.is_file() and ckpt.parent.parent.name == "lstm"
    assert (run_dir / "lstm" / "rollouts" / "epoch_000.mp4").is_file()
    assert list((run_dir / "lstm" / "tensorboard").glob("events.*"))

    # The LSTM checkpoint alone generates: delete the autoencoder's first.
    for path in (run_dir / "ae" / "checkpoints").glob("*.ckpt"):
        path.unlink()
    seed_video = next((tmp_path / "data" / "silhouette_synthetic").glob("*.mp4"))
    out = tmp_path / "continued.mp4"
    capsys.readouterr()
    run_generate(
        compose_config(
            "generate",
            [
                f"ckpt_path={ckpt}",
                f"seed={seed_video}",
                "num_frames=53",
                "fps=15",
                f"out={out}",
                "gif=true",
                f"strip={tmp_path / 'strip.png'}",
                f"hydra.run.dir={tmp_path / 'gen'}",
            ],
        )
    )
    assert "frames/s" in capsys.readouterr().out
    reader = decord.VideoReader(str(out))
    assert len(reader) == 53 and reader[0].shape == (24, 40, 3)
    assert out.with_suffix(".gif").stat().st_size > 0 and (tmp_path / "strip.png").stat().st_size > 0

    from deepdance.generate import load_lstm  # the other seed kind, in process: same code path as the CLI

    generator = DanceGenerator(load_lstm(ckpt))
    dance = generator.generate(generator.seed_random(torch.Generator().manual_seed(1)), steps=5, fps=6)
    invented = generator.write(dance, tmp_path / "invented.mp4")
    assert len(decord.VideoReader(str(invented))) == len(dance.frames) == (10 + 5 - 1) * 2 + 1


def test_generate_names_a_wrong_checkpoint(tmp_path: Path) -> None:
    from deepdance.generate import load_lstm

    with pytest.raises(DeepdanceError, match="no such checkpoint"):
        load_lstm(tmp_path / "missing.ckpt")
    torch.save(
        {"deepdance": {"model_target": "deepdance.models.autoencoder_module.SilhouetteAEModule"}},
        tmp_path / "ae.ckpt",
    )
    with pytest.raises(DeepdanceError, match="not a latent LSTM or pose-space dance generator checkpoint"):
        load_lstm(tmp_path / "ae.ckpt")
