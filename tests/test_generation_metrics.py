"""Metrics for generated dances (deepdance.models.generation_metrics) on inputs whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from deepdance.errors import DeepdanceError
from deepdance.models.generation_metrics import (
    MIN_FRECHET_SAMPLES,
    GenerationScores,
    diversity,
    frame_changes,
    frechet_distance,
    genre_accuracy,
    liveliness,
    liveliness_ratio,
    novelty,
    score_generation,
    split_half_frechet,
)


def _exact_gaussian_sample(mean: np.ndarray, cov: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n points whose sample mean and (unbiased) sample covariance are exactly ``mean`` and ``cov``."""
    x = np.random.default_rng(seed).standard_normal((n, len(mean)))
    x -= x.mean(0)
    # whiten to a sample covariance of exactly I, then colour
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    return x @ np.linalg.cholesky(cov).T + mean


def _random_rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


def _dance(num_frames: int = 40, seed: int = 0) -> np.ndarray:
    """A rendered synthetic dance as (T, H, W) silhouettes in [0, 1], 1 = dancer."""
    from deepdance.data.synthetic import render_silhouettes

    return 1.0 - render_silhouettes(num_frames, height=48, width=80, fps=3.0, seed=seed) / 255.0


# --------------------------------------------------------------------- Fréchet distance


@pytest.mark.parametrize(("n", "d"), [(6, 32), (200, 8)], ids=["fewer-clips-than-features", "more"])
def test_frechet_of_identical_sets_is_zero(n: int, d: int) -> None:
    feats = torch.randn(n, d, generator=torch.Generator().manual_seed(n)) * 3 + 5
    assert frechet_distance(feats, feats.clone()) == pytest.approx(0.0, abs=1e-6)


def test_frechet_of_a_shifted_set_is_the_squared_shift() -> None:
    # same covariance (singular here: 8 clips of 32 features), means apart by v
    feats = np.random.default_rng(0).standard_normal((8, 32))
    shift = np.linspace(-1, 1, 32)
    assert frechet_distance(feats, feats + shift) == pytest.approx(float(shift @ shift), rel=1e-9)


def test_frechet_of_commuting_gaussians_matches_the_closed_form() -> None:
    # C_a = R diag(a) R^T and C_b = R diag(b) R^T: FD = |mu_a - mu_b|^2 + sum (sqrt a - sqrt b)^2
    d, rotation = 5, _random_rotation(5, seed=1)
    var_a, var_b = np.array([1.0, 2.0, 0.5, 4.0, 3.0]), np.array([2.0, 1.0, 0.5, 9.0, 0.25])
    mean_a, mean_b = np.zeros(d), np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    a = _exact_gaussian_sample(mean_a, rotation @ np.diag(var_a) @ rotation.T, 50, seed=2)
    b = _exact_gaussian_sample(mean_b, rotation @ np.diag(var_b) @ rotation.T, 70, seed=3)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_against_identity_covariance_matches_the_closed_form() -> None:
    # C_a = I: FD = |mu_a - mu_b|^2 + D + tr C_b - 2 tr C_b^1/2, for a C_b that does not commute trivially
    d = 6
    root = np.random.default_rng(4).standard_normal((d, d))
    cov_b = root @ root.T + 0.1 * np.eye(d)
    mean_b = np.full(d, 0.5)
    a = _exact_gaussian_sample(np.zeros(d), np.eye(d), 40, seed=5)
    b = _exact_gaussian_sample(mean_b, cov_b, 40, seed=6)
    expected = mean_b @ mean_b + d + np.trace(cov_b) - 2 * np.sqrt(np.linalg.eigvalsh(cov_b)).sum()
    assert frechet_distance(torch.from_numpy(a).float(), b) == pytest.approx(expected, rel=1e-5)


def test_frechet_matches_the_textbook_sqrtm_formula_on_full_rank_sets() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((300, 10)), 1.5 * rng.standard_normal((250, 10)) + 0.3
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(
        cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_is_nan_for_non_finite_features() -> None:
    feats = torch.randn(5, 3)
    feats[2, 1] = float("nan")
    assert np.isnan(frechet_distance(feats, torch.randn(5, 3)))


def test_split_half_frechet_is_the_distance_between_two_disjoint_halves() -> None:
    feats = torch.randn(41, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    floor = split_half_frechet(feats, seed=3)
    assert floor > 0 and floor == split_half_frechet(feats, seed=3)
    assert split_half_frechet(torch.ones(4, 3)) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------- liveliness


def test_frozen_rollout_has_liveliness_zero() -> None:
    pose = torch.from_numpy(_dance(1)).float()  # (1, H, W)
    frozen = pose.expand(30, -1, -1)
    assert liveliness(frozen) == 0.0
    assert liveliness(frozen[None, :, None]) == 0.0  # (B, T, 1, H, W)
    assert liveliness_ratio(frozen, _dance()) == 0.0


def test_white_noise_is_far_livelier_than_real_dance() -> None:
    real = _dance()
    noise = np.random.default_rng(0).random((4, 31, 48, 80))
    # |U - U'| of independent uniforms has mean 1/3
    assert liveliness(noise) == pytest.approx(1 / 3, abs=0.01)
    assert 0 < liveliness(real) < 0.1
    assert liveliness_ratio(noise, real) > 5
    assert liveliness_ratio(real, real) == pytest.approx(1.0)


def test_liveliness_per_step_and_over_a_horizon() -> None:
    # moves for 5 steps, then freezes: the curve shows where, the horizon decides what is averaged
    real = torch.from_numpy(_dance(6))
    rollout = torch.cat([real, real[-1:].expand(10, -1, -1)])  # 16 frames, 15 steps
    changes = frame_changes(rollout)
    assert changes.shape == (15,)
    assert (changes[:5] > 0).all() and (changes[5:] == 0).all()
    assert liveliness(rollout, horizon=5) == pytest.approx(float(changes[:5].mean()))
    assert liveliness(rollout) == pytest.approx(liveliness(rollout, horizon=5) / 3)
    assert frame_changes(rollout[None, :, None].expand(3, -1, -1, -1, -1)).shape == (3, 15)


def test_liveliness_of_one_known_step() -> None:
    frames = torch.zeros(2, 4, 5)
    frames[1, :2] = 1.0  # 10 of 20 pixels switch on
    assert liveliness(frames) == pytest.approx(0.5)


# --------------------------------------------------------------------- diversity and novelty


def test_identical_rollouts_have_diversity_zero() -> None:
    assert diversity(torch.randn(1, 16).expand(7, -1) * 1e3) == 0.0


def test_diversity_is_the_mean_pairwise_distance() -> None:
    # points 0, 1 and 3 on a line: pairs 1, 3 and 2 apart
    assert diversity(np.array([[0.0], [1.0], [3.0]])) == pytest.approx(2.0)


def test_copied_training_clip_has_novelty_zero() -> None:
    # large offsets and more than 25 rows, where a |a|^2 + |b|^2 - 2ab distance would not give 0
    training = torch.randn(40, 64, generator=torch.Generator().manual_seed(9)) * 10 + 1e3
    generated = torch.randn(30, 64, generator=torch.Generator().manual_seed(10)) * 10 + 1e3
    generated[[3, 17]] = training[[12, 5]]
    result = novelty(generated, training)
    assert result.distances.shape == (30,) and result.nearest.shape == (30,)
    assert result.distances[3] == 0.0 and result.distances[17] == 0.0
    assert result.nearest[3] == 12 and result.nearest[17] == 5
    assert (result.distances[[i for i in range(30) if i not in (3, 17)]] > 0).all()
    assert result.mean == pytest.approx(float(result.distances.mean()))
    assert novelty(training, training).mean == 0.0


def test_novelty_is_the_distance_to_the_nearest_training_clip() -> None:
    result = novelty(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[3.0, 4.0], [10.0, 1.0]]))
    assert result.distances.tolist() == [5.0, 1.0]
    assert result.nearest.tolist() == [0, 1]
    assert result.mean == 3.0


# --------------------------------------------------------------------- genre accuracy


def test_perfect_recognizer_has_genre_accuracy_one() -> None:
    requested = torch.tensor([0, 3, 9, 3, 1])
    logits = torch.nn.functional.one_hot(requested, 10).float() * 5 - 2
    assert genre_accuracy(logits, requested) == 1.0
    assert genre_accuracy(logits.softmax(1).numpy(), requested.numpy()) == 1.0


def test_genre_accuracy_counts_the_argmax_matches() -> None:
    requested = torch.tensor([0, 1, 2, 3])
    # predicts genre 1 for every clip: right once
    logits = torch.tensor([[0.0, 1.0, 0.0, 0.0]]).expand(4, -1)
    assert genre_accuracy(logits, requested) == 0.25


# --------------------------------------------------------------------- summary.json keys


def test_scores_become_flat_summary_keys_without_the_unmeasured() -> None:
    assert GenerationScores(fdd=1.5, genre_acc=1).summary() == {"gen/fdd": 1.5, "gen/genre_acc": 1.0}
    assert GenerationScores(novelty=0.0).summary(prefix="test/gen") == {"test/gen/novelty": 0.0}
    assert GenerationScores().summary() == {}


def test_score_generation_computes_every_metric_it_has_inputs_for() -> None:
    rng = np.random.default_rng(11)
    real_features, training = rng.standard_normal((20, 8)), rng.standard_normal((30, 8))
    real_frames = _dance(31)
    generated_frames = np.broadcast_to(real_frames[:1], (4, 31, 48, 80))  # frozen rollouts
    scores = score_generation(
        generated_features=training[:10],
        real_features=real_features,
        training_features=training,
        generated_frames=generated_frames,
        real_frames=real_frames,
        horizon=30,
        genre_scores=np.eye(3)[[0, 1, 2, 1]],
        requested_genres=np.array([0, 1, 2, 0]),
    ).summary()
    assert set(scores) == {
        f"gen/{name}"
        for name in (
            "fdd",
            "fdd_floor",
            "liveliness",
            "liveliness_real",
            "liveliness_ratio",
            "diversity",
            "diversity_real",
            "novelty",
            "genre_acc",
        )
    }
    assert scores["gen/novelty"] == 0.0  # the rollouts are training clips
    assert scores["gen/liveliness"] == 0.0 and scores["gen/liveliness_ratio"] == 0.0
    assert scores["gen/genre_acc"] == 0.75
    assert scores["gen/fdd"] == pytest.approx(frechet_distance(training[:10], real_features))
    assert score_generation(generated_frames=generated_frames).summary() == {"gen/liveliness": 0.0}


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: frechet_distance(torch.randn(10), torch.randn(10, 1)), "shape (N, D)"),
        (lambda: frechet_distance(torch.randn(1, 4), torch.randn(5, 4)), f"at least {MIN_FRECHET_SAMPLES}"),
        (lambda: frechet_distance(torch.randn(5, 4), torch.randn(5, 3)), "feature sizes differ"),
        (lambda: frechet_distance([[1.0, 2.0]] * 3, torch.randn(3, 2)), "numpy array"),
        (lambda: split_half_frechet(torch.randn(3, 2)), f"at least {2 * MIN_FRECHET_SAMPLES}"),
        (lambda: liveliness(torch.rand(1, 8, 8)), "T >= 2"),
        (lambda: liveliness(torch.rand(8, 8)), "(..., T, H, W)"),
        (lambda: liveliness(torch.rand(5, 8, 8) * 255), "[0, 1]"),
        (lambda: liveliness(torch.rand(5, 8, 8), horizon=5), "horizon must be in [1, 4]"),
        (lambda: liveliness_ratio(torch.rand(5, 8, 8), torch.zeros(5, 8, 8)), "never change"),
        (lambda: diversity(torch.randn(1, 4)), "at least 2"),
        (lambda: novelty(torch.randn(3, 4), torch.randn(3, 5)), "feature sizes differ"),
        (lambda: genre_accuracy(torch.randn(4), torch.zeros(4, dtype=torch.long)), "shape (N, C)"),
        (lambda: genre_accuracy(torch.randn(4, 3), torch.zeros(3, dtype=torch.long)), "4 integer genre"),
        (lambda: genre_accuracy(torch.randn(4, 3), torch.zeros(4)), "integer genre indices"),
        (lambda: genre_accuracy(torch.randn(2, 3), torch.tensor([0, 3])), "[0, 2]"),
        (lambda: score_generation(genre_scores=torch.randn(2, 3)), "give both"),
    ],
)
def test_bad_input_is_a_one_line_error(call, words: str) -> None:
    with pytest.raises(DeepdanceError) as info:
        call()
    message = str(info.value)
    assert words in message and "\n" not in message
