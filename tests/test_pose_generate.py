"""``python -m deepdance.generate`` with a pose-space dance generator (``experiment=pose_dance``):
end to end on a tiny model, from an annotation seed and from a video seed (pose front end, a
fake backend), both videos checked; and the refusals, each one line with nothing written.

The tiny model is fitted here in about a second (the data module's windows, a few Adam steps) and
saved as train saves it (weights, hyper-parameters, the deepdance metadata), then read back
through the registry as generate reads any checkpoint. tests/test_pose_dance.py trains one
through Hydra."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import decord
import numpy as np
import pytest
import torch

from deepdance.config.pose_motion import POSE_LSTM, PoseMotionConfig
from deepdance.data.aist.annotations import load_keypoints2d, write_keypoints3d
from deepdance.models.pose_generation import skeleton_path
from deepdance.models.pose_lstm_module import PoseLSTMModule
from deepdance.pose import backends
from tests.helpers.models import fit_tiny_pose_lstm, save_like_train
from tests.helpers.poses import write_dance_folder
from tests.helpers.runs import compose_config, run_generate, user_error
from tests.test_pose_predict import ReplayPose, plain_video

LOOK_BACK = 6
STEPS = 9
SIZE = (256, 256)


def fit_tiny(root: Path, condition: str | None = None) -> tuple[PoseLSTMModule, dict[str, Any]]:
    """A tiny generator fitted for 30 steps at 30 fps, and its data node."""
    return fit_tiny_pose_lstm(root, LOOK_BACK, 30, condition)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    torch.set_num_threads(1)
    root = write_dance_folder(tmp_path_factory.mktemp("dances"), ("BR", "PO"), dancers_per_genre=2, frames=60)
    model, data = fit_tiny(root)
    ckpt = save_like_train(model, root.parent / "pose_dance.ckpt", POSE_LSTM, data)
    files = sorted((root / "keypoints2d").glob("*.pkl"))
    return {"root": root, "ckpt": ckpt, "files": files, "data": data}


def generate_cfg(tiny: dict[str, Any], out: Path, *extra: str) -> Any:
    return compose_config(
        "generate",
        [
            f"ckpt_path={tiny['ckpt']}",
            f"out={out}",
            f"steps={STEPS}",
            f"hydra.run.dir={out.parent / 'run'}",
            f"pose.store_dir={out.parent / 'poses'}",
            "pose.smoothing.method=none",
            *extra,
        ],
    )


def frames_of(path: Path) -> np.ndarray:
    reader = decord.VideoReader(str(path))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def check_videos(out: Path) -> tuple[np.ndarray, np.ndarray]:
    """Both videos: seed + steps frames of SIZE, not blank, and not the same pictures."""
    silhouettes, skeleton = frames_of(out), frames_of(skeleton_path(out))
    for frames in (silhouettes, skeleton):
        assert frames.shape == (LOOK_BACK + STEPS, *SIZE, 3)
        # below the seed/generated bar every frame shows a body: dark and light pixels both
        body = frames[:, 20:].mean(-1)
        assert ((body < 60).mean((1, 2)) > 0.005).all() and ((body > 200).mean((1, 2)) > 0.005).all()
    # white dancers on black against dark bones on white
    assert silhouettes[:, 20:].mean() < 100 < skeleton[:, 20:].mean()
    # the dancer moves in the generated part
    assert np.abs(np.diff(silhouettes[LOOK_BACK:, 20:].astype(float), axis=0)).mean() > 0.1
    return silhouettes, skeleton


def test_generate_from_an_annotation_seed(tiny: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "dance.mp4"
    stats, objects = run_generate(generate_cfg(tiny, out, f"seed={tiny['files'][0]}", "seed_view=1"))
    assert stats["frames"] == LOOK_BACK + STEPS and stats["first_generated"] == LOOK_BACK
    check_videos(out)
    assert "6 seed + 9 generated poses" in capsys.readouterr().out
    # run_info.json as generate writes it for the latent LSTM
    assert json.loads((tmp_path / "run" / "run_info.json").read_text())["git"]
    # the seed is the file's view 1, its last look_back poses, as the data module reads it
    from deepdance.data.pose.motion import seed_poses

    seed = seed_poses(tiny["files"][0], 1, PoseMotionConfig(**tiny["data"]))[-LOOK_BACK:]
    np.testing.assert_allclose(objects["poses"][:LOOK_BACK], seed, atol=1e-6)
    # random: the mean pose held
    run_generate(generate_cfg(tiny, tmp_path / "random.mp4"))
    check_videos(tmp_path / "random.mp4")


def test_generate_from_a_video_seed(
    tiny: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keypoints = load_keypoints2d(tiny["files"][1]).keypoints[0]
    fake = ReplayPose(keypoints)
    monkeypatch.setattr(backends, "build_estimator", lambda config: fake)
    video = plain_video(tmp_path / "videos" / "my dance.mp4", len(keypoints))
    out = tmp_path / "out" / "dance.mp4"
    out.parent.mkdir()
    _, objects = run_generate(generate_cfg(tiny, out, f"seed={video}"))
    check_videos(out)
    assert fake.frames_seen == len(keypoints)
    # the video's dancer seeds exactly as the same keypoints from a file do
    from deepdance.data.pose.motion import seed_poses

    seed = seed_poses(tiny["files"][1], 0, PoseMotionConfig(**tiny["data"]))[-LOOK_BACK:]
    np.testing.assert_allclose(objects["poses"][:LOOK_BACK], seed, atol=1e-4)


def test_refusals_are_one_line_and_write_nothing(
    tiny: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    out = tmp_path / "dance.mp4"

    def refused(*extra: str) -> str:
        line = user_error(run_generate, generate_cfg(tiny, out, *extra), capsys)
        assert not out.exists() and not skeleton_path(out).exists()
        return line

    assert "genre=BR: this checkpoint is not genre-conditioned" in refused("genre=BR")
    keypoints3d = tmp_path / "keypoints3d" / "gBR_sBM_cAll_d01_mBR0_ch01.pkl"
    write_keypoints3d(keypoints3d, np.ones((20, 17, 3)))
    line = refused(f"seed={keypoints3d}")
    assert "a keypoints3d file, but ckpt_path=" in line and "is a 2d pose model" in line
    assert "seed_view=5: " in refused(f"seed={tiny['files'][0]}", "seed_view=5")
    monkeypatch.setattr(backends, "build_estimator", lambda config: ReplayPose(None))
    video = plain_video(tmp_path / "videos" / "empty.mp4", 12)
    assert f"{video}: nobody found in any of its 12 frames" in refused(f"seed={video}")
    # an existing out is never replaced, checked before the seed is read
    out.write_bytes(b"mine")
    line = user_error(run_generate, generate_cfg(tiny, out), capsys)
    assert "exists" in line and out.read_bytes() == b"mine" and not skeleton_path(out).exists()


def test_a_conditioned_model_dances_the_genre_asked_for(
    tiny: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    model, data = fit_tiny(tiny["root"], condition="genre")
    ckpt = save_like_train(model, tmp_path / "conditioned.ckpt", POSE_LSTM, data)
    conditioned = {**tiny, "ckpt": ckpt}
    stats, objects = run_generate(generate_cfg(conditioned, tmp_path / "po.mp4", "genre=PO"))
    assert stats["genre"] == "PO" and "in genre PO" in capsys.readouterr().out
    check_videos(tmp_path / "po.mp4")
    _, other = run_generate(generate_cfg(conditioned, tmp_path / "br.mp4", "genre=BR"))
    # one seed (the mean pose), two genres: two dances
    assert not np.allclose(objects["poses"][LOOK_BACK:], other["poses"][LOOK_BACK:])
    out = tmp_path / "kr.mp4"
    line = user_error(run_generate, generate_cfg(conditioned, out, "genre=KR"), capsys)
    assert "genre=KR is not a genre this checkpoint learned" in line and not out.exists()
