"""The field's motion metrics on joint windows, and deepdance's own, scored by one function.

* ``motion_fid``: FID_k / FID_g, the Fréchet distance between Gaussians fitted to the kinetic
  or geometric features of generated and real 4 s windows. As Bailando does, every feature is
  first standardised by the *real* set's mean and (population) standard deviation; a feature
  that never varies in the real set is only centred (Bailando's ``std + 1e-10`` would blow it up
  by 1e10). No covariance shrinkage: the unbiased sample covariances, with the exact
  factor-and-SVD form of ``generation_metrics.frechet_distance``, which needs no ridge even when
  N is below the 51 or 26 features (Bailando adds 1e-5 to the diagonal only when scipy's
  ``sqrtm`` fails). Few windows bias the distance upwards, so every score carries its N.
* ``real_floor``: the same distance between two disjoint halves of the real windows, whole
  sequences to one side when their groups are given: what sampling alone gives.
* ``motion_diversity``: Div_k / Div_g, the mean pairwise Euclidean distance between windows'
  standardised features (Bailando's ``calculate_avg_distance``).
* ``joint_speed`` / ``liveliness_ratio``: mean joint speed of rollouts over a horizon in seconds,
  as a share of real motion's (frozen 0, a copy 1, jitter far above 1).
* ``foot_skating``: horizontal ankle speed while the ankle is on the floor.
* ``window_novelty``: root-mean-square joint distance from each generated window to its nearest
  training window (a copy gives 0).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.metrics.motion.geometric import geometric_features
from deepdance.metrics.motion.joints import (
    WINDOW_SECONDS,
    as_windows,
    body_scale,
    check_fps,
    cut_windows,
    height,
    horizontal,
    up_axis,
)
from deepdance.metrics.motion.kinetic import kinetic_features
from deepdance.models.generation_metrics import (
    MIN_FRECHET_SAMPLES,
    Novelty,
    diversity,
    frechet_distance,
    novelty,
    split_half_frechet,
)
from deepdance.pose.skeleton import JOINT

# A real feature whose standard deviation is at most this is centred, not scaled.
STD_FLOOR = 1e-8
# An ankle within this many torso lengths of the window's lowest ankle is on the floor.
CONTACT_HEIGHT = 0.1
# The shortest horizon liveliness is reported over, as issue 22 asks.
MIN_HORIZON_SECONDS = 4.0
ANKLES = (JOINT["left_ankle"], JOINT["right_ankle"])


# --------------------------------------------------------------------- standardised features


class Standardiser(NamedTuple):
    """The real set's per-feature mean and standard deviation (1 where it does not vary)."""

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, dtype=np.float64) - self.mean) / self.std


def _feature_rows(x: np.ndarray, name: str, min_rows: int = 1) -> np.ndarray:
    """Checked (N, F) features as float64."""
    feats = np.asarray(x, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < min_rows or feats.shape[1] < 1:
        raise DeepdanceError(
            f"{name}: expected (N, F) features with N >= {min_rows} windows, got {tuple(feats.shape)}"
        )
    return feats


def real_standardiser(real_features: np.ndarray) -> Standardiser:
    """Bailando's ``normalize``: the real windows' mean and population standard deviation."""
    real = _feature_rows(real_features, "real_standardiser real_features")
    std = real.std(axis=0)
    return Standardiser(real.mean(axis=0), np.where(std > STD_FLOOR, std, 1.0))


class FrechetScore(NamedTuple):
    """A Fréchet distance and the windows on each side (report N beside it)."""

    value: float
    n_generated: int
    n_real: int


def motion_fid(generated_features: np.ndarray, real_features: np.ndarray) -> FrechetScore:
    """FID_k or FID_g: Fréchet distance of (N, F) generated to (M, F) real window features,
    both standardised by the real set (no shrinkage; see the module docstring)."""
    gen = _feature_rows(generated_features, "motion_fid generated_features", MIN_FRECHET_SAMPLES)
    real = _feature_rows(real_features, "motion_fid real_features", MIN_FRECHET_SAMPLES)
    standardise = real_standardiser(real)
    return FrechetScore(frechet_distance(standardise(gen), standardise(real)), len(gen), len(real))


def real_floor(real_features: np.ndarray, groups: Sequence[int] | None = None, seed: int = 0) -> FrechetScore:
    """The Fréchet distance between two disjoint halves of the (M, F) real windows, standardised
    by all of them: the floor a generator's FID is read against.

    With ``groups`` (one id per window, e.g. its sequence), whole groups go to one half (shuffled
    by ``seed``, each to the half with fewer windows so far), so windows of one sequence never
    sit on both sides; without, the halves are random windows (``split_half_frechet``).
    """
    real = _feature_rows(real_features, "real_floor real_features", 2 * MIN_FRECHET_SAMPLES)
    standardised = real_standardiser(real)(real)
    if groups is None:
        half = len(real) // 2
        return FrechetScore(split_half_frechet(standardised, seed=seed), half, half)
    group_ids = np.asarray(groups)
    if group_ids.shape != (len(real),):
        raise DeepdanceError(f"real_floor: expected {len(real)} group ids, got shape {group_ids.shape}")
    unique = np.random.default_rng(seed).permutation(np.unique(group_ids))
    sides: tuple[list[int], list[int]] = ([], [])
    for group in unique:
        members = np.flatnonzero(group_ids == group).tolist()
        min(sides, key=len).extend(members)
    a, b = (np.asarray(side) for side in sides)
    if min(len(a), len(b)) < MIN_FRECHET_SAMPLES:
        raise DeepdanceError(
            f"real_floor: the groups split into halves of {len(a)} and {len(b)} windows; "
            f"each needs at least {MIN_FRECHET_SAMPLES} (give more sequences, or no groups)"
        )
    return FrechetScore(frechet_distance(standardised[a], standardised[b]), len(a), len(b))


def motion_diversity(features: np.ndarray, real_features: np.ndarray) -> float:
    """Div_k or Div_g: mean pairwise distance of (N, F) window features, standardised by the real
    windows' statistics (pass the real features as both to get the real set's own diversity)."""
    feats = _feature_rows(features, "motion_diversity features", 2)
    return diversity(real_standardiser(real_features)(feats))


# --------------------------------------------------------------------- liveliness


def joint_speed(
    joints: np.ndarray | Sequence[np.ndarray], fps: float, horizon_s: float | None = None
) -> float:
    """Mean joint speed (input units per second) of (N, T, 17, D) joints, or of (T_i, 17, D)
    sequences of any lengths, over their first ``horizon_s`` seconds (all steps with None);
    missing joints are skipped.

    For a rollout, pass its joints from the last seed frame on, so that the first step is the
    first generated motion; the horizon must fit in the T - 1 steps given.
    """
    fps = check_fps(fps, "joint_speed")
    arrays = [joints] if isinstance(joints, np.ndarray) else list(joints)
    speeds = []
    for x in (as_windows(array, "joint_speed joints") for array in arrays):
        steps = x.shape[1] - 1
        if horizon_s is not None:
            wanted = round(horizon_s * fps)
            if not 1 <= wanted <= steps:
                raise DeepdanceError(
                    f"joint_speed: a horizon of {horizon_s} s is {wanted} steps at {fps:g} fps; "
                    f"the joints hold {steps} steps"
                )
            x = x[:, : wanted + 1]
        speeds.append((np.linalg.norm(np.diff(x, axis=1), axis=-1) * fps).ravel())
    speed = np.concatenate(speeds) if speeds else np.zeros(0)
    if not np.isfinite(speed).any():
        raise DeepdanceError("joint_speed: no joint is seen in two consecutive frames")
    return float(np.nanmean(speed))


def liveliness_ratio(
    generated: np.ndarray,
    real: np.ndarray | Sequence[np.ndarray],
    fps: float,
    horizon_s: float = MIN_HORIZON_SECONDS,
) -> float:
    """Mean joint speed of (N, T, 17, D) rollouts over ``horizon_s`` (>= 4 s) / mean joint speed
    of real motion, all its steps ((M, T, 17, D) or (T_i, 17, D) sequences): frozen 0, a copy 1,
    dissolved into jitter far above 1. Real motion per step does not depend on the horizon."""
    if horizon_s < MIN_HORIZON_SECONDS:
        raise DeepdanceError(f"liveliness_ratio: horizon_s must be at least {MIN_HORIZON_SECONDS:g} s")
    real_speed = joint_speed(real, fps)
    if real_speed == 0:
        raise DeepdanceError("liveliness_ratio: the real joints never move, so no ratio to them exists")
    return joint_speed(generated, fps, horizon_s) / real_speed


# --------------------------------------------------------------------- foot skating


class FootSkating(NamedTuple):
    """Mean horizontal ankle speed (torso lengths per second) over steps where the ankle stays on
    the floor, the share of ankle steps on the floor, and how many there were."""

    speed: float
    contact_share: float
    contact_steps: int


def foot_skating(
    windows: np.ndarray, fps: float, up: str | None = None, contact_height: float = CONTACT_HEIGHT
) -> FootSkating:
    """How far planted feet slide, over (N, T, 17, D) windows.

    Rule: in each window the floor is the lowest ankle height seen (either ankle, any frame); an
    ankle is on the floor at a frame when it is within ``contact_height`` torso lengths of it,
    and a step counts when it is on the floor at both ends. Its speed across the up direction
    (image x in 2-D, the ground plane in 3-D), in torso lengths per second, is averaged over the
    counted steps: planted feet give 0, a foot sliding on the floor at v gives v. NaN speed when
    no step is on the floor.

    Limits: the floor is estimated per window, so a window spent in the air calls its lowest
    point the floor; COCO-17 has ankles, not toes or heels, so a heel raised on the toes reads as
    lifted. In 2-D, a foot moving towards or away from the camera changes image height and hides
    its sliding (depth is unseen), camera tilt and perspective bend the floor, and the
    horizontal speed is image x only: 2-D skating is a lower bound of the true sliding.
    """
    x = as_windows(windows, "foot_skating windows")
    fps = check_fps(fps, "foot_skating")
    direction = up_axis(x.shape[-1], up)
    ankles = x[:, :, ANKLES]
    scale = body_scale(x)[:, None, None]
    lift = height(ankles, direction)
    # a window without a seen ankle has no floor (NaN) and no contact
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        floor = np.nanmin(lift, axis=(1, 2), keepdims=True)
        on_floor = (lift - floor) / scale <= contact_height
    planted = on_floor[:, 1:] & on_floor[:, :-1]
    speed = np.linalg.norm(horizontal(np.diff(ankles, axis=1), direction), axis=-1) * fps / scale
    counted = planted & np.isfinite(speed)
    total = int(counted.sum())
    mean = float(speed[counted].mean()) if total else float("nan")
    return FootSkating(mean, total / max(planted.size, 1), total)


# --------------------------------------------------------------------- novelty


def window_novelty(generated: np.ndarray, training: np.ndarray) -> Novelty:
    """Root-mean-square joint distance (input units) from each (N, L, 17, D) generated window to
    its nearest (M, L, 17, D) training window, which one that is, and the mean: a copy gives 0.

    Distances are taken on the joints as given, so pass both in the same normalisation; a
    retrieval baseline scores 0 only against a training set that holds the window it copied
    (cut training windows with a stride of one frame for that).
    """
    gen = as_windows(generated, "window_novelty generated")
    train = as_windows(training, "window_novelty training")
    if gen.shape[1:] != train.shape[1:]:
        raise DeepdanceError(
            f"window_novelty: window shapes differ, {gen.shape[1:]} (generated) vs {train.shape[1:]} "
            "(training)"
        )
    per_joint = np.sqrt(gen.shape[1] * gen.shape[2])
    found = novelty(gen.reshape(len(gen), -1), train.reshape(len(train), -1))
    return Novelty(found.distances / per_joint, found.nearest, found.mean / per_joint)


# --------------------------------------------------------------------- summary.json keys


@dataclasses.dataclass(frozen=True)
class MotionScores:
    """Motion metrics of one run; ``summary()`` gives flat ``summary.json`` keys (None left out).

    With ``prefix="gen"``: ``gen/fid_k``, ``gen/fid_g`` (generated vs real windows) and their
    ``_floor`` (real half vs real half); ``gen/div_k``, ``gen/div_g`` and their ``_real``;
    ``gen/liveliness`` (mean joint speed of rollouts over the horizon, units/s),
    ``gen/liveliness_real``, ``gen/liveliness_ratio``; ``gen/foot_skating`` and ``_real``
    (torso lengths/s); ``gen/novelty``; and the window counts ``gen/n_generated``,
    ``gen/n_real``, ``gen/n_floor`` (the smaller half).
    """

    fid_k: float | None = None
    fid_g: float | None = None
    fid_k_floor: float | None = None
    fid_g_floor: float | None = None
    div_k: float | None = None
    div_g: float | None = None
    div_k_real: float | None = None
    div_g_real: float | None = None
    liveliness: float | None = None
    liveliness_real: float | None = None
    liveliness_ratio: float | None = None
    foot_skating: float | None = None
    foot_skating_real: float | None = None
    novelty: float | None = None
    n_generated: int | None = None
    n_real: int | None = None
    n_floor: int | None = None

    def summary(self, prefix: str = "gen", suffix: str = "") -> dict[str, float]:
        """The computed metrics as ``{f"{prefix}/{name}{suffix}": value}``, in field order; a
        baseline's scores take its suffix (``gen/fid_k_ridge``)."""
        return {
            f"{prefix}/{field.name}{suffix}": float(value)
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }


def score_motion(
    generated: np.ndarray,
    real: np.ndarray | Sequence[np.ndarray],
    fps: float,
    *,
    training: np.ndarray | Sequence[np.ndarray] | None = None,
    up: str | None = None,
    horizon_s: float = MIN_HORIZON_SECONDS,
    window_s: float = WINDOW_SECONDS,
    training_stride_s: float | None = None,
    real_groups: Sequence[int] | None = None,
    seed: int = 0,
) -> MotionScores:
    """Every motion metric for (N, T, 17, D) rollouts against real sequences, in one call.

    ``generated`` rollouts start at the last seed frame; ``real`` and ``training`` are (T_i, 17, D)
    sequences (or an array of them), all at ``fps`` and in one normalisation. Rollouts and real
    sequences are cut into back-to-back ``window_s`` windows. Real windows with missing joints
    are dropped; generated ones are kept, so that a diverged rollout scores NaN. Training
    sequences are cut with ``training_stride_s`` (None: back to back; ``1 / fps``: every start,
    so that a retrieved window scores novelty 0). ``real_groups`` gives each real sequence's
    group (e.g. the dance, so that its camera views stay on one side of the floor's halves); by
    default each sequence is its own group. The floor is left out (None) when the real windows
    cannot make two halves of ``MIN_FRECHET_SAMPLES``.
    """
    fps = check_fps(fps, "score_motion")
    # a diverged rollout's NaN must show as a NaN score, not vanish with its window
    gen = cut_windows(as_windows(generated, "score_motion generated"), fps, window_s, drop_missing=False)
    ref = cut_windows(real, fps, window_s)
    for name, cut in (("generated rollouts", gen), ("real sequences", ref)):
        if len(cut.joints) < MIN_FRECHET_SAMPLES:
            raise DeepdanceError(
                f"score_motion: the {name} give {len(cut.joints)} complete {window_s:g} s windows "
                f"({cut.dropped} dropped for missing joints); at least {MIN_FRECHET_SAMPLES} are needed"
            )
    scores: dict[str, float | int | None] = {"n_generated": len(gen.joints), "n_real": len(ref.joints)}
    groups = ref.sequence if real_groups is None else np.asarray(real_groups)[ref.sequence]
    for key, extract in (("k", kinetic_features), ("g", geometric_features)):
        gen_feats, real_feats = extract(gen.joints, fps, up=up), extract(ref.joints, fps, up=up)
        scores[f"fid_{key}"] = motion_fid(gen_feats, real_feats).value
        scores[f"div_{key}"] = motion_diversity(gen_feats, real_feats)
        scores[f"div_{key}_real"] = motion_diversity(real_feats, real_feats)
        floor = _floor_or_none(real_feats, groups, seed)
        if floor is not None:
            scores[f"fid_{key}_floor"] = floor.value
            scores["n_floor"] = min(floor.n_generated, floor.n_real)
    scores["liveliness"] = joint_speed(generated, fps, horizon_s)
    real_sequences = [real] if isinstance(real, np.ndarray) and real.ndim == 3 else list(real)
    scores["liveliness_real"] = joint_speed(real_sequences, fps)
    scores["liveliness_ratio"] = liveliness_ratio(generated, real_sequences, fps, horizon_s)
    scores["foot_skating"] = foot_skating(gen.joints, fps, up).speed
    scores["foot_skating_real"] = foot_skating(ref.joints, fps, up).speed
    if training is not None:
        train = cut_windows(training, fps, window_s, training_stride_s)
        if len(train.joints):
            scores["novelty"] = window_novelty(gen.joints, train.joints).mean
    return MotionScores(**scores)


def _floor_or_none(real_features: np.ndarray, groups: np.ndarray, seed: int) -> FrechetScore | None:
    """``real_floor`` by groups, falling back to random halves when the groups are too few to
    split, and None when the windows are too few for any split."""
    if len(real_features) < 2 * MIN_FRECHET_SAMPLES:
        return None
    try:
        return real_floor(real_features, groups, seed)
    except DeepdanceError:
        return real_floor(real_features, None, seed)
