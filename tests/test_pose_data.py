"""Keypoint sequences for the skeleton models (data=aist_pose): normalisation, masking, windows,
splits that pair with the video data's, and the one-line refusals."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepdance.config.data import GenreDataConfig
from deepdance.config.pose_data import PoseDataConfig
from deepdance.data.aist.annotations.keypoints import write_keypoints3d
from deepdance.data.genre.manifest import build_manifest
from deepdance.data.pose import PoseDataModule
from deepdance.data.pose.normalise import (
    feature_size,
    normalise_sequence,
    window_features,
)
from deepdance.data.pose.sequences import split_table
from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import FLIP_ORDER, HIPS, JOINT, torso_length
from tests.helpers.poses import dance, write_dance_folder, write_pose_file
from tests.helpers.runs import SHARED_DATA

J = 17


def body(frames: int = 5, seed: int = 0) -> np.ndarray:
    """(frames, 17, 2) pixels: a dancing figure of torso 120 px, walking right 10 px a frame."""
    points = dance(1.0, frames, np.random.default_rng(seed)) * 120 + [500, 300]
    return points + np.arange(frames)[:, None, None] * [10.0, 0.0]


def config(root: Path, **settings: object) -> PoseDataConfig:
    return PoseDataConfig(root=str(root), **settings)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dance_folder(tmp_path_factory.mktemp("poses"), dancers_per_genre=3, views=2, frames=40)


# ---------------------------------------------------------------------------- normalisation
def test_normalised_joints_are_root_centred_and_torso_scaled() -> None:
    points = body()
    sequence = normalise_sequence(points, np.ones(points.shape[:2]), 0.5)
    hips = sequence.joints[:, list(HIPS)].mean(axis=1)
    np.testing.assert_allclose(hips, 0, atol=1e-5)
    np.testing.assert_allclose(torso_length(sequence.joints), 1.0, atol=1e-4)
    # the root keeps the walk, in torso units: 10 px a frame / 120 px
    np.testing.assert_allclose(np.diff(sequence.root[:, 0]), 10 / 120, atol=1e-4)
    assert sequence.valid.all()


def test_velocities_are_displacements_between_sampled_frames_zero_first() -> None:
    points = body(frames=9)
    sequence = normalise_sequence(points, None)
    features = window_features(sequence, np.array([0, 4, 8]), velocities=True)
    assert features.shape == (3, feature_size(2, True)) == (3, 2 * J * 2 + J)
    velocities = features[:, 2 * J : 4 * J].reshape(3, J, 2)
    assert np.all(velocities[0] == 0)
    expected = (points[8] - points[4]) / 120
    np.testing.assert_allclose(velocities[2], expected, atol=1e-4)
    # one frame (data.num_frames=1, the single-frame control) sees no motion at all
    single = window_features(sequence, np.array([4]), velocities=True)
    assert np.all(single[:, 2 * J : 4 * J] == 0) and np.any(single[:, : 2 * J] != 0)
    # no velocities: coordinates and the mask only
    assert window_features(sequence, np.array([0, 4]), velocities=False).shape == (2, 2 * J + J)


def test_low_confidence_joints_and_empty_frames_are_zeroed_and_masked() -> None:
    points = body(frames=4)
    confidence = np.ones((4, J))
    wrist = JOINT["left_wrist"]
    confidence[1, wrist] = 0.05
    # frame 2: nobody found (the front end's NaN x/y, confidence 0)
    points[2] = np.nan
    confidence[2] = 0
    sequence = normalise_sequence(points, confidence, min_confidence=0.1)
    features = window_features(sequence, np.arange(4), velocities=True)
    coords, motion, mask = features[:, : 2 * J], features[:, 2 * J : 4 * J], features[:, 4 * J :]
    assert mask[1, wrist] == 0 and mask[1].sum() == J - 1
    assert np.all(coords[1].reshape(J, 2)[wrist] == 0)
    assert np.all(mask[2] == 0) and np.all(coords[2] == 0) and np.all(motion[2] == 0)
    # a velocity needs the joint in both frames: none from the empty frame into frame 3
    assert np.all(motion[3] == 0) and np.all(np.isfinite(features))
    # the wrist is back in frame 3; its motion from frame 1 (masked) to 2 was zero as well
    assert mask[3].sum() == J


def test_flip_mirrors_x_and_swaps_left_and_right() -> None:
    sequence = normalise_sequence(body(frames=2), None)
    plain = window_features(sequence, np.arange(2), velocities=False)[:, : 2 * J].reshape(2, J, 2)
    flipped = window_features(sequence, np.arange(2), velocities=False, flip=True)[:, : 2 * J].reshape(
        2, J, 2
    )
    np.testing.assert_allclose(flipped[..., 0], -plain[:, list(FLIP_ORDER), 0])
    np.testing.assert_allclose(flipped[..., 1], plain[:, list(FLIP_ORDER), 1])
    assert FLIP_ORDER[JOINT["left_wrist"]] == JOINT["right_wrist"]


# ------------------------------------------------------------------------------- datamodule
def test_windows_have_the_documented_shapes(folder: Path) -> None:
    data = PoseDataModule(config(folder, num_frames=8, test_clips=3, split="sequence"))
    data.setup()
    # 3 genres x 3 dancers x 2 musics sequences, 2 views each
    assert len(data.manifest) == 3 * 3 * 2 * 2
    assert set(data.manifest["camera"]) == {"01", "02"}
    assert data.manifest["name"].str.contains("_c01_|_c02_").all()
    item = data.datasets["train"][0]
    assert item["poses"].shape == (8, data.feature_size) and item["mask"].shape == (8,)
    test = data.datasets["test"][0]
    # the centre window and the other 2 of K=3 (the centre is one of them)
    assert test["poses"].shape == (3, 8, data.feature_size) and test["multi"].tolist() == [True] * 3
    batch = next(iter(data.train_dataloader()))
    assert batch["poses"].shape == (16, 8, data.feature_size)


def test_per_video_files_and_views_filter(tmp_path: Path) -> None:
    # extract_poses' layout: one camera's video per file, V = 1
    rng = np.random.default_rng(0)
    for genre, dancer in (("BR", 1), ("BR", 2), ("BR", 3), ("PO", 4), ("PO", 5), ("PO", 6)):
        for camera in (1, 2):
            keypoints = np.concatenate([body(12, dancer), rng.uniform(0.5, 1, (12, J, 1))], axis=-1)
            write_pose_file(
                tmp_path / "keypoints2d" / f"g{genre}_sBM_c0{camera}_d0{dancer}_m{genre}0_ch01.pkl",
                keypoints[None],
            )
    data = PoseDataModule(config(tmp_path, num_frames=4, views=[2]))
    data.setup()
    assert set(data.manifest["camera"]) == {"02"} and len(data.manifest) == 6
    assert data.manifest.groupby("dancer")["split"].nunique().max() == 1


def test_sequence_split_keeps_views_together_and_is_disjoint(folder: Path) -> None:
    data = PoseDataModule(config(folder, split="sequence", num_frames=4))
    data.setup()
    manifest = data.manifest
    assert manifest.groupby("sequence")["split"].nunique().max() == 1
    per_split = {split: set(part["sequence"]) for split, part in manifest.groupby("split")}
    assert set(per_split) == {"train", "val", "test"}
    assert not (per_split["train"] & per_split["test"]) and not (per_split["val"] & per_split["test"])
    # one test and one val sequence per genre
    assert manifest[manifest["split"] == "test"].groupby("genre")["sequence"].nunique().tolist() == [1, 1, 1]
    again = split_table(config(folder, split="sequence"))
    assert again.set_index("sequence")["split"].to_dict() == manifest.set_index("sequence")["split"].to_dict()


@pytest.mark.parametrize("fold", [None, 1])
def test_dancer_split_matches_the_video_datas_split(folder: Path, tmp_path: Path, fold: int | None) -> None:
    # the same dancers as AIST++-named videos (names only: the video manifest opens no file)
    videos = tmp_path / "videos"
    videos.mkdir()
    table = split_table(config(folder, seed=4, fold=fold))
    for sequence in table["sequence"]:
        for camera in ("c01", "c02"):
            (videos / f"{sequence.replace('cAll', camera)}.mp4").touch()
    video_split = build_manifest(GenreDataConfig(root=str(videos), seed=4, fold=fold))
    dancer_split = video_split.groupby("dancer")["split"].first().to_dict()
    assert table.groupby("dancer")["split"].first().to_dict() == dancer_split
    assert set(dancer_split.values()) == {"train", "val", "test"}


def test_keypoints3d_folders_read_one_sample_per_sequence(tmp_path: Path) -> None:
    (tmp_path / "keypoints3d").mkdir()
    for genre, dancer in (("BR", 1), ("BR", 2), ("BR", 3), ("PO", 4), ("PO", 5), ("PO", 6)):
        points = np.concatenate([body(10, dancer), np.zeros((10, J, 1))], axis=-1)
        write_keypoints3d(
            tmp_path / "keypoints3d" / f"g{genre}_sBM_cAll_d0{dancer}_m{genre}0_ch01.pkl", points, points
        )
    data = PoseDataModule(config(tmp_path, kind="3d", num_frames=4))
    data.setup()
    assert len(data.manifest) == 6 and set(data.manifest["camera"]) == {"all"}
    assert data.datasets["train"][0]["poses"].shape == (4, feature_size(3, True))


def test_normalized_2d_files_are_sequences_of_one_view(tmp_path: Path) -> None:
    # break in keypoints2d (3 sequences, 2 views); house and krump only as AIST++'s z-scored .npy
    write_dance_folder(tmp_path, genres=("BR",), dancers_per_genre=3, musics=1, views=2, frames=40)
    (tmp_path / "normalized_2d").mkdir()
    rng = np.random.default_rng(1)
    names = [f"g{g}_sFM_cAll_d{d}_m{g}{m}_ch0{m + 1}" for g, d in (("HO", 19), ("KR", 28)) for m in range(3)]
    # a break sequence that has a keypoints2d file is read from it, not twice
    names.append("gBR_sBM_cAll_d01_mBR0_ch01")
    for name in names:
        # shifted off-centre: the classifier's normalisation puts the root back at 0
        coords = dance(1.0, 30, rng) * 2.0 + 3.0
        standardised = (coords - coords.mean((0, 1))) / coords.std((0, 1)) + 5.0
        np.save(tmp_path / "normalized_2d" / f"{name}.npy", standardised.reshape(30, 2 * J))
    data = PoseDataModule(config(tmp_path, split="sequence", num_frames=8))
    data.setup()
    manifest = data.manifest
    assert set(manifest["genre"]) == {"BR", "HO", "KR"}
    npy = manifest[manifest["path"].str.endswith(".npy")]
    assert len(npy) == 6 and set(npy["camera"]) == {"std"} and set(npy["frames"]) == {30}
    assert len(manifest) == 3 * 2 + 6
    for genre in ("HO", "KR"):
        assert set(manifest.loc[manifest["genre"] == genre, "split"]) == {"train", "val", "test"}
    hips = [JOINT["left_hip"], JOINT["right_hip"]]
    for split in ("train", "val", "test"):
        dataset = data.datasets[split]
        for i in np.flatnonzero(dataset.manifest["path"].str.endswith(".npy")):
            item = dataset[int(i)]
            poses = item["poses"].numpy().reshape(-1, item["poses"].shape[-1])
            assert np.isfinite(poses).all()
            joints = poses[:, : 2 * J].reshape(-1, J, 2)
            np.testing.assert_allclose(joints[:, hips].mean(axis=1), 0, atol=1e-5)
            # torso units, not the file's z-scores (every joint valid: confidence 1)
            assert 0.3 < np.abs(joints).max() < 5 and np.all(poses[:, 4 * J :] == 1)
    # data.normalized_2d=false keeps them out: break alone is one genre
    with pytest.raises(DeepdanceError, match="one genre only"):
        split_table(config(tmp_path, split="sequence", normalized_2d=False))


# --------------------------------------------------------------------------------- refusals
def test_one_genre_is_refused_in_one_line(tmp_path: Path) -> None:
    write_dance_folder(tmp_path, genres=("BR",), dancers_per_genre=3, views=1, frames=10)
    with pytest.raises(DeepdanceError, match="one genre only.*data.genres=") as error:
        split_table(config(tmp_path))
    assert "\n" not in str(error.value)


def test_an_empty_split_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DeepdanceError, match="no keypoints2d/\\*.pkl"):
        split_table(config(tmp_path))
    write_dance_folder(tmp_path, genres=("BR", "PO"), dancers_per_genre=2, musics=1, views=1, frames=10)
    with pytest.raises(DeepdanceError, match="the val split is empty.*data.split=sequence"):
        split_table(config(tmp_path))


def test_a_file_of_the_wrong_shape_is_refused_naming_it(folder: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(folder, root)
    bad = root / "keypoints2d" / "gBR_sBM_cAll_d01_mBR0_ch01.pkl"
    # 12 joints, not COCO's 17
    wrong = {
        "keypoints2d": np.zeros((1, 5, 12, 3), np.float32),
        "det_scores": np.zeros((1, 5), np.float32),
        "timestamps": np.arange(5, dtype=np.int64),
    }
    bad.write_bytes(pickle.dumps(wrong))
    with pytest.raises(
        DeepdanceError, match=r"gBR_sBM_cAll_d01_mBR0_ch01.pkl: key 'keypoints2d' has shape \(1, 5, 12, 3\)"
    ):
        PoseDataModule(config(root, num_frames=4)).setup()


# ---------------------------------------------------------------------------- the real files
REAL = SHARED_DATA / "aist_annotations"


@pytest.mark.skipif(not (REAL / "keypoints2d").is_dir(), reason="../shared/data/aist_annotations is absent")
def test_the_shared_real_sequences_load_by_sequence_split() -> None:
    # one break dancer: a genre list names a second class for the smoke test
    data = PoseDataModule(config(REAL, split="sequence", genres=["BR", "PO"], num_frames=16))
    data.setup()
    manifest = data.manifest
    assert len(manifest) == 7 * 9 and set(manifest["frames"]) == {720}
    assert manifest.groupby("sequence")["split"].nunique().max() == 1
    item = data.datasets["val"][0]
    features = item["poses"].numpy()
    assert features.shape == (16, feature_size(2, True)) and np.isfinite(features).all()
    # most joints of a real dancer are confidently found, and the normalised body is about torso-sized
    assert features[:, 4 * J :].mean() > 0.7
    assert 0.5 < np.abs(features[:, : 2 * J]).max() < 10


def test_synthetic_annotations_split_as_the_synthetic_videos(tmp_path: Path) -> None:
    # the exported annotations of the same dancers: data=synthetic_pose pairs with data=synthetic
    from deepdance.data.synthetic.annotations import ensure_synthetic_annotations
    from deepdance.data.synthetic.dataset import video_jobs
    from deepdance.data.synthetic.settings import SyntheticConfig

    synthetic = SyntheticConfig(
        seed=3, dancers_per_genre=3, cameras=2, musics=1, seconds=1.0, fps=15, size=64
    )
    videos = tmp_path / "videos"
    videos.mkdir()
    for job in video_jobs(synthetic):
        (videos / job.name.filename()).touch()
    root = tmp_path / "annotations"
    data = PoseDataModule(config(root, synthetic=synthetic, fold=2, num_frames=4))
    data.prepare_data()
    data.setup()
    video_split = build_manifest(GenreDataConfig(root=str(videos), fold=2))
    assert len(data.manifest) == len(video_split) == 10 * 3 * 2
    by_name = video_split.set_index("name")["split"]
    assert data.manifest.set_index("name")["split"].to_dict() == by_name.to_dict()
    assert ensure_synthetic_annotations(root, synthetic) == root
