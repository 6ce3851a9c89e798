"""Silhouettes of real motion (``data=motion_silhouettes``): a body drawn between annotation
keypoints, frames sampled by time, missing joints, the datamodule on an annotation folder, and the
real AIST++ sample (skipped where ``../shared`` is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepdance.config.base import parse
from deepdance.config.data import SilhouetteDataConfig
from deepdance.data.silhouette import SilhouetteDataModule, SilhouetteSettings
from deepdance.data.silhouette.motion import MotionSilhouettes, annotation_views, read_keypoints
from deepdance.data.silhouette.motion_render import (
    MotionStyle,
    fill_short_gaps,
    render_keypoints,
    sample_frames,
)
from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import JOINT
from tests.helpers.poses import STANDING, write_dance_folder, write_pose_file

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "aist_annotations"
HEAD_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def standing(torso: float = 100.0, centre: tuple[float, float] = (960.0, 600.0)) -> np.ndarray:
    """(17, 3) pixels of a person standing, arms and legs straight down, torso ``torso`` px."""
    body = dict(STANDING)
    body.update(
        {
            "left_elbow": (0.35, -0.5),
            "right_elbow": (-0.35, -0.5),
            "left_wrist": (0.4, 0.0),
            "right_wrist": (-0.4, 0.0),
            "left_knee": (0.17, 0.5),
            "right_knee": (-0.17, 0.5),
            "left_ankle": (0.17, 1.0),
            "right_ankle": (-0.17, 1.0),
        }
    )
    points = np.ones((17, 3))
    for name, (x, y) in body.items():
        points[JOINT[name], :2] = np.array([x, y]) * torso + centre
    return points


def timestamps(frames: int, fps: float = 30.0, start_us: int = 0) -> np.ndarray:
    return (start_us + np.arange(frames) * 1e6 / fps).astype(np.int64)


def still(frames: int) -> np.ndarray:
    return np.repeat(standing()[None], frames, axis=0)


# ------------------------------------------------------------------------------------ drawing
def test_known_pose_fills_the_body_and_leaves_the_background() -> None:
    frames = render_keypoints(still(1), timestamps(1), MotionStyle(height=120, width=200, fps=None))
    assert frames.shape == (1, 120, 200) and frames.dtype == np.uint8
    frame = frames[0]
    # the figure is symmetric about its centre column and fitted to the frame's centre; the torso
    # spans the middle rows (the frame's centre lies between shoulders and hips)
    assert frame[55:66, 97:104].min() == 255
    # far background: the outer columns (the body is narrow, the frame 5:3) and the corners
    assert frame[:, :40].max() == 0 and frame[:, -40:].max() == 0
    # dancer = 255, background = 0 (a black dancer on white, thresholded)
    assert 0.03 < (frame / 255).mean() < 0.3


def test_head_and_limbs_are_drawn_where_their_joints_are() -> None:
    """Frame 1 lacks the head points and the left forearm for good (no later frame to interpolate
    towards): exactly those shapes go, in the same crop as frame 0."""
    keypoints = still(2)
    for name in (*HEAD_POINTS, "left_wrist"):
        keypoints[1, JOINT[name]] = [np.nan, np.nan, 0.0]
    frames = render_keypoints(keypoints, timestamps(2), MotionStyle(fps=None, max_gap_seconds=0.0))
    full, partial = frames[0] > 127, frames[1] > 127
    gone = full & ~partial
    rows, cols = np.nonzero(gone)
    # nothing appears; the head goes from the top of the figure
    assert not (partial & ~full).any()
    top_full, top_partial = np.nonzero(full.any(axis=1))[0][0], np.nonzero(partial.any(axis=1))[0][0]
    assert top_partial > top_full + 5
    assert rows.min() == top_full
    # the left forearm (image right: the dancer faces the camera) goes, the right one stays
    lower = rows > 60
    assert lower.any() and cols[lower].min() > 100
    assert full[60:, :100].sum() == partial[60:, :100].sum()


@pytest.mark.parametrize("size", [(120, 200), (48, 80), (64, 64), (100, 40)])
@pytest.mark.parametrize("follow", [False, True])
def test_frames_have_exactly_the_asked_size(size: tuple[int, int], follow: bool) -> None:
    height, width = size
    rng = np.random.default_rng(0)
    keypoints = still(30)
    # wander: a moving crop with follow
    keypoints[..., :2] += np.cumsum(rng.normal(0, 5, (30, 1, 2)), axis=0)
    frames = render_keypoints(
        keypoints, timestamps(30), MotionStyle(height=height, width=width, fps=10.0, follow=follow)
    )
    assert frames.shape == (10, height, width) and frames.dtype == np.uint8
    assert (frames > 0).any(axis=(1, 2)).all()


def test_missing_joints_never_crash() -> None:
    keypoints = still(20)
    # NaN joints, zero confidences, a frame nobody is in, a lone joint
    keypoints[3, JOINT["left_knee"], :2] = np.nan
    keypoints[5, :, 2] = 0.0
    keypoints[7] = np.nan
    keypoints[9, 1:] = np.nan
    keypoints[11, [JOINT["left_shoulder"], JOINT["right_hip"]]] = np.nan
    frames = render_keypoints(keypoints, timestamps(20), MotionStyle(fps=None, max_gap_seconds=0.0))
    assert frames.shape == (20, 120, 200)
    empty = ~(frames > 0).any(axis=(1, 2))
    assert empty[5] and empty[7] and not empty[0]
    # a lone nose is a head, nothing else
    assert 0 < (frames[9] > 127).sum() < (frames[0] > 127).sum() / 4
    # nobody in any frame: blank frames, not an error
    blank = render_keypoints(np.full((4, 17, 3), np.nan), timestamps(4), MotionStyle(fps=None))
    assert blank.shape == (4, 120, 200) and blank.max() == 0


def test_short_gaps_are_interpolated_and_long_ones_skip_the_limb() -> None:
    keypoints = still(30)
    wrist = JOINT["left_wrist"]
    keypoints[10:13, wrist, 2] = 0.01  # 3 frames under min_confidence: a 0.1 s gap
    keypoints[18:28, wrist] = np.nan  # 10 frames: a third of a second
    style = MotionStyle(fps=None, max_gap_seconds=0.2)
    frames = render_keypoints(keypoints, timestamps(30), style)
    # a still pose: the filled gap draws the same frame
    assert np.array_equal(frames[11], frames[0])
    assert (frames[20] > 127).sum() < (frames[0] > 127).sum()
    valid = np.ones((5, 1), dtype=bool)
    valid[1:4] = False
    points = np.arange(5, dtype=np.float64).reshape(5, 1, 1).repeat(2, axis=2) * 10
    assert np.allclose(fill_short_gaps(points, valid, 3)[:, 0, 0], [0, 10, 20, 30, 40])
    assert np.isnan(fill_short_gaps(points, valid, 2)[1:4]).all()


def test_frames_are_sampled_at_fps_from_the_timestamps() -> None:
    at_60 = timestamps(120, 60.0)
    assert sample_frames(at_60, 3.0).tolist() == [0, 20, 40, 60, 80, 100]
    assert sample_frames(at_60, None).tolist() == list(range(120))
    # timestamps count from the first one; start_seconds drops the beginning
    assert sample_frames(timestamps(120, 60.0, start_us=5_000_000), 3.0).tolist() == [0, 20, 40, 60, 80, 100]
    assert sample_frames(at_60, 3.0, start_seconds=0.5).tolist() == [30, 50, 70, 90, 110]
    # irregular timestamps: the nearest frame in time, not the k-th
    uneven = np.array([0, 100_000, 150_000, 330_000, 400_000, 700_000, 1_000_000])
    assert sample_frames(uneven, 10.0).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert sample_frames(uneven, 5.0).tolist() == [0, 2, 4, 5, 6]
    # the pose of each output frame is the source frame's: a marker moving 1 px per frame
    keypoints = still(120)
    keypoints[:, :, 0] += np.arange(120)[:, None] * 2.0
    frames = render_keypoints(keypoints, at_60, MotionStyle(fps=3.0))
    assert len(frames) == 6
    columns = [np.nonzero((f > 127).any(axis=0))[0].mean() for f in frames]
    assert np.all(np.diff(columns) > 0)


# --------------------------------------------------------------------------------- datamodule
def _config(root: Path, cache: Path, **kwargs: object) -> SilhouetteDataConfig:
    settings = {
        "source": "annotations",
        "root": str(root),
        "cache_dir": str(cache),
        "split": "sequence",
        "fps": 10.0,
        "height": 24,
        "width": 40,
        "context_frames": 4,
        "batch_size": 4,
    }
    return parse(SilhouetteDataConfig, {**settings, **kwargs}, "data")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 2 genres x 3 sequences (one dancer, 3 musics) x 2 views, 2 s at 30 fps
    return write_dance_folder(
        tmp_path_factory.mktemp("annotations"), ("BR", "PO"), dancers_per_genre=1, musics=3, views=2
    )


def test_datamodule_yields_windows_of_held_out_sequences(folder: Path, tmp_path: Path) -> None:
    datamodule = SilhouetteDataModule(_config(folder, tmp_path / "cache"))
    datamodule.prepare_data()
    datamodule.setup("fit")
    # every view is a video named as its camera's, 20 frames at 10 fps
    names = [path.name for path in datamodule.paths]
    assert len(names) == 12 and "gBR_sBM_c01_d01_mBR0_ch01" in names and "gBR_sBM_c02_d01_mBR0_ch01" in names
    assert all(video.shape == (20, 24, 40) for video in datamodule.videos)
    # whole sequences held out, both views together, one of each genre per split
    split_of = {}
    for split, segments in datamodule.segments.items():
        for segment in segments:
            sequence = names[segment.video].replace("_c01_", "_cAll_").replace("_c02_", "_cAll_")
            assert split_of.setdefault(sequence, split) == split
            assert (segment.start, segment.stop) == (0, 20)
    assert sorted(split_of.values()) == ["test", "test", "train", "train", "val", "val"]
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["frames"].shape == (4, 5, 24, 40) and batch["frames"].max() == 255
    assert set(batch["genre"].tolist()) <= {0, 1}
    assert len(datamodule.datasets["test"]) == 4 * (20 - 4)
    # a checkpoint learns the frames were drawn, and how
    assert datamodule.preprocessing["source"] == "annotations"
    assert datamodule.preprocessing["motion"]["limb_width"] == 0.2
    # cached: a second datamodule reads the same files and draws nothing
    cached = sorted((tmp_path / "cache").glob("*.npy"))
    assert len(cached) == 12
    mtimes = [path.stat().st_mtime_ns for path in cached]
    again = SilhouetteDataModule(_config(folder, tmp_path / "cache"))
    again.setup("fit")
    assert [path.stat().st_mtime_ns for path in cached] == mtimes
    assert np.array_equal(np.asarray(again.videos[0]), np.asarray(datamodule.videos[0]))
    # other drawing settings: other files
    other = SilhouetteDataModule(_config(folder, tmp_path / "cache", motion={"limb_width": 0.3}))
    other.setup("fit")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 24
    assert (np.asarray(other.videos[0]) > 127).sum() > (np.asarray(datamodule.videos[0]) > 127).sum()


def test_views_phases_and_a_single_file(folder: Path, tmp_path: Path) -> None:
    views = annotation_views(folder, views=["c02"])
    assert len(views) == 6 and all("_c02_" in view.path.name and view.view == 1 for view in views)
    # phases shift the sampling times inside the 30 fps keypoints
    config = _config(folder, tmp_path / "cache", split="chronological", phases=3, fps=10.0)
    datamodule = SilhouetteDataModule(config)
    datamodule.setup("fit")
    assert len(datamodule.videos) == 12 * 3
    source = MotionSilhouettes(_config(folder, tmp_path / "cache"))
    assert source.rate(source.paths()[0]) == pytest.approx(30.0, rel=1e-3)
    # one file as data.root: its views; a name that is not AIST++'s is kept, numbered by view
    loose = write_pose_file(tmp_path / "clip.pkl", np.repeat(still(12)[None], 2, axis=0).astype(np.float32))
    assert [view.path.name for view in annotation_views(loose)] == ["clip_view01", "clip_view02"]
    single = MotionSilhouettes(_config(loose, tmp_path / "c2", split="chronological"))
    settings = SilhouetteSettings.from_config(_config(loose, tmp_path).model_dump())
    # 12 frames at 30 fps: 0.4 s, 4 frames at 10 fps
    assert [single.load(path, settings).shape for path in single.paths()] == [(4, 24, 40)] * 2


def test_config_refusals(folder: Path, tmp_path: Path) -> None:
    from deepdance.config.validate import check_data

    node = {"_target_": "deepdance.data.silhouette.SilhouetteDataModule", "source": "annotations"}
    with pytest.raises(DeepdanceError, match=r"data.source=annotations needs data.root="):
        check_data(node)
    with pytest.raises(DeepdanceError, match=r"threshold_rule=person"):
        check_data({**node, "root": str(folder), "threshold_rule": "person"})
    with pytest.raises(DeepdanceError, match=r"data.root=.*no such"):
        check_data({**node, "root": str(tmp_path / "absent")})
    (tmp_path / "videos").mkdir()
    with pytest.raises(DeepdanceError, match=r"no keypoints2d/ or keypoints3d/ folder"):
        check_data({**node, "root": str(tmp_path / "videos")})
    with pytest.raises(DeepdanceError, match=r"data.motion.views"):
        check_data({**node, "root": str(folder), "motion": {"views": [7]}})
    assert check_data({**node, "root": str(folder), "split": "sequence"}).source == "annotations"


def test_data_motion_silhouettes_composes_into_deep_dance(folder: Path) -> None:
    from deepdance.config.validate import check_data
    from tests.helpers.runs import compose_config

    cfg = compose_config("train", ["experiment=deep_dance", "data=motion_silhouettes", f"data.root={folder}"])
    config = check_data(cfg.data)
    assert (config.source, config.split, config.root) == ("annotations", "sequence", str(folder))
    assert cfg.stages.ae.experiment == "deep_dance_ae"


# ----------------------------------------------------------------------- the real AIST++ sample
@pytest.mark.skipif(not (SAMPLE / "keypoints2d").is_dir(), reason=f"no AIST++ annotation sample at {SAMPLE}")
def test_real_sample_has_a_plausible_dancer_in_every_view() -> None:
    """The dancer's share of the frame, per view, as data=motion_silhouettes draws it (at 48x80,
    the experiments' size): the follow crop keeps 5-60 % in every view; the fixed crop too, except
    that floor work crossing the room is small in a fixed frame (2 % at least)."""
    views = annotation_views(SAMPLE)
    assert len(views) == 63
    for view in views:
        keypoints = read_keypoints(view.file)
        for follow, low in ((False, 0.02), (True, 0.05)):
            style = MotionStyle(height=48, width=80, fps=3.0, follow=follow)
            frames = render_keypoints(keypoints.keypoints[view.view], keypoints.timestamps, style)
            assert frames.shape == (36, 48, 80)
            share = (frames / 255.0).mean(axis=(1, 2))
            assert low <= share.mean() <= 0.6, (view.path.name, follow, share.mean())
            # someone in every frame
            assert (share > 0.005).all(), view.path.name


def test_preview_draws_every_view_of_an_annotation_folder(folder: Path, tmp_path: Path) -> None:
    from deepdance.silhouettes import preview
    from tests.helpers.runs import compose_config

    overrides = ["data=motion_silhouettes", f"video={folder}", f"out={tmp_path / 'out'}"]
    overrides += [f"data.cache_dir={tmp_path / 'cache'}", "data.height=24", "data.width=40", "data.fps=10"]
    metrics, info = preview(compose_config("silhouettes", overrides))
    assert metrics == {"videos": 12}
    for item in info["written"]:
        assert Path(item["mp4"]).is_file() and Path(item["png"]).is_file()
        assert item["frames"] == 20 and 0.02 < item["dancer"] < 0.6
    # the preview's frames are the training frames: read through the same cache
    datamodule = SilhouetteDataModule(_config(folder, tmp_path / "cache", context_frames=None))
    datamodule.setup("fit")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 12
