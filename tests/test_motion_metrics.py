"""Known answers for the motion metrics on joint sequences (deepdance.metrics.motion)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdance.errors import DeepdanceError
from deepdance.metrics.motion import (
    GEOMETRIC_FEATURES,
    cut_windows,
    foot_skating,
    geometric_features,
    joint_speed,
    kinetic_features,
    liveliness_ratio,
    motion_diversity,
    motion_fid,
    real_floor,
    score_motion,
    window_length,
    window_novelty,
)
from deepdance.pose.skeleton import JOINT, NUM_JOINTS

FPS = 30

# An upright figure, (x, height) per joint; torso (shoulders' to hips' midpoint) = 50 units.
STANDING = {
    "nose": (0, 160),
    "left_eye": (3, 163),
    "right_eye": (-3, 163),
    "left_ear": (6, 161),
    "right_ear": (-6, 161),
    "left_shoulder": (20, 140),
    "right_shoulder": (-20, 140),
    "left_elbow": (22, 115),
    "right_elbow": (-22, 115),
    "left_wrist": (24, 90),
    "right_wrist": (-24, 90),
    "left_hip": (10, 90),
    "right_hip": (-10, 90),
    "left_knee": (10, 50),
    "right_knee": (-10, 50),
    "left_ankle": (10, 10),
    "right_ankle": (-10, 10),
}
TORSO = 50.0


def pose(overrides: dict[str, tuple[float, float]] | None = None, dims: int = 2) -> np.ndarray:
    """(17, D): 2-D in image coordinates (rows grow downwards), 3-D as (x, up, 0)."""
    joints = dict(STANDING, **(overrides or {}))
    xy = np.array([joints[name] for name in sorted(JOINT, key=JOINT.get)], dtype=np.float64)
    if dims == 2:
        return xy * np.array([1.0, -1.0])
    return np.concatenate([xy, np.zeros((NUM_JOINTS, 1))], axis=1)


def still(frames: int, dims: int = 2, overrides: dict | None = None) -> np.ndarray:
    """(frames, 17, D): the pose held."""
    return np.repeat(pose(overrides, dims)[None], frames, axis=0)


def random_motion(n: int, frames: int, seed: int = 0, dims: int = 2) -> np.ndarray:
    """(n, frames, 17, D): a random walk of every joint around the standing pose."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=2.0, size=(n, frames, NUM_JOINTS, dims)).cumsum(axis=1)
    return still(frames, dims)[None] + steps


# --------------------------------------------------------------------- windows


def test_window_cutting_counts_complete_windows_and_drops_missing():
    length = window_length(FPS)
    assert length == 120
    sequences = [random_motion(1, t)[0] for t in (130, 250, 100)]
    cut = cut_windows(sequences, FPS)
    # 1 + 2 + 0 back-to-back 4 s windows
    assert cut.joints.shape == (3, 120, NUM_JOINTS, 2)
    assert cut.sequence.tolist() == [0, 1, 1] and cut.start.tolist() == [0, 0, 120]
    # a 1 s stride: (130 - 120) // 30 + 1 = 1, (250 - 120) // 30 + 1 = 5
    assert len(cut_windows(sequences, FPS, stride_seconds=1.0).joints) == 6
    # one frame: every start, 11 + 131
    assert len(cut_windows(sequences, FPS, stride_seconds=1 / FPS).joints) == 142
    sequences[1][200, 3] = np.nan
    missing = cut_windows(sequences, FPS)
    assert len(missing.joints) == 2 and missing.dropped == 1


def test_bad_joints_are_refused_in_one_line():
    with pytest.raises(DeepdanceError, match="17, D"):
        kinetic_features(np.zeros((2, 10, 18, 2)), FPS)
    with pytest.raises(DeepdanceError, match="fps"):
        kinetic_features(np.zeros((2, 10, 17, 2)), 0)
    with pytest.raises(DeepdanceError, match="up"):
        geometric_features(np.zeros((2, 10, 17, 2)), FPS, up="z")


# --------------------------------------------------------------------- features


@pytest.mark.parametrize("dims", [2, 3])
def test_kinetic_features_of_constant_velocity_match_the_hand_computation(dims):
    rng = np.random.default_rng(1)
    # units per second, one velocity per joint
    velocity = rng.normal(size=(NUM_JOINTS, dims))
    t = np.arange(40)[:, None, None] / FPS
    joints = pose(dims=dims)[None] + velocity[None] * t
    feats = kinetic_features(joints[None], FPS).reshape(NUM_JOINTS, 3)
    # 2-D default up is -y (image), 3-D is y: vertical energy is v_y^2 either way
    horizontal = np.square(np.delete(velocity, 1, axis=1)).sum(1)
    np.testing.assert_allclose(feats[:, 0], horizontal, rtol=1e-9)
    np.testing.assert_allclose(feats[:, 1], velocity[:, 1] ** 2, rtol=1e-9)
    np.testing.assert_allclose(feats[:, 2], 0.0, atol=1e-6)


def test_energy_expenditure_of_constant_acceleration_is_its_magnitude():
    acceleration = np.array([3.0, -4.0])
    t = np.arange(40)[:, None, None] / FPS
    joints = pose()[None] + 0.5 * acceleration * t**2
    feats = kinetic_features(joints[None], FPS).reshape(NUM_JOINTS, 3)
    np.testing.assert_allclose(feats[:, 2], 5.0, rtol=1e-6)


def _fairmotion_loop(positions: np.ndarray, joint: int, frame_time: float, window: int = 2) -> list[float]:
    """The kinetic features of one joint written as fairmotion's frame-by-frame loops (2-D, y up)."""
    n = len(positions)
    energy_h = energy_v = expenditure = 0.0
    for i in range(1, n):
        velocity, count = np.zeros(2), 0
        for j in range(-window, window + 1):
            if i + j - 1 < 0 or i + j >= n:
                continue
            velocity += positions[i + j, joint] - positions[i + j - 1, joint]
            count += 1
        velocity /= count * frame_time
        energy_h += velocity[0] ** 2
        energy_v += velocity[1] ** 2
        acceleration, count = np.zeros(2), 0
        for j in range(-window, window + 1):
            if i + j - 1 < 0 or i + j + 1 >= n:
                continue
            after = (positions[i + j + 1, joint] - positions[i + j, joint]) / frame_time
            before = (positions[i + j, joint] - positions[i + j - 1, joint]) / frame_time
            acceleration += (after - before) / frame_time
            count += 1
        expenditure += np.linalg.norm(acceleration / count)
    return [energy_h / (n - 1), energy_v / (n - 1), expenditure / (n - 1)]


def test_kinetic_features_equal_fairmotions_loops_on_random_motion():
    joints = random_motion(1, 12, seed=3)[0]
    feats = kinetic_features(joints[None], FPS, up="y").reshape(NUM_JOINTS, 3)
    for joint in (0, 9, 16):
        np.testing.assert_allclose(feats[joint], _fairmotion_loop(joints, joint, 1 / FPS), rtol=1e-9)


@pytest.mark.parametrize("dims", [2, 3])
def test_geometric_features_of_a_hand_built_pose(dims):
    names = list(GEOMETRIC_FEATURES)
    assert len(names) == 26 == geometric_features(still(5, dims)[None], FPS).shape[1]
    # the standing figure: no relation holds
    np.testing.assert_array_equal(geometric_features(still(6, dims)[None], FPS)[0], 0.0)
    # left hand above the head in half of the frames
    raised = {"left_elbow": (22, 165), "left_wrist": (24, 190)}
    joints = np.concatenate([still(3, dims), still(3, dims, raised)])
    feats = dict(zip(names, geometric_features(joints[None], FPS)[0], strict=True))
    expected = dict.fromkeys(names, 0.0)
    # raised in 3 of 6 frames; the upper arm points up, 180 degrees off the torso's downward line
    expected.update(left_wrist_above_head=0.5, left_wrist_above_shoulder=0.5, left_arm_out=0.5)
    # the wrists are then sqrt(48^2 + 100^2) = 111 units = 2.2 torso lengths apart (> 2)
    expected["hands_wide"] = 0.5
    # the hand moved once, by 100 units in 1/30 s (60 torso lengths/s): 1 step of 5
    expected["left_wrist_fast"] = 0.2
    assert feats == pytest.approx(expected)


def test_geometric_features_see_a_handstand_and_ignore_the_units():
    upside_down = still(4) * np.array([1.0, -1.0])
    feats = dict(zip(GEOMETRIC_FEATURES, geometric_features(upside_down[None], FPS)[0], strict=True))
    assert feats["torso_inverted"] == 1.0 and feats["torso_horizontal"] == 0.0
    walk = random_motion(3, 20, seed=5)
    np.testing.assert_allclose(geometric_features(walk, FPS), geometric_features(walk * 0.01 + 7, FPS))


# --------------------------------------------------------------------- Fréchet and diversity


def test_identical_sets_give_fid_zero():
    feats = kinetic_features(random_motion(12, 20), FPS)
    score = motion_fid(feats, feats)
    assert score.value == pytest.approx(0.0, abs=1e-9)
    assert (score.n_generated, score.n_real) == (12, 12)


def test_shifted_set_gives_the_closed_form_fid_in_1d():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    # standardised by the real set's population std sqrt(1.25): a shift of 2 is 2 / sqrt(1.25)
    assert motion_fid(real + 2.0, real).value == pytest.approx(4.0 / 1.25, rel=1e-12)


def test_shifted_and_stretched_set_gives_the_closed_form_fid_in_2d():
    # real features are already standard: mean 0, population std 1, uncorrelated
    real = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    generated = real * np.array([1.0, 2.0]) + np.array([3.0, 0.0])
    # |mean shift|^2 = 9; unbiased variances 4/3 (real) and 4/3, 16/3 (generated):
    # sum over axes of (sqrt(var_g) - sqrt(var_r))^2 = (4 - 2)^2 / 3
    assert motion_fid(generated, real).value == pytest.approx(9.0 + 4.0 / 3.0, rel=1e-10)


def test_real_floor_splits_whole_sequences_and_is_zero_for_identical_halves():
    half = np.random.default_rng(0).normal(size=(6, 4))
    # two sequences of 6 windows each, the second far from the first
    windows = np.concatenate([half, half + 100.0])
    by_sequence = real_floor(windows, groups=[0] * 6 + [1] * 6)
    assert (by_sequence.n_generated, by_sequence.n_real) == (6, 6)
    # whole sequences to each side: the halves are the two sequences, about 3 real stds apart
    assert by_sequence.value > 10
    # random halves mix the sequences: a much lower floor
    assert real_floor(windows, seed=0).value < by_sequence.value / 2
    # two identical sequences, one to each side: no sampling difference at all
    twins = real_floor(np.concatenate([half, half]), groups=[0] * 6 + [1] * 6)
    assert twins.value == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(DeepdanceError, match="halves of 12 and 0"):
        real_floor(windows, groups=[0] * 12)


def test_diversity_of_identical_windows_is_zero():
    feats = kinetic_features(np.repeat(random_motion(1, 20), 5, axis=0), FPS)
    real = kinetic_features(random_motion(8, 20, seed=2), FPS)
    assert motion_diversity(feats, real) == 0.0
    assert motion_diversity(real, real) > 0


# --------------------------------------------------------------------- liveliness, skating, novelty


def test_frozen_rollout_has_liveliness_zero_and_a_copy_one():
    real = random_motion(4, 4 * FPS + 1)
    frozen = np.repeat(real[:, :1], 4 * FPS + 1, axis=1)
    assert liveliness_ratio(frozen, real, FPS, horizon_s=4.0) == 0.0
    assert liveliness_ratio(real, real, FPS, horizon_s=4.0) == pytest.approx(1.0, rel=1e-12)
    # a constant 3 units/s on every joint
    line = still(FPS + 1)[None] + np.arange(FPS + 1)[None, :, None, None] * np.array([0.0, 0.1])
    assert joint_speed(line, FPS) == pytest.approx(3.0)
    with pytest.raises(DeepdanceError, match="at least 4"):
        liveliness_ratio(real, real, FPS, horizon_s=2.0)
    with pytest.raises(DeepdanceError, match="horizon"):
        joint_speed(real, FPS, horizon_s=5.0)


@pytest.mark.parametrize("dims", [2, 3])
def test_foot_skating_is_zero_for_planted_feet_and_the_speed_of_sliding_ones(dims):
    frames = 20
    # the arms wave, the feet stay put
    waving = still(frames, dims).copy()
    waving[:, JOINT["left_wrist"], 0] += np.sin(np.arange(frames))
    planted = foot_skating(waving[None], FPS)
    assert planted.speed == 0.0 and planted.contact_share == 1.0
    # the whole figure slides across the floor at 60 units/s = 1.2 torso lengths/s
    velocity = np.zeros(dims)
    velocity[0] = 60.0
    sliding = still(frames, dims)[None] + np.arange(frames)[None, :, None, None] / FPS * velocity
    assert foot_skating(sliding, FPS).speed == pytest.approx(60.0 / TORSO)
    # a foot swinging high above the floor is not counted: only the planted right ankle is
    swing = still(frames, dims).copy()
    swing[:, JOINT["left_ankle"], 0] += np.arange(frames) * 5.0
    swing[:, JOINT["left_ankle"], 1] += -40.0 if dims == 2 else 40.0
    result = foot_skating(swing[None], FPS)
    assert result.speed == 0.0 and result.contact_share == pytest.approx(0.5)


def test_a_copy_has_novelty_zero_and_a_shift_its_distance():
    training = random_motion(6, 30)
    found = window_novelty(training[[4, 1]], training)
    assert found.mean == 0.0 and found.nearest.tolist() == [4, 1]
    # every joint 3 units away in every frame: root-mean-square joint distance 3
    shifted = window_novelty(training[[2]] + np.array([3.0, 0.0]), training)
    assert shifted.mean == pytest.approx(3.0) and shifted.nearest.tolist() == [2]


def test_score_motion_of_a_copy():
    real = random_motion(6, 4 * FPS + 1, seed=7)
    scores = score_motion(real, list(real), FPS, training=list(real))
    summary = scores.summary()
    assert summary["gen/fid_k"] == pytest.approx(0.0, abs=1e-9)
    assert summary["gen/fid_g"] == pytest.approx(0.0, abs=1e-9)
    assert summary["gen/liveliness_ratio"] == pytest.approx(1.0)
    assert summary["gen/novelty"] == 0.0
    assert summary["gen/div_k"] == pytest.approx(summary["gen/div_k_real"])
    assert (summary["gen/n_generated"], summary["gen/n_real"], summary["gen/n_floor"]) == (6, 6, 3)
    assert {"gen/fid_k_floor", "gen/fid_g_floor", "gen/foot_skating", "gen/foot_skating_real"} <= set(summary)
    frozen = np.repeat(real[:, :1], 4 * FPS + 1, axis=1)
    repeat = score_motion(frozen, list(real), FPS).summary(suffix="_repeat")
    assert repeat["gen/liveliness_ratio_repeat"] == 0.0 and "gen/novelty_repeat" not in repeat


def test_score_motion_finds_a_retrieved_window_and_shows_a_diverged_rollout():
    training = random_motion(2, 300, seed=8)
    # a retrieval baseline: training windows that start between the back-to-back ones
    retrieved = np.stack([training[0, 17 : 17 + 121], training[1, 55 : 55 + 121]])
    real = list(random_motion(4, 250, seed=9))
    back_to_back = score_motion(retrieved, real, FPS, training=list(training))
    assert back_to_back.novelty > 1.0
    every_start = score_motion(retrieved, real, FPS, training=list(training), training_stride_s=1 / FPS)
    assert every_start.novelty == 0.0
    diverged = retrieved.copy()
    diverged[0, 60:] = np.nan
    assert np.isnan(score_motion(diverged, real, FPS).fid_k)
