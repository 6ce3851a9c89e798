"""``python -m deepdance.predict`` with a skeleton genre classifier: from AIST++ keypoints2d files
and from videos (pose front end -> keypoints -> model), and the refusals, each one line with
nothing written.

A tiny PoseClassifier is trained here in a second on dancers whose genres differ only in tempo
(tests/helpers/poses.py), then saved as train saves it (weights, hyper-parameters, the deepdance
metadata) and read back through the model registry, as predict reads any checkpoint. Videos get
their keypoints from a fake backend that replays a known dance; one test runs the real MediaPipe
on a synthetic RGB render."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from deepdance.config.pose_data import POSE_DATA
from deepdance.config.pose_model import POSE_CLASSIFIER, PoseClassifierConfig
from deepdance.data.aist.annotations import Keypoints2D, load_keypoints2d, write_keypoints3d
from deepdance.data.pose.normalise import normalise_sequence, window_features
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.data.video.writer import write_mp4
from deepdance.models.pose_module import PoseClassifier, predict_sequence
from deepdance.models.registry import load_model
from deepdance.pose import backends
from deepdance.pose.estimator import Person
from tests.helpers.models import save_like_train
from tests.helpers.poses import FPS, write_dance_folder

GENRES = ("BR", "PO", "LO")
DANCERS = 4
NUM_FRAMES = 12
DATA = {
    "_target_": POSE_DATA,
    "root": "unused",
    "genres": list(GENRES),
    "num_frames": NUM_FRAMES,
    "test_clips": 2,
}


def held_out(name: str) -> bool:
    """The last dancer of each genre is never trained on (dancer ids run genre by genre)."""
    return int(name.split("_d")[1][:2]) % DANCERS == 0


def train_tiny(files: list[Path], steps: int = 60) -> PoseClassifier:
    """A small PoseClassifier fitted on one random window per view per step."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    config = PoseClassifierConfig(
        optimizer={"_target_": "torch.optim.Adam", "lr": 0.01},
        class_names=list(GENRES),
        encoder={"hidden": [32]},
        head={"gru_sizes": [32], "dense": 16, "dropout": 0.0},
    )
    model = PoseClassifier(config)
    sampler = ClipSampler(NUM_FRAMES, "exact", 1)
    sequences = [
        (normalise_sequence(view[..., :2], view[..., 2], 0.1), GENRES.index(path.name[1:3]))
        for path in files
        for view in load_keypoints2d(path).keypoints
    ]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(steps):
        windows = [
            window_features(seq, sampler.offset_indices(len(seq), [rng.uniform()])[0][0])
            for seq, _ in sequences
        ]
        poses = torch.from_numpy(np.stack(windows))
        labels = torch.tensor([label for _, label in sequences])
        loss = torch.nn.functional.cross_entropy(
            model(poses, torch.ones(poses.shape[:2], dtype=torch.bool)), labels
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def metadata_checkpoint(path: Path, target: str, data: dict[str, Any]) -> str:
    """A checkpoint holding only what the start-up checks read (they refuse before any load)."""
    torch.save({"state_dict": {}, "deepdance": {"model_target": target, "data": data}}, path)
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = write_dance_folder(tmp_path_factory.mktemp("dances"), GENRES, dancers_per_genre=DANCERS)
    files = sorted((root / "keypoints2d").glob("*.pkl"))
    torch.set_num_threads(1)
    model = train_tiny([f for f in files if not held_out(f.name)])
    ckpt = save_like_train(model, root.parent / "pose.ckpt", POSE_CLASSIFIER, DATA)
    return {"root": root, "ckpt": ckpt, "test": [f for f in files if held_out(f.name)]}


def predict_cfg(ckpt: Path | str, video: Path | str, tmp_path: Path, **extra: Any) -> Any:
    return OmegaConf.create(
        {
            "ckpt_path": str(ckpt),
            "video": str(video),
            "output": str(tmp_path / "predictions.json"),
            "clips": None,
            "top": 3,
            "device": "cpu",
            "paths": {"output_dir": str(tmp_path / "run")},
            "pose": {"store_dir": str(tmp_path / "poses"), "batch_size": 16, "smoothing": {"method": "none"}},
            **extra,
        }
    )


def run_predict(cfg: Any) -> dict[str, Any]:
    from deepdance.predict import predict

    payload, _ = predict(cfg)
    return payload


def refused(cfg: Any, capsys: pytest.CaptureFixture) -> str:
    """The one ``error:`` line of a refused predict (exit code 2), nothing written to ``output``."""
    from deepdance.predict import predict

    with pytest.raises(SystemExit) as stopped:
        predict(cfg)
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in "\n".join(lines)
    assert not Path(cfg.output).exists()
    return lines[-1]


# ----------------------------------------------------------------------------- keypoints2d files
def test_a_keypoints2d_file_of_a_held_out_dancer_ranks_its_genre_first(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    path = trained["test"][0]
    payload = run_predict(predict_cfg(trained["ckpt"], path, tmp_path))
    (row,) = payload["videos"]
    assert row["error"] is None and row["true_genre"] == path.name[1:3]
    assert row["genres"][0]["genre"] == row["true_genre"], row["genres"]
    # frames and rate from the file's timestamps; a file has no frame size
    assert (row["frames"], row["fps"], row["size"]) == (60, float(FPS), None)
    # the checkpoint's windows: data.test_clips when clips is unset, every view averaged
    assert payload["clips"] == 2 and payload["num_frames"] == NUM_FRAMES
    model, metadata, _ = load_model(trained["ckpt"], "predict")
    expected = predict_sequence(model, load_keypoints2d(path), metadata["data"])
    assert [g["probability"] for g in row["genres"]] == pytest.approx(
        sorted(expected, reverse=True), abs=1e-4
    )
    assert json.loads((tmp_path / "predictions.json").read_text())["videos"] == payload["videos"]


def test_an_annotation_folder_reads_keypoints2d_only(trained: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "annotations"
    (folder / "keypoints2d").mkdir(parents=True)
    for path in trained["test"]:
        (folder / "keypoints2d" / path.name).write_bytes(path.read_bytes())
    # keypoints3d/ beside it is not a prediction input
    write_keypoints3d(folder / "keypoints3d" / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", np.zeros((5, 17, 3)))
    payload = run_predict(predict_cfg(trained["ckpt"], folder, tmp_path, clips=1))
    rows = payload["videos"]
    # 3 genres x 1 held-out dancer x 2 musics
    assert len(rows) == len(trained["test"]) == 2 * len(GENRES)
    assert all(r["genres"][0]["genre"] == r["true_genre"] for r in rows), rows


# ----------------------------------------------------------------------------- videos (front end)
class ReplayPose:
    """A fake backend that finds one dancer per frame at the next frames of ``keypoints``
    (N, 17, 3), from the first again after ``reset()``; ``None`` keypoints: nobody, ever."""

    name = "replay"

    def __init__(self, keypoints: np.ndarray | None) -> None:
        self.keypoints, self.next, self.frames_seen = keypoints, 0, 0

    def settings(self) -> dict:
        return {}

    def reset(self) -> None:
        self.next = 0

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        self.frames_seen += len(frames)
        found = []
        for _ in frames:
            if self.keypoints is None:
                found.append([])
                continue
            points = self.keypoints[self.next]
            self.next += 1
            box = np.array([*points[:, :2].min(0), *points[:, :2].max(0)], np.float32)
            found.append([Person(points, box, 0.9, None, np.zeros((0, 3), np.float32))])
        return found

    def close(self) -> None:
        pass


def plain_video(path: Path, frames: int, size: tuple[int, int] = (64, 48)) -> Path:
    width, height = size
    return write_mp4(path, np.full((frames, height, width, 3), 100, np.uint8), fps=float(FPS))


def test_a_video_goes_through_the_front_end_then_the_model(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dance = next(p for p in trained["test"] if p.name.startswith("gPO"))
    keypoints = load_keypoints2d(dance).keypoints[0]  # (60, 17, 3): one camera's view
    fake = ReplayPose(keypoints)
    monkeypatch.setattr(backends, "build_estimator", lambda config: fake)
    video = plain_video(tmp_path / "videos" / "my dance.mp4", len(keypoints))
    cfg = predict_cfg(trained["ckpt"], video, tmp_path, clips=1)
    (row,) = run_predict(cfg)["videos"]
    assert row["error"] is None and row["true_genre"] is None
    assert (row["frames"], row["fps"], row["size"]) == (60, float(FPS), "64x48")
    assert row["genres"][0]["genre"] == "PO", row["genres"]
    # exactly the model on those keypoints as one view
    model, metadata, _ = load_model(trained["ckpt"], "predict")
    one_view = Keypoints2D(keypoints[None], np.ones((1, 60), np.float32), np.arange(60) * 33_333)
    expected = predict_sequence(model, one_view, {**metadata["data"], "test_clips": 1})
    assert [g["probability"] for g in row["genres"]] == pytest.approx(
        sorted(expected, reverse=True), abs=1e-4
    )
    # the pose store keeps the backend's output: a second predict runs no frame through it
    assert fake.frames_seen == 60
    assert run_predict(cfg)["videos"][0]["genres"] == row["genres"]
    assert fake.frames_seen == 60 and len(list((tmp_path / "poses").glob("*/key.json"))) == 1


def test_a_folder_of_videos_and_keypoints_files_gives_one_row_each(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dance = next(p for p in trained["test"] if p.name.startswith("gLO"))
    monkeypatch.setattr(
        backends, "build_estimator", lambda config: ReplayPose(load_keypoints2d(dance).keypoints[1])
    )
    folder = tmp_path / "inputs"
    plain_video(folder / "gLO_sBM_c01_d12_mLO0_ch01.mp4", 60)
    other = next(p for p in trained["test"] if p.name.startswith("gBR"))
    (folder / other.name).write_bytes(other.read_bytes())
    rows = {
        Path(r["video"]).suffix: r
        for r in run_predict(predict_cfg(trained["ckpt"], folder, tmp_path))["videos"]
    }
    assert set(rows) == {".mp4", ".pkl"}
    assert rows[".mp4"]["true_genre"] == rows[".mp4"]["genres"][0]["genre"] == "LO"
    assert rows[".pkl"]["true_genre"] == rows[".pkl"]["genres"][0]["genre"] == "BR"


# ----------------------------------------------------------------------------- refusals
def test_a_video_where_nobody_is_found_is_one_line_naming_it(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(backends, "build_estimator", lambda config: ReplayPose(None))
    video = plain_video(tmp_path / "videos" / "empty.mp4", 20)
    line = refused(predict_cfg(trained["ckpt"], video, tmp_path), capsys)
    assert line.startswith(f"error: {video}: nobody found in any of its 20 frames")


def test_without_the_pose_extra_videos_are_refused_and_keypoints_files_still_work(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # None in sys.modules makes `import mediapipe` raise ImportError
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    video = plain_video(tmp_path / "videos" / "dance.mp4", 10)
    line = refused(predict_cfg(trained["ckpt"], video, tmp_path), capsys)
    assert 'pip install -e ".[pose]"' in line
    assert not (tmp_path / "poses").exists()
    (row,) = run_predict(predict_cfg(trained["ckpt"], trained["test"][0], tmp_path))["videos"]
    assert row["error"] is None


def test_keypoints_for_a_video_model_and_a_3d_pose_model_are_refused_before_loading(
    trained: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from deepdance.config.model import CLASSIFIER

    path = trained["test"][0]
    video_model = metadata_checkpoint(
        tmp_path / "classifier.ckpt", CLASSIFIER, {"num_frames": 8, "img_size": 64}
    )
    line = refused(predict_cfg(video_model, path, tmp_path), capsys)
    assert (
        f"video={path}: a keypoints2d file, but ckpt_path={video_model} is a video genre classifier" in line
    )
    line = refused(predict_cfg(video_model, path.parent, tmp_path), capsys)
    assert f"video={path.parent}: holds keypoints2d files and no videos" in line
    pose3d = metadata_checkpoint(tmp_path / "pose3d.ckpt", POSE_CLASSIFIER, {**DATA, "kind": "3d"})
    line = refused(predict_cfg(pose3d, path, tmp_path), capsys)
    assert f"ckpt_path={pose3d}: a skeleton genre classifier of keypoints3d (data.kind=3d)" in line


# ----------------------------------------------------------------------------- the real front end
@pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None,
    reason="mediapipe (the pose extra) is not installed: make install",
)
def test_mediapipe_front_end_on_a_synthetic_rgb_render(trained: dict[str, Any], tmp_path: Path) -> None:
    """The real MediaPipe, through the pose store, on a short 256-px synthetic RGB dancer: a row
    with the video's facts, from keypoints that lie on the dancer."""
    from deepdance.config.base import parse
    from deepdance.config.pose import PoseConfig
    from deepdance.data.synthetic.dataset import video_jobs
    from deepdance.data.synthetic.rgb import render_rgb
    from deepdance.data.synthetic.settings import SyntheticConfig
    from deepdance.pose.skeleton import torso_length
    from deepdance.pose.store import PoseStore

    config = SyntheticConfig(seed=0, dancers_per_genre=1, cameras=1, musics=1, seconds=1.0, fps=10, size=256)
    job = video_jobs(config)[0]
    render = render_rgb(job, config, "studio")
    video = write_mp4(tmp_path / "videos" / job.name.filename(), render.frames, fps=10.0)
    cfg = predict_cfg(trained["ckpt"], video, tmp_path, clips=1)
    (row,) = run_predict(cfg)["videos"]
    height, width = render.frames.shape[1:3]
    assert row["error"] is None and (row["frames"], row["size"]) == (10, f"{width}x{height}")
    assert row["true_genre"] == job.name.genre and len(row["genres"]) == len(GENRES)
    assert sum(g["probability"] for g in row["genres"]) == pytest.approx(1.0, abs=1e-3)
    # what the model read, from the store: the dancer, found in most frames, joints on the body
    poses = PoseStore(tmp_path / "poses").get(
        video, parse(PoseConfig, OmegaConf.to_container(cfg.pose), "pose")
    )
    found = poses.found
    assert found.sum() >= 8, f"MediaPipe found the dancer in {found.sum()} of 10 frames"
    error = np.linalg.norm(poses.keypoints[found, :, :2] - render.keypoints[found, :, :2], axis=-1)
    assert np.nanmedian(error / torso_length(render.keypoints[found, :, :2])[:, None]) < 0.3
