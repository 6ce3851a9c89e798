"""python -m deepdance.extract_poses: what it writes (AIST++ keypoints2d, masks, the MMAction2
pickle) into an owned folder, what it refuses before writing anything, and the real MediaPipe
backend on synthetic RGB renders with known joints and masks (skipped without the pose extra)."""

from __future__ import annotations

import importlib.util
import json
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from deepdance.config.base import parse
from deepdance.config.pose import PoseConfig
from deepdance.data.aist.annotations.keypoints import load_keypoints2d
from deepdance.data.video.writer import write_mp4
from deepdance.extract_poses import extract_poses
from deepdance.pose import backends
from deepdance.pose.skeleton import torso_length
from deepdance.pose.video_poses import estimate_video
from tests.helpers.runs import REPO, run_cli
from tests.test_pose_frontend import BlobPose, blob_video

HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
needs_mediapipe = pytest.mark.skipif(
    not HAS_MEDIAPIPE, reason='the pose extra is not installed (make install, or pip install -e ".[pose]")'
)
BR = "gBR_sBM_c01_d04_mBR0_ch01"
KR = "gKR_sBM_c01_d28_mKR0_ch01"


@pytest.fixture(scope="module")
def hydra_conf() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


@pytest.fixture
def run(hydra_conf: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict]:
    """The extract_poses task in this process, with the fake backend (``pose.backend=blob``)
    plugged in as a user would plug in their own; returns its results."""
    monkeypatch.setitem(backends.BACKENDS, "blob", lambda config: BlobPose())

    def call(*overrides: str) -> dict:
        cfg: DictConfig = compose(
            config_name="extract_poses",
            overrides=[
                "pose.backend=blob",
                "pose.batch_size=4",
                f"pose.store_dir={tmp_path / 'store'}",
                f"paths.output_dir={tmp_path / 'run'}",
                *overrides,
            ],
        )
        return extract_poses(cfg)[0]

    return call


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    blob_video(folder / f"{BR}.mp4", [True, True, False, True, True, True, False, True])
    blob_video(folder / f"{KR}.mp4", [True] * 6, x0=10)
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_writes_aist_keypoints2d_masks_and_the_mmaction_pickle(
    run: Callable, videos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    results = run(f"video={videos}", f"out={out}", "format=mmaction")
    assert results["videos"][BR] == {"frames": 8, "found": 6, "size": [64, 64]}
    keypoints = load_keypoints2d(out / "keypoints2d" / f"{BR}.pkl")
    assert keypoints.keypoints.shape == (1, 8, 17, 3) and keypoints.det_scores.shape == (1, 8)
    assert keypoints.landmarks is not None and keypoints.landmarks.shape == (1, 8, 5, 3)
    np.testing.assert_array_equal(keypoints.timestamps, np.arange(8) * 100000)
    # frames 2 and 6 had nobody: NaN x, y, confidence 0, det_scores 0
    for frame in (2, 6):
        assert np.isnan(keypoints.keypoints[0, frame, :, :2]).all()
        assert (keypoints.keypoints[0, frame, :, 2] == 0).all() and keypoints.det_scores[0, frame] == 0
    assert np.isfinite(keypoints.keypoints[0, [0, 1, 3, 4, 5, 7]]).all()
    with np.load(out / "masks" / f"{BR}.npz") as masks:
        assert masks["masks"].shape == (8, 64, 64) and masks["masks"].dtype == np.uint8
        assert masks["masks"][2].sum() == 0 and masks["masks"][0].sum() > 300
        np.testing.assert_array_equal(masks["frame_indices"], np.arange(8))
    with open(out / "mmaction.pkl", "rb") as handle:
        skeletons = pickle.load(handle)
    assert [a["frame_dir"] for a in skeletons["annotations"]] == [BR, KR]
    assert [a["label"] for a in skeletons["annotations"]] == [0, 7]
    assert skeletons["annotations"][1]["keypoint"].shape == (1, 6, 17, 2)
    assert sorted(skeletons["split"]["all"]) == [BR, KR]
    record = json.loads((out / "extract_poses.json").read_text())
    assert set(record["files"]) == {
        f"keypoints2d/{BR}.pkl",
        f"keypoints2d/{KR}.pkl",
        f"masks/{BR}.npz",
        f"masks/{KR}.npz",
        "mmaction.pkl",
    }
    # nothing was written beside the videos
    assert sorted(p.name for p in videos.iterdir()) == [f"{BR}.mp4", f"{KR}.mp4"]


def test_a_second_run_replaces_its_own_files_but_never_a_foreign_one(
    run: Callable, videos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(f"video={videos}", f"out={out}")
    run(f"video={videos}", f"out={out}", "pose.smoothing.method=savgol")
    (out / "masks" / f"{BR}.npz").unlink()
    stray = out / "keypoints2d" / "mine.txt"
    stray.write_text("kept")
    before = tree(out)
    foreign = tmp_path / "foreign"
    (foreign / "keypoints2d").mkdir(parents=True)
    (foreign / "keypoints2d" / f"{KR}.pkl").write_bytes(b"someone else's")
    with pytest.raises(SystemExit) as caught:
        run(f"video={videos}", f"out={foreign}")
    assert caught.value.code == 2
    assert tree(foreign) == {f"keypoints2d/{KR}.pkl": b"someone else's"}
    assert tree(out) == before


def test_an_out_that_holds_the_videos_is_refused_and_left_untouched(
    run: Callable, videos: Path, capsys: pytest.CaptureFixture
) -> None:
    before = tree(videos)
    for out in (videos, videos.parent):
        with pytest.raises(SystemExit) as caught:
            run(f"video={videos}", f"out={out}")
        assert caught.value.code == 2
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith(f"error: out={out}: holds the input video ")
        assert "never writes beside the input videos" in line
    assert tree(videos) == before


def test_a_video_with_nobody_is_named_and_nothing_is_written(
    run: Callable, videos: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    empty = blob_video(videos / "gPO_sBM_c01_d06_mPO0_ch01.mp4", [False] * 5)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as caught:
        run(f"video={videos}", f"out={out}")
    assert caught.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"error: {empty}: nobody found in any of its 5 frames; nothing was written to out={out}"
    assert not out.exists()


def test_one_video_file_and_frames_at_a_rate(run: Callable, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(f"video={videos / f'{KR}.mp4'}", f"out={out}", "pose.fps=5")
    keypoints = load_keypoints2d(out / "keypoints2d" / f"{KR}.pkl")
    np.testing.assert_array_equal(keypoints.timestamps, [0, 200000, 400000])
    assert sorted(p.name for p in (out / "keypoints2d").iterdir()) == [f"{KR}.pkl"]


# ---------------------------------------------------------------------------- real MediaPipe


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path, object]]:
    """One synthetic dancer rendered in RGB at 256 px over each background, 12 frames at 10 fps."""
    rgb = pytest.importorskip("deepdance.data.synthetic.rgb")
    from deepdance.data.synthetic.dataset import video_jobs
    from deepdance.data.synthetic.settings import SyntheticConfig

    config = SyntheticConfig(dancers_per_genre=3, cameras=1, musics=1, seconds=1.2, fps=10, size=256)
    job = video_jobs(config)[1]
    root = tmp_path_factory.mktemp("rgb")
    found = []
    for background in rgb.BACKGROUNDS:
        render = rgb.render_rgb(job, config, background)
        path = write_mp4(root / background / job.name.filename(), render.frames, fps=config.fps, crf=12)
        found.append((background, path, render))
    return found


@needs_mediapipe
def test_mediapipe_finds_the_synthetic_dancer_over_every_background(renders: list) -> None:
    config = parse(PoseConfig, {"smoothing": {"method": "none"}}, "pose")
    estimator = backends.build_estimator(config)
    try:
        for background, path, render in renders:
            start = time.perf_counter()
            poses = estimate_video(path, config, estimator=estimator)
            ms = (time.perf_counter() - start) / len(poses) * 1000
            found = poses.found
            truth = render.keypoints
            distance = np.linalg.norm(poses.keypoints[found, :, :2] - truth[found, :, :2], axis=-1)
            pck = (distance < 0.2 * torso_length(truth[found, :, :2])[:, None]).mean()
            masks, truth_masks = poses.masks[found].astype(bool), render.masks[found]
            iou = (masks & truth_masks).sum(axis=(1, 2)) / np.maximum(
                (masks | truth_masks).sum(axis=(1, 2)), 1
            )
            print(
                f"{background}: found {found.mean():.2f}, PCK@0.2 {pck:.3f}, mask IoU {iou.mean():.3f}, "
                f"{ms:.0f} ms/frame"
            )
            assert found.mean() >= 0.9, background
            assert pck >= 0.8, background
            assert iou.mean() >= 0.8, background
    finally:
        estimator.close()


@needs_mediapipe
def test_mediapipe_follows_a_real_photograph_of_a_person(tmp_path: Path) -> None:
    """matplotlib's sample portrait (Grace Hopper), shifted 2 px right per frame: the nose follows."""
    from matplotlib import cbook
    from PIL import Image

    image = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    video = write_mp4(
        tmp_path / "portrait.mp4", np.stack([np.roll(image, 2 * i, axis=1) for i in range(6)]), 10.0
    )
    poses = estimate_video(video, parse(PoseConfig, {"smoothing": {"method": "none"}}, "pose"))
    assert poses.found.all() and poses.size == (512, 600)
    nose = poses.keypoints[:, 0]
    # the face is at about x 270, y 225 in the first frame, then moves right 2 px a frame
    assert abs(nose[0, 0] - 270) < 25 and abs(nose[0, 1] - 225) < 25 and (nose[:, 2] > 0.9).all()
    assert 6 <= nose[-1, 0] - nose[0, 0] <= 14
    assert poses.masks[:, 225, int(nose[0, 0])].all() and not poses.masks[:, 5, 5].any()


@pytest.mark.slow
@needs_mediapipe
def test_the_real_command_writes_files_and_names_a_video_with_nobody(renders: list, tmp_path: Path) -> None:
    _, path, render = renders[0]
    out = tmp_path / "out"
    store = f"pose.store_dir={tmp_path / 'store'}"
    result = run_cli(
        "deepdance.extract_poses",
        f"video={path}",
        f"out={out}",
        store,
        f"hydra.run.dir={tmp_path / 'run'}",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    keypoints = load_keypoints2d(out / "keypoints2d" / f"{path.stem}.pkl")
    assert keypoints.keypoints.shape == (1, len(render.frames), 17, 3)
    assert keypoints.landmarks.shape == (1, len(render.frames), 33, 3)
    empty = write_mp4(tmp_path / "empty" / "room.mp4", np.full((6, 128, 128, 3), 200, np.uint8), 10.0)
    result = run_cli(
        "deepdance.extract_poses",
        f"video={empty}",
        f"out={tmp_path / 'out2'}",
        store,
        f"hydra.run.dir={tmp_path / 'run2'}",
        timeout=300,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: {empty}: nobody found in any of its 6 frames")
    )
    assert not (tmp_path / "out2").exists()
