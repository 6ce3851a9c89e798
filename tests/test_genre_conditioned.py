"""The genre-conditioned latent LSTM (model.condition=genre): the genre steers every step, the
windows carry their video's genre, the ridge baseline and rollouts use it, ``generate genre=``
asks for one, refusals are one line, and an unconditioned checkpoint generates as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.data.aist import GENRES
from deepdance.data.silhouette import SilhouetteDataModule
from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset
from deepdance.errors import DeepdanceError
from deepdance.models.latent_lstm import LatentLSTM, RidgeForecaster, rollout
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.rollout_training import RolloutTraining
from tests.helpers.models import tiny_lstm
from tests.helpers.runs import compose_config, run_generate, tiny_deep_dance, train_in_process
from tests.test_legacy_checkpoints import LSTM_CKPT
from tests.test_silhouette_dancers import LABELLED

# The legacy LSTM's first 4 latent dimensions over 4 steps from seed_random(manual_seed(0)), at 1ac3bc7.
MAIN_LATENTS = [
    [-0.30876123905181885, 0.18829390406608582, -0.19047069549560547, -0.22780509293079376],
    [-0.3023052513599396, 0.1785259246826172, -0.18276135623455048, -0.23555564880371094],
    [-0.2986779510974884, 0.1684701144695282, -0.17405465245246887, -0.24322548508644104],
    [-0.2968558371067047, 0.15878930687904358, -0.16431079804897308, -0.2506336569786072],
]
# 10 genres x 3 dancers, 2 s at 10 fps, read at 5 fps: 10 frames a video.
DATA = {"fps": 5.0, "height": 24, "width": 40}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labelled_dancers")
    return ensure_synthetic_dataset(root, SyntheticConfig(**LABELLED), workers=1)


def _module(condition: str | None = "genre") -> LatentLSTMModule:
    """An untrained tiny LSTM over 24x40 frames at 5 fps, look_back 4."""
    return tiny_lstm(fps=5.0, condition=condition).eval()


# ---------------------------------------------------------------------------- the models


def test_genre_changes_the_next_latent_and_the_residual_start_stays() -> None:
    torch.manual_seed(0)
    lstm = LatentLSTM(8, hidden_sizes=(16,), dropout=0.0, num_genres=len(GENRES)).eval()
    z = torch.randn(1, 6, 8).expand(2, -1, -1)
    # the same context, two genres: two different next latents
    out = lstm(z, torch.tensor([GENRES.index("KR"), GENRES.index("BR")]))
    assert out.shape == (2, 8) and not torch.allclose(out[0], out[1], atol=1e-4)
    # the genre reaches every step of a rollout
    kr, br = (rollout(lambda w, g=g: lstm(w, torch.tensor([g])), z[:1], 4) for g in (7, 0))
    assert (kr - br).abs().amax(dim=-1).min() > 1e-5
    # A head that outputs nothing leaves the last latent: the residual start is the repeat baseline.
    torch.nn.init.zeros_(lstm.head.weight)
    torch.nn.init.zeros_(lstm.head.bias)
    assert torch.equal(lstm(z, torch.tensor([3, 9])), z[:, -1])
    with pytest.raises(DeepdanceError, match="needs each window's genre"):
        lstm(z)
    with pytest.raises(DeepdanceError, match="takes no genre"):
        LatentLSTM(8, hidden_sizes=(16,))(z, torch.tensor([0, 1]))


def test_conditioned_ridge_learns_a_genre_offset() -> None:
    torch.manual_seed(0)
    contexts = torch.randn(600, 3, 2)
    genre = torch.randint(0, 4, (600,))
    offsets = torch.randn(4, 2) * 3
    targets = contexts.flatten(1) @ torch.randn(6, 2) + offsets[genre]
    ridge = RidgeForecaster(3, 2, alpha=1e-6, num_genres=4).fit(contexts, targets, genre)
    assert torch.allclose(ridge(contexts, genre), targets, atol=1e-3)


def test_context_dropout_keeps_a_real_suffix_and_draws_the_rest_from_the_prior() -> None:
    # real latents of 100 stand apart from prior draws (standard normal)
    window = torch.full((600, 5, 3), 100.0)
    assert RolloutTraining().drop_context(window) is window
    torch.manual_seed(0)
    dropped = RolloutTraining(context_dropout=1.0).drop_context(window)
    real = (dropped == 100.0).all(-1)  # (B, L)
    suffix = real.sum(1)
    # every row: prior draws first, then a real suffix of 0..L-1 latents, each length drawn
    assert torch.equal(real, torch.arange(5)[None] >= 5 - suffix[:, None])
    assert set(suffix.tolist()) == {0, 1, 2, 3, 4} and (dropped[~real].abs() < 10).all()
    half = RolloutTraining(context_dropout=0.5).drop_context(window)
    untouched = (half == 100.0).all(-1).all(-1).float().mean()
    assert 0.4 < untouched < 0.6
    # the schema checks the setting once, before anything is built
    with pytest.raises(DeepdanceError, match=r"model.context_dropout=1.5: expected a number in \[0, 1\]"):
        tiny_lstm(condition="genre", context_dropout=1.5)


def test_context_dropout_teaches_the_genre_to_steer_from_a_random_seed() -> None:
    """Two genres, each holding its own latent: trained with context dropout, the LSTM answers
    a context of prior draws with the requested genre's latent, as generation from random seeds
    needs; trained without it, it has never read such a context."""
    torch.manual_seed(0)
    genre = torch.randint(0, 2, (256,))
    level = torch.tensor([-1.5, 1.5])[genre]
    z = level[:, None, None] + 0.05 * torch.randn(256, 5, 4)  # (B, L + 1, D)
    noise_context = torch.randn(64, 4, 4)

    def trained(context_dropout: float) -> LatentLSTM:
        torch.manual_seed(1)
        net = LatentLSTM(4, hidden_sizes=(16,), dropout=0.0, num_genres=2)
        training = RolloutTraining(context_dropout=context_dropout)
        optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
        for _ in range(300):
            optimizer.zero_grad()
            training.loss(net, z, genre).backward()
            optimizer.step()
        return net.eval()

    def error_from_noise(net: LatentLSTM) -> float:
        with torch.no_grad():
            asked = ((0, -1.5), (1, 1.5))
            errors = [(net(noise_context, torch.full((64,), g)) - level).abs().mean() for g, level in asked]
        return float(sum(errors) / 2)

    steered, plain = error_from_noise(trained(1.0)), error_from_noise(trained(0.0))
    assert steered < 0.3 and steered < plain / 2, (steered, plain)


def test_conditioned_module_stores_its_genres_as_plain_data() -> None:
    torch.manual_seed(0)
    module = _module()
    context = torch.randn(1, 4, 8)
    kr = module(context, torch.tensor([GENRES.index("KR")]))
    ho = module(context, torch.tensor([GENRES.index("HO")]))
    assert not torch.allclose(kr, ho, atol=1e-5)
    assert module.hparams.condition == "genre" and module.hparams.genres == list(GENRES)
    assert type(module.hparams.genres[0]) is str
    assert "genre_condition.trained" in module.state_dict()
    # Unconditioned: no class list and no state-dict keys about genres.
    plain = _module(condition=None)
    assert plain.hparams.condition is None and "genres" not in plain.hparams
    assert not any("genre" in key for key in plain.state_dict())
    assert plain.genre_class(None) is None
    with pytest.raises(DeepdanceError, match="model.condition='style': expected one of genre or null"):
        _module(condition="style")


# ---------------------------------------------------------------------------- the data


def test_windows_carry_their_videos_genre(labelled: Path, tmp_path: Path) -> None:
    dm = SilhouetteDataModule.from_config(
        {"root": str(labelled), "cache_dir": str(tmp_path), "split": "dancer", "context_frames": 4, **DATA}
    )
    sequences = dm.sequences()
    assert sequences.genres == [path.name[1:3] for path in dm.paths]
    for split in ("train", "test"):
        dataset = dm.datasets[split]
        for i in range(0, len(dataset), 7):
            item = dataset[i]
            assert item["genre"] == GENRES.index(dm.paths[item["video"]].name[1:3])
    module = _module()
    module.use_sequences(sequences, fit=True)
    # every genre has train dancers, so every genre can be asked for
    assert module.genre_condition.trained_names() == list(GENRES)


def test_a_video_without_a_genre_stops_a_conditioned_model(labelled: Path, tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for source in sorted(labelled.glob("gKR_*.mp4"))[:1]:
        (folder / source.name).write_bytes(source.read_bytes())
        (folder / "my_dance.mp4").write_bytes(source.read_bytes())
    dm = SilhouetteDataModule.from_config(
        {"root": str(folder), "cache_dir": str(tmp_path / "cache"), "context_frames": 4, **DATA}
    )
    sequences = dm.sequences()
    assert sequences.genres == ["KR", None]
    assert {dm.datasets["train"][i]["genre"] for i in range(len(dm.datasets["train"]))} == {
        GENRES.index("KR"),
        -1,
    }
    # the unconditioned model reads the unlabelled clip as before
    _module(condition=None).use_sequences(sequences, fit=True)
    with pytest.raises(DeepdanceError) as err:
        _module().use_sequences(sequences, fit=True)
    message = str(err.value)
    assert "\n" not in message and "my_dance.mp4" in message and "model.condition=genre" in message


# ---------------------------------------------------------------------------- generation


def _generate(ckpt: Path, out: Path, *extra: str) -> dict:
    overrides = [f"ckpt_path={ckpt}", f"out={out}", f"hydra.run.dir={out.parent / 'gen'}"]
    return run_generate(compose_config("generate", [*overrides, *extra]))[0]


def _refused(capsys: pytest.CaptureFixture, ckpt: Path, out: Path, *extra: str) -> str:
    """The one-line message of a generate run that stops as a user error (exit code 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        _generate(ckpt, out, "seed=random", "steps=3", *extra)
    assert stopped.value.code == 2 and not out.exists()
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    return errors[0]


def test_unconditioned_checkpoint_generates_unchanged_and_refuses_a_genre(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The legacy LSTM's random-seed dance as main made it before conditioning (recorded at
    1ac3bc7: the first four latent dimensions of its four generated steps, and the sum of its 14
    RGB frames), and ``genre=`` refused in one line."""
    stats = _generate(LSTM_CKPT, tmp_path / "plain.mp4", "seed=random", "fps=3", "steps=4")
    assert stats["frames"] == 14 and stats["genre"] is None

    from deepdance.generate import load_lstm
    from deepdance.models.dance_generator import DanceGenerator

    generator = DanceGenerator(load_lstm(LSTM_CKPT))
    rng = torch.Generator().manual_seed(0)
    seed = generator.seed_random(rng)
    dance = generator.generate(seed, steps=4, fps=3, generator=rng)
    # the frames' sum: a tolerance only for a decoder pixel rounding the other way elsewhere
    assert int(dance.frames.astype(np.int64).sum()) == pytest.approx(6121356, rel=1e-4)
    module = generator.module
    with torch.no_grad():
        latents = module.denormalize(rollout(module.lstm, module.normalize(seed)[None], 4)[0])
    torch.testing.assert_close(latents[:, :4], torch.tensor(MAIN_LATENTS), atol=1e-5, rtol=0)
    message = _refused(capsys, LSTM_CKPT, tmp_path / "kr.mp4", "genre=KR")
    assert "genre=KR" in message and "not genre-conditioned" in message and "accepts no genre" in message


@pytest.mark.slow
def test_conditioned_two_stage_run_then_generate_a_genre(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """experiment=deep_dance on three genres of the labelled dancers, held out by dancer, the
    LSTM stage conditioned on genre; then generate in a genre from random latents and from a
    video. The genres the data held are the ones accepted."""
    import decord

    from deepdance.generate import load_lstm

    three = tmp_path / "three_genres"
    three.mkdir()
    for source in (path for genre in ("BR", "HO", "KR") for path in labelled.glob(f"g{genre}_*.mp4")):
        (three / source.name).write_bytes(source.read_bytes())
    assert len(list(three.iterdir())) == 9
    run_dir = tmp_path / "run"
    train_in_process(
        tiny_deep_dance(
            tmp_path,
            f"data.root={three}",
            "data.split=dancer",
            "data.fps=5",
            f"hydra.run.dir={run_dir}",
            "logger=csv",
            lstm=(
                "model.condition=genre",
                "model.look_back=4",
                "model.rollout_horizons=[1,3]",
                "callbacks.rollout_video.steps=3",
                "callbacks.rollout_video.every_n_epochs=1",
            ),
        )
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    # the conditioned LSTM and ridge, rolled out in each test video's genre, beside the baselines
    for name in ("test/next_mse", "test/next_mse_ridge", "test/rollout3_mse", "test/rollout3_mse_ridge"):
        assert np.isfinite(summary[name]), name
    assert (run_dir / "lstm" / "rollouts" / "epoch_000.mp4").is_file()
    ckpt = Path(summary["best_ckpt"])
    module = load_lstm(ckpt)
    # the class list is the ten AIST++ genres; the three the data held are the ones learned
    assert module.hparams.genres == list(GENRES)
    assert module.genre_condition.trained_names() == ["BR", "HO", "KR"]

    stats = _generate(ckpt, tmp_path / "krump.mp4", "seed=random", "steps=3", "genre=KR", "fps=5")
    assert stats["genre"] == "KR" and len(decord.VideoReader(str(tmp_path / "krump.mp4"))) == stats["frames"]
    seed_video = sorted(labelled.glob("gHO_*.mp4"))[0]
    stats = _generate(ckpt, tmp_path / "ho_as_br.mp4", f"seed={seed_video}", "steps=3", "genre=BR", "fps=5")
    assert len(decord.VideoReader(str(tmp_path / "ho_as_br.mp4"))) == stats["frames"] == 4 + 3

    # A different genre from the same seed is a different dance.
    from deepdance.models.dance_generator import DanceGenerator

    generator = DanceGenerator(module)
    seed = generator.seed_random(torch.Generator().manual_seed(0))
    frames = {g: generator.generate(seed, steps=3, genre=g).frames for g in ("KR", "BR")}
    assert not np.array_equal(frames["KR"], frames["BR"])

    for genre in ("XX", "WA"):
        message = _refused(capsys, ckpt, tmp_path / "refused.mp4", f"genre={genre}")
        assert f"genre={genre} is not a genre this checkpoint learned; accepted: BR, HO, KR" in message
    message = _refused(capsys, ckpt, tmp_path / "none.mp4")
    assert "genre-conditioned: give genre=, one of BR, HO, KR" in message
