"""Metrics for generated dances, one definition shared by the training callback, ``deepdance.generate``
and the tests, so a rollout and its baselines are always scored by the same code.

One-step errors (``silhouette_metrics``) miss what a dance generator is asked first: does a long rollout
keep dancing, does it look like the training dance, is it varied, is it a copy, does it dance the genre
it was asked for. Each question has one function here:

* ``frechet_distance``: Gaussian fits of two sets of clip features (the recognizer's), compared as in
  FID/FVD; ``split_half_frechet`` is its real-vs-real floor;
* ``liveliness`` and ``liveliness_ratio``: mean absolute silhouette change per step, against real clips
  (a frozen rollout gives 0, one that dissolves into noise far above 1);
* ``diversity``: mean pairwise feature distance between rollouts;
* ``novelty``: each generated clip's distance to its nearest training clip (a copy gives 0);
* ``genre_accuracy``: how often the recognizer names the genre that was asked for;
* ``GenerationScores`` / ``score_generation``: all of them as flat ``summary.json`` keys (``gen/fdd``...).

Features are (N, D): one row per clip. Frames are (..., T, H, W) or (..., T, 1, H, W) in [0, 1],
1 = dancer. Tensors or numpy arrays are accepted; everything is computed in float64 on the CPU, since
these run once per validation on a few hundred clips, and precision is what makes a copy score 0.
A shape that cannot be meant is a ``DeepdanceError`` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numpy as np
import torch

from deepdance.errors import DeepdanceError

ArrayLike = torch.Tensor | np.ndarray

# Fewest clips per set for a Fréchet distance: a covariance needs two samples. Few samples bias the
# distance upwards (the sample covariances are noisy), so compare distances computed at equal counts.
MIN_FRECHET_SAMPLES = 2


def _cpu_tensor(x: ArrayLike, name: str) -> torch.Tensor:
    """``x`` as a CPU tensor; a numpy array is copied (a read-only view, such as a broadcast
    rollout, would otherwise make torch warn)."""
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.array(x))
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    raise DeepdanceError(f"{name}: expected a torch.Tensor or numpy array, got {type(x).__name__}")


def _as_float64(x: ArrayLike, name: str) -> torch.Tensor:
    """``x`` as a float64 CPU tensor."""
    return _cpu_tensor(x, name).to(torch.float64)


def _features(x: ArrayLike, name: str, min_rows: int = 1) -> torch.Tensor:
    """Checked (N, D) features with N >= ``min_rows``, as float64."""
    feats = _as_float64(x, name)
    if feats.ndim != 2:
        raise DeepdanceError(f"{name}: expected features of shape (N, D), got {tuple(feats.shape)}")
    if feats.shape[0] < min_rows or feats.shape[1] < 1:
        raise DeepdanceError(
            f"{name}: needs at least {min_rows} clip(s) of at least 1 feature, got {tuple(feats.shape)}"
        )
    return feats


# --------------------------------------------------------------------- Fréchet distance


def _covariance_factor(feats: torch.Tensor) -> torch.Tensor:
    """A (D, k) matrix F with F F^T = the sample covariance of (N, D) ``feats``, k = min(N, D).

    With N <= D the centred data themselves are such a factor, exact and free; otherwise the
    symmetric square root of the (D, D) covariance is, from its eigen-decomposition (rounding can
    make tiny eigenvalues negative: they are set to 0).
    """
    n, d = feats.shape
    centred = (feats - feats.mean(0)) / math.sqrt(n - 1)
    if n <= d:
        return centred.T
    values, vectors = torch.linalg.eigh(centred.T @ centred)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to two sets of (N, D) feature vectors (Na, Nb may differ).

    ``|mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a^1/2 C_b C_a^1/2)^1/2)`` with unbiased sample
    covariances: the FID/FVD recipe. On the recognizer's clip features it is the Fréchet Dance Distance.

    Why not ``scipy.linalg.sqrtm(C_a @ C_b)``: the product is not symmetric, its square root comes back
    complex with rounding noise, and with fewer clips than features (the usual case here) both
    covariances are singular. Instead, with factors C_a = F_a F_a^T and C_b = F_b F_b^T, the eigenvalues
    of C_a C_b are the squared singular values of F_a^T F_b, so the trace term is the sum of those
    singular values: an SVD, stable, real, and exactly tr(C_a) for identical sets (up to rounding).

    Needs at least ``MIN_FRECHET_SAMPLES`` clips per set. Non-finite features (a diverged generator)
    give nan rather than an exception, so that a training callback can log them.
    """
    a = _features(features_a, "frechet_distance features_a", MIN_FRECHET_SAMPLES)
    b = _features(features_b, "frechet_distance features_b", MIN_FRECHET_SAMPLES)
    if a.shape[1] != b.shape[1]:
        raise DeepdanceError(
            f"frechet_distance: feature sizes differ, {a.shape[1]} (features_a) vs {b.shape[1]} (features_b)"
        )
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return float("nan")
    mean_term = (a.mean(0) - b.mean(0)).square().sum()
    fa, fb = _covariance_factor(a), _covariance_factor(b)
    # tr(C) = |F|_F^2 for any factor F of C
    trace_a, trace_b = fa.square().sum(), fb.square().sum()
    cross = torch.linalg.svdvals(fa.T @ fb).sum()
    # rounding can take identical sets a hair below 0
    return max(float(mean_term + trace_a + trace_b - 2 * cross), 0.0)


def split_half_frechet(features: ArrayLike, seed: int = 0) -> float:
    """Fréchet distance between two disjoint random halves of one set of (N, D) features.

    The floor for ``frechet_distance(generated, real)``: what sampling noise alone gives between two
    sets of real clips. Each half has N // 2 clips, fewer than the generated-vs-real comparison has,
    so the floor is a little high; ``seed`` fixes the split.
    """
    feats = _features(features, "split_half_frechet features", 2 * MIN_FRECHET_SAMPLES)
    order = torch.randperm(len(feats), generator=torch.Generator().manual_seed(seed))
    half = len(feats) // 2
    return frechet_distance(feats[order[:half]], feats[order[half : 2 * half]])


# --------------------------------------------------------------------- liveliness


def _frames(x: ArrayLike, name: str) -> torch.Tensor:
    """Checked silhouette frames as (..., T, H, W) float64, with T >= 2 and values in [0, 1]."""
    frames = _as_float64(x, name)
    # a size-1 axis before (H, W) is the channel of (..., T, 1, H, W)
    if frames.ndim >= 4 and frames.shape[-3] == 1:
        frames = frames.squeeze(-3)
    if frames.ndim < 3 or frames.shape[-3] < 2:
        raise DeepdanceError(
            f"{name}: expected frames of shape (..., T, H, W) or (..., T, 1, H, W) with T >= 2, "
            f"got {tuple(x.shape)}"
        )
    if frames.numel() and (frames.min() < 0 or frames.max() > 1):
        raise DeepdanceError(
            f"{name}: frame values must lie in [0, 1] (silhouettes, 1 = dancer), "
            f"got [{float(frames.min()):.3g}, {float(frames.max()):.3g}]"
        )
    return frames


def frame_changes(frames: ArrayLike) -> torch.Tensor:
    """Mean absolute change of each step, (..., T, H, W) or (..., T, 1, H, W) -> (..., T - 1).

    Entry t is the pixel mean of |x[t + 1] - x[t]|: the curve that shows when a rollout freezes.
    """
    x = _frames(frames, "frame_changes frames")
    return (x[..., 1:, :, :] - x[..., :-1, :, :]).abs().mean(dim=(-2, -1))


def liveliness(frames: ArrayLike, horizon: int | None = None) -> float:
    """Mean absolute silhouette change per step over the first ``horizon`` steps (all with None).

    Averaged over every leading axis (rollouts) too. A frozen rollout gives 0; frames of
    independent uniform noise give 1/3, far above real dance (a few hundredths per step at 3 fps).
    For a rollout, pass its frames from the last seed frame on, so that step 1 is the first
    generated change; ``horizon`` must fit in the T - 1 steps given.
    """
    changes = frame_changes(frames)
    steps = changes.shape[-1]
    if horizon is not None:
        if not 1 <= horizon <= steps:
            raise DeepdanceError(f"liveliness: horizon must be in [1, {steps}] (T - 1 steps), got {horizon}")
        changes = changes[..., :horizon]
    return float(changes.mean())


def liveliness_ratio(generated: ArrayLike, real: ArrayLike, horizon: int | None = None) -> float:
    """``liveliness(generated, horizon) / liveliness(real)``: the share of real motion a rollout keeps.

    1 moves as much as real dance; 0 is frozen; far above 1 has dissolved into flicker. ``horizon``
    applies to the rollouts only: real motion per step does not depend on it, so the real clips
    (same frame rate and size) are averaged over all their steps. Still real clips are an error.
    """
    real_motion = liveliness(real)
    if real_motion == 0:
        raise DeepdanceError("liveliness_ratio: the real frames never change, so no ratio to them exists")
    return liveliness(generated, horizon) / real_motion


# --------------------------------------------------------------------- diversity and novelty


def diversity(features: ArrayLike) -> float:
    """Mean Euclidean distance over all pairs of (N, D) rollout features, N >= 2.

    Rollouts from different seeds that end in the same dance score near 0 (mode collapse); compare
    with the same number computed on real clips.
    """
    feats = _features(features, "diversity features", min_rows=2)
    # pdist measures each pair directly (no |a|^2 + |b|^2 - 2ab), so equal rows give exactly 0
    return float(torch.pdist(feats).mean())


class Novelty(NamedTuple):
    """Each generated clip's distance to its nearest training clip, which one that is, and the mean."""

    distances: torch.Tensor  # (N,) float64
    nearest: torch.Tensor  # (N,) long: row of the training features
    mean: float


def novelty(generated_features: ArrayLike, training_features: ArrayLike) -> Novelty:
    """Distance from each (N, D) generated clip to its nearest of the (M, D) training clips.

    A generator that replays a training clip scores 0 on it, which one-step errors and the Fréchet
    distance would both reward; ``nearest`` names the clip it copies.
    """
    gen = _features(generated_features, "novelty generated_features")
    train = _features(training_features, "novelty training_features")
    if gen.shape[1] != train.shape[1]:
        raise DeepdanceError(
            f"novelty: feature sizes differ, {gen.shape[1]} (generated) vs {train.shape[1]} (training)"
        )
    # the direct difference, not the matrix-product shortcut, so that a copy is exactly 0
    distances = torch.cdist(gen, train, compute_mode="donot_use_mm_for_euclid_dist")
    nearest_distance, nearest = distances.min(dim=1)
    return Novelty(nearest_distance, nearest, float(nearest_distance.mean()))


# --------------------------------------------------------------------- genre accuracy


def genre_accuracy(logits_or_probs: ArrayLike, requested_genres: ArrayLike) -> float:
    """Fraction of (N, C) recognizer outputs whose argmax is the (N,) requested genre index.

    Logits and probabilities give the same answer (softmax keeps the order). It grades a
    genre-conditioned generator by the recognizer: a rollout that dances the genre asked for is
    recognised as it.
    """
    scores = _cpu_tensor(logits_or_probs, "genre_accuracy logits_or_probs")
    genres = _cpu_tensor(requested_genres, "genre_accuracy requested_genres")
    if scores.ndim != 2 or scores.shape[0] < 1:
        raise DeepdanceError(
            f"genre_accuracy: expected logits or probabilities of shape (N, C), got {tuple(scores.shape)}"
        )
    integer = not (genres.is_floating_point() or genres.is_complex() or genres.dtype == torch.bool)
    if genres.shape != scores.shape[:1] or not integer:
        raise DeepdanceError(
            f"genre_accuracy: expected {scores.shape[0]} integer genre indices, "
            f"got {genres.dtype} of shape {tuple(genres.shape)}"
        )
    if genres.min() < 0 or genres.max() >= scores.shape[1]:
        raise DeepdanceError(
            f"genre_accuracy: requested genres must lie in [0, {scores.shape[1] - 1}], "
            f"got [{int(genres.min())}, {int(genres.max())}]"
        )
    return float((scores.argmax(dim=1) == genres).double().mean())


# --------------------------------------------------------------------- summary.json keys


@dataclasses.dataclass(frozen=True)
class GenerationScores:
    """The generation metrics of one run; ``summary()`` gives them as flat ``summary.json`` keys.

    A metric that was not computed (None) is left out of the summary rather than written as nan,
    so that a study's report tells "not measured" from "diverged". Keys, with ``prefix="gen"``:

    * ``gen/fdd``: Fréchet Dance Distance, generated vs real held-out clips (lower is better);
    * ``gen/fdd_floor``: the same between two halves of the real clips (what noise alone gives);
    * ``gen/liveliness``, ``gen/liveliness_real``, ``gen/liveliness_ratio``: motion per step of the
      rollouts over the horizon, of real clips, and their ratio (1 is real motion, 0 frozen);
    * ``gen/diversity``, ``gen/diversity_real``: mean pairwise feature distance of rollouts and of
      real clips;
    * ``gen/novelty``: mean distance of a rollout to its nearest training clip (0 is a copy);
    * ``gen/genre_acc``: recognizer accuracy on rollouts against the genre asked for.
    """

    fdd: float | None = None
    fdd_floor: float | None = None
    liveliness: float | None = None
    liveliness_real: float | None = None
    liveliness_ratio: float | None = None
    diversity: float | None = None
    diversity_real: float | None = None
    novelty: float | None = None
    genre_acc: float | None = None

    def summary(self, prefix: str = "gen") -> dict[str, float]:
        """The computed metrics as ``{f"{prefix}/{name}": value}``, in field order."""
        return {
            f"{prefix}/{field.name}": float(value)
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }


def score_generation(
    *,
    generated_features: ArrayLike | None = None,
    real_features: ArrayLike | None = None,
    training_features: ArrayLike | None = None,
    generated_frames: ArrayLike | None = None,
    real_frames: ArrayLike | None = None,
    horizon: int | None = None,
    genre_scores: ArrayLike | None = None,
    requested_genres: ArrayLike | None = None,
    seed: int = 0,
) -> GenerationScores:
    """Every metric whose inputs are given, in one call (the others stay None).

    ``generated_features`` (N, D) are the recognizer's features of the rollouts, ``real_features``
    (M, D) those of real held-out clips, ``training_features`` (K, D) those of training clips;
    ``generated_frames`` / ``real_frames`` are (..., T, H, W) silhouettes, the rollouts' scored over
    their first ``horizon`` steps; ``genre_scores`` (N, C) are the recognizer's outputs on
    conditioned rollouts asked for ``requested_genres`` (N,). ``seed`` splits the real clips for the
    Fréchet floor, which needs at least ``2 * MIN_FRECHET_SAMPLES`` of them.
    """
    scores: dict[str, float] = {}
    if generated_features is not None:
        scores["diversity"] = diversity(generated_features)
        if real_features is not None:
            scores["fdd"] = frechet_distance(generated_features, real_features)
        if training_features is not None:
            scores["novelty"] = novelty(generated_features, training_features).mean
    if real_features is not None:
        scores["diversity_real"] = diversity(real_features)
        if len(real_features) >= 2 * MIN_FRECHET_SAMPLES:
            scores["fdd_floor"] = split_half_frechet(real_features, seed=seed)
    if generated_frames is not None:
        scores["liveliness"] = liveliness(generated_frames, horizon)
    if real_frames is not None:
        scores["liveliness_real"] = liveliness(real_frames)
        if generated_frames is not None:
            scores["liveliness_ratio"] = liveliness_ratio(generated_frames, real_frames, horizon)
    if (genre_scores is None) != (requested_genres is None):
        raise DeepdanceError("score_generation: genre_scores and requested_genres go together; give both")
    if genre_scores is not None:
        scores["genre_acc"] = genre_accuracy(genre_scores, requested_genres)
    return GenerationScores(**scores)
