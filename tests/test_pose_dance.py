"""experiment=pose_dance: the latent LSTM over normalised keypoint sequences. The data source
resamples and normalises every view, holds whole sequences out, and the generator learns a smooth
motion better than holding the last pose, reloads from its checkpoint and dances from a seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.config.pose_motion import PoseLSTMConfig, PoseMotionConfig
from deepdance.config.validate import check_data, check_model
from deepdance.data.aist.annotations.keypoints import Keypoints2D, write_keypoints2d, write_keypoints3d
from deepdance.data.pose.motion import PoseMotionDataModule, fill_invalid, resample_indices, seed_poses
from deepdance.data.pose.normalise import normalise_sequence
from deepdance.errors import DeepdanceError
from deepdance.models.latent_lstm import LatentLSTM
from deepdance.models.pose_lstm_module import PoseLSTMModule, rollout_poses
from deepdance.models.registry import FAMILIES, load_model
from deepdance.models.rollout_training import RolloutTraining
from tests.helpers.poses import dance, write_dance_folder
from tests.helpers.runs import compose_config, run_train

GENRES = ("BR", "PO")
# the tiny run's val next-pose MSE over holding the last pose's: 0.46-0.54 for seeds 1-3
MAX_REPEAT_RATIO = 0.75


@pytest.fixture(scope="module")
def dances(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 genres x 2 dancers x 2 musics (4 sequences a genre), 2 views of 3 s at 30 fps, plus one
    normalized_2d sequence of a third genre."""
    root = write_dance_folder(
        tmp_path_factory.mktemp("dances"), GENRES, dancers_per_genre=2, musics=2, views=2, frames=90
    )
    (root / "normalized_2d").mkdir()
    coords = dance(1.0, 90, np.random.default_rng(0))
    standardised = (coords - coords.mean((0, 1))) / coords.std((0, 1))
    np.save(root / "normalized_2d" / "gHO_sFM_cAll_d19_mHO0_ch01.npy", standardised.reshape(90, 34))
    return root


def datamodule(root: Path, **settings: object) -> PoseMotionDataModule:
    module = PoseMotionDataModule(PoseMotionConfig(root=str(root), **settings))
    module.setup()
    return module


def test_resampling_halves_60_fps_sequences(tmp_path: Path) -> None:
    np.testing.assert_array_equal(resample_indices(720, 60.0, 30.0), np.arange(0, 720, 2))
    # jittered timestamps: the nearest frame still wins
    stamps = (np.arange(9) * 1e6 / 60 + np.array([0, 900, -900, 0, 0, 400, 0, 0, 0])).astype(np.int64)
    np.testing.assert_array_equal(resample_indices(9, 60.0, 30.0, stamps), [0, 2, 4, 6, 8])
    rng = np.random.default_rng(0)
    points = np.stack([dance(1.0, 120, rng) * 100 + 500, dance(2.0, 120, rng) * 80 + 300])
    keypoints = np.concatenate([points, np.ones((*points.shape[:-1], 1))], axis=-1)
    stamps = (np.arange(120) * 1e6 / 60).astype(np.int64)
    for genre, sequences in (("BR", 3), ("PO", 3)):
        for s in range(sequences):
            name = f"g{genre}_sBM_cAll_d0{s + 1}_m{genre}0_ch0{s + 1}.pkl"
            write_keypoints2d(
                tmp_path / "keypoints2d" / name, Keypoints2D(keypoints, np.ones((2, 120)), stamps)
            )
    data = datamodule(tmp_path)
    # 2 s at 60 fps -> 60 poses of 17 x 2 numbers at 30 fps, every view
    assert len(data.videos) == 6 * 2
    assert all(video.shape == (60, 34) for video in data.videos)
    first = data.manifest.iloc[0]
    expected = normalise_sequence(points[first.view], keypoints[first.view, ..., 2], 0.1).joints[::2]
    np.testing.assert_allclose(data.videos[0], expected.reshape(60, 34), atol=1e-5)
    assert datamodule(tmp_path, fps=60.0).videos[0].shape == (120, 34)
    with pytest.raises(DeepdanceError, match=r"data.fps=90 is above the 60 fps"):
        datamodule(tmp_path, fps=90.0)


def test_sources_splits_and_windows(dances: Path) -> None:
    data = datamodule(dances, context_frames=6, target_frames=3)
    manifest = data.manifest
    # 8 sequences x 2 views, and the normalized_2d sequence as one view of its own
    assert len(manifest) == 8 * 2 + 1
    standardised = manifest[manifest["genre"] == "HO"]
    assert list(standardised["camera"]) == ["std"] and len(data.videos[standardised.index[0]]) == 90
    # split=sequence (the default): whole sequences held out, every view with its sequence
    assert data.config.split == "sequence"
    assert (manifest.groupby("sequence")["split"].nunique() == 1).all()
    splits = {
        split: set(manifest.loc[manifest["split"] == split, "sequence"]) for split in ("train", "val", "test")
    }
    assert (
        all(splits.values())
        and not (splits["train"] & splits["test"])
        and not (splits["val"] & splits["test"])
    )
    # every test window's poses come from a test sequence
    test_videos = {item[0] for item in data.datasets["test"].items}
    assert {manifest.loc[v, "split"] for v in test_videos} == {"test"}
    # training windows hold context + targets poses; evaluation windows one target
    train, val = data.datasets["train"][0], data.datasets["val"][0]
    assert train["frames"].shape == (6 + 3, 34) and val["frames"].shape == (6 + 1, 34)
    assert train["genre"] in (0, 1)  # BR, PO in AIST++'s genre order
    kept_apart = datamodule(dances, normalized_2d=False)
    assert "HO" not in set(kept_apart.manifest["genre"]) and len(kept_apart.manifest) == 16


def test_keypoints3d_take_the_rate_of_their_keypoints2d(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for s in range(3):
        name = f"gBR_sBM_cAll_d04_mBR0_ch0{s + 1}.pkl"
        body = np.concatenate([dance(1.0, 60, rng), np.zeros((60, 17, 1))], axis=-1) * 100
        write_keypoints3d(tmp_path / "keypoints3d" / name, body)
        # only the first sequence has keypoints2d, at 30 fps: its rate; the others are AIST++'s 60 fps
        if s == 0:
            points = np.concatenate([body[None, ..., :2], np.ones((1, 60, 17, 1))], axis=-1)
            stamps = (np.arange(60) * 1e6 / 30).astype(np.int64)
            write_keypoints2d(tmp_path / "keypoints2d" / name, Keypoints2D(points, np.ones((1, 60)), stamps))
    data = datamodule(tmp_path, kind="3d", genres=["BR"], context_frames=4)
    # one view per sequence, 17 x 3 numbers a pose: 2 s at 30 fps, then 1 s at 60 fps, at 30 fps
    assert [video.shape for video in data.videos] == [(60, 51), (30, 51), (30, 51)]
    assert list(data.manifest["camera"]) == ["all"] * 3


def test_missing_joints_are_filled_in_time() -> None:
    joints = np.arange(5 * 2 * 2, dtype=np.float32).reshape(5, 2, 2)
    valid = np.ones((5, 2), dtype=bool)
    valid[1:3, 0] = False
    valid[:, 1] = False
    filled = fill_invalid(np.where(valid[..., None], joints, 0), valid)
    np.testing.assert_allclose(filled[:, 0], joints[:, 0])
    assert (filled[:, 1] == 0).all()


def test_auto_conditioning_feeds_truth_in_alternate_blocks() -> None:
    class Recorder(LatentLSTM):
        """Predicts -1 everywhere; records the last latent it reads."""

        def predict(self, z: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
            self.read.append(float(z[0, -1, 0]))
            return torch.full_like(z[:, -1], -1.0)

    net = Recorder(latent_dim=1, hidden_sizes=[2])
    net.read = []
    window = torch.arange(8, dtype=torch.float32).reshape(1, 8, 1)  # 2 context + 6 targets
    RolloutTraining(steps=6, auto_condition=2).loss(net, window)
    # context 1, own (-1) twice, truth (4, 5), own twice: acLSTM's schedule
    assert net.read == [1.0, -1.0, -1.0, 4.0, 5.0, -1.0]


def pose_run(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "experiment=pose_dance",
        f"data.root={root}",
        "data.normalized_2d=false",
        "data.batch_size=32",
        "model.net.hidden_sizes=[32]",
        "model.look_back=8",
        "model.rollout_loss_steps=4",
        "model.auto_condition=2",
        "model.optimizer.lr=0.01",
        "trainer.max_epochs=3",
        "trainer.accelerator=cpu",
        "callbacks.rich_progress_bar=null",
        "logger=csv",
        "print_config=false",
        "seed=1",
        f"hydra.run.dir={out}",
        *extra,
    ]


def test_pose_dance_learns_reloads_and_dances(dances: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    _, objects = run_train(compose_config("train", pose_run(dances, tmp_path)))
    summary = json.loads((tmp_path / "summary.json").read_text())
    # a smooth motion: the LSTM forecasts the next pose clearly better than holding the last one
    assert summary["val/next_mse"] < MAX_REPEAT_RATIO * summary["val/next_mse_repeat"], summary
    # liveliness in joint space over 4 s (120 steps at 30 fps) against the real motion and baselines
    assert summary["test/liveliness120_ratio_repeat"] == 0.0
    assert 0 < summary["test/liveliness120_ratio"] and "val/liveliness_ratio_ridge" in summary

    model, metadata, family = load_model(summary["best_ckpt"], "eval")
    assert family is FAMILIES["pose_lstm"] and isinstance(model, PoseLSTMModule)
    assert model.hparams.preprocessing == {"kind": "2d", "fps": 30.0, "normalise": True}
    assert metadata["data"]["_target_"] == "deepdance.data.pose.motion.PoseMotionDataModule"
    data = objects["datamodule"]
    row = data.manifest.iloc[1]
    # a seed read from an annotation file, by the checkpoint's data settings, is the data's own view
    settings = PoseMotionConfig(**{**metadata["data"], "root": str(dances)})
    from_file = seed_poses(row.path, int(row.view), settings)
    np.testing.assert_array_equal(from_file.reshape(len(from_file), 34), data.videos[1])
    seed = from_file[:20]
    dance_poses = rollout_poses(model, seed, steps=15)
    assert dance_poses.shape == (35, 17, 2) and np.isfinite(dance_poses).all()
    np.testing.assert_array_equal(dance_poses[:20], seed)
    # the checkpoint dances as the trained model does
    trained = objects["model"].eval()
    np.testing.assert_allclose(rollout_poses(trained, seed, steps=15), dance_poses, atol=1e-5)
    with pytest.raises(DeepdanceError, match="not genre-conditioned"):
        rollout_poses(model, seed, 5, genre="BR")
    with pytest.raises(DeepdanceError, match=r"expected \(T, 17, 2\)"):
        rollout_poses(model, seed.reshape(20, 34), 5)
    with pytest.raises(DeepdanceError, match="seed_view=2: .* holds 2 view"):
        seed_poses(row.path, 2, settings)


def test_genre_conditioned_rollouts(dances: Path) -> None:
    torch.set_num_threads(1)
    data = datamodule(dances, context_frames=4)
    optimizer = {"_target_": "torch.optim.Adam", "lr": 0.01}
    config = PoseLSTMConfig(optimizer=optimizer, look_back=4, condition="genre", net={"hidden_sizes": [8]})
    model = PoseLSTMModule(config)
    model.use_sequences(data.sequences(), fit=True)
    # the train split holds BR, PO and (normalized_2d) HO, in AIST++ genre order
    assert model.genre_condition.trained_names() == ["BR", "PO", "HO"]
    seed = data.videos[0][:4].reshape(4, 17, 2)
    assert rollout_poses(model, seed, 3, genre="PO").shape == (7, 17, 2)
    with pytest.raises(DeepdanceError, match="genre=KR is not a genre this checkpoint learned"):
        rollout_poses(model, seed, 3, genre="KR")
    # a model trained on 3-d poses refuses 2-d data in one line
    other = PoseLSTMModule(config.model_copy(update={"kind": "3d"}))
    with pytest.raises(DeepdanceError, match=r"data.kind=2d \(pose model: 3d\)"):
        other.use_sequences(data.sequences(), fit=True)


def test_default_experiment_reads_the_synthetic_export(tmp_path: Path) -> None:
    """With no override: the synthetic dancers' annotations (data.root=null), split by sequence;
    the start-up check passes without exporting anything."""
    cfg = compose_config("train", ["experiment=pose_dance", f"paths.data_dir={tmp_path}"])
    assert cfg.data.root is None and cfg.data.split == "sequence" and cfg.data.synthetic is not None
    assert cfg.data.synthetic_root == f"{tmp_path}/synthetic_annotations"
    assert cfg.model._target_ == "deepdance.models.pose_lstm_module.PoseLSTMModule"
    assert cfg.data.target_frames == cfg.model.rollout_loss_steps == 10 and cfg.model.auto_condition == 5
    check_data(cfg.data)
    check_model(cfg)
    assert not (tmp_path / "synthetic_annotations").exists()
    mismatched = compose_config("train", ["experiment=pose_dance", "data.target_frames=3"])
    with pytest.raises(DeepdanceError, match="data.target_frames=3 must equal model.rollout_loss_steps=10"):
        check_model(mismatched)
    bad = compose_config("train", ["experiment=pose_dance", "data.root=/no/such/folder"])
    with pytest.raises(DeepdanceError, match="data.root=/no/such/folder"):
        check_data(bad.data)
