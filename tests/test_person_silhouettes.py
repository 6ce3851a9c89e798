"""Silhouettes from person masks (data.threshold_rule=person) and the crop that follows the dancer
(data.follow): the pure box and mask functions, then whole videos through a fake pose estimator
that returns known masks and keypoints, the cache key, and the preview CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from deepdance.data.silhouette.follow import (
    crop_resize,
    fill_gaps,
    follow_boxes,
    keypoint_boxes,
    moving_average,
    pad_to_aspect,
    window_frames,
)
from deepdance.data.silhouette.person import dancer_boxes, person_silhouettes
from deepdance.data.silhouette.preprocess import SilhouetteSettings
from deepdance.pose.estimator import Person


def test_padded_boxes_have_the_frame_aspect_exactly_and_keep_their_centre() -> None:
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 500, (50, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 400, (50, 2))], axis=1)
    for aspect in (200 / 120, 1.0, 0.5):
        padded = pad_to_aspect(boxes, margin=0.15, aspect=aspect)
        size = padded[:, 2:] - padded[:, :2]
        assert np.all(size[:, 0] / size[:, 1] == pytest.approx(aspect, rel=1e-12))
        np.testing.assert_allclose((padded[:, :2] + padded[:, 2:]) / 2, (boxes[:, :2] + boxes[:, 2:]) / 2)
        # the box and its margin (0.15 of its longer side) are inside the crop
        grow = 0.15 * (boxes[:, 2:] - boxes[:, :2]).max(axis=1, keepdims=True)
        assert np.all(padded[:, :2] <= boxes[:, :2] - grow + 1e-9)
        assert np.all(padded[:, 2:] >= boxes[:, 2:] + grow - 1e-9)


def test_gaps_are_interpolated_and_the_ends_held() -> None:
    values = np.array([[np.nan], [0.0], [np.nan], [np.nan], [3.0], [np.nan]])
    assert fill_gaps(values)[:, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="no frame"):
        fill_gaps(np.full((4, 4), np.nan))


def test_moving_average_keeps_length_a_still_box_and_a_straight_path() -> None:
    still = np.full((9, 2), 7.0)
    assert np.array_equal(moving_average(still, 5), still)
    line = np.arange(20, dtype=float)[:, None]
    smoothed = moving_average(line, 5)
    assert smoothed.shape == line.shape
    # a centred window leaves a straight path where it is, up to its ends
    np.testing.assert_allclose(smoothed, line)
    np.testing.assert_allclose(moving_average(line[:3], 9), line[:3])
    assert window_frames(1.0, 3.0) == 3 and window_frames(1.0, 30.0) == 31 and window_frames(0.0, 30.0) == 1


def test_smoothing_reduces_jitter_of_the_crop() -> None:
    rng = np.random.default_rng(1)
    n = 120
    centre_x = np.linspace(100, 500, n)
    jitter = rng.normal(0, 12, (n, 2))
    boxes = np.stack([centre_x - 40, np.full(n, 100.0), centre_x + 40, np.full(n, 300.0)], axis=1)
    noisy = boxes + np.concatenate([jitter, jitter + rng.normal(0, 6, (n, 2))], axis=1)
    aspect = 200 / 120
    truth = pad_to_aspect(boxes, 0.15, aspect)
    raw = pad_to_aspect(noisy, 0.15, aspect)
    steady = follow_boxes(noisy, window=9, margin=0.15, aspect=aspect)

    def error(crops: np.ndarray) -> float:
        inner = slice(5, -5)
        return float(np.abs((crops - truth)[inner]).mean())

    assert error(steady) < 0.5 * error(raw)
    # frame-to-frame steps (jitter) shrink too
    assert np.abs(np.diff(steady, axis=0)).mean() < 0.3 * np.abs(np.diff(raw, axis=0)).mean()


def test_keypoint_box_uses_confident_points_and_falls_back_to_the_mask() -> None:
    keypoints = np.zeros((3, 17, 3), np.float32)
    keypoints[0, :, :2] = [[10 + k, 20 + 2 * k] for k in range(17)]
    keypoints[0, :, 2] = 0.9
    keypoints[0, 16] = [500, 500, 0.1]  # below the confidence: not in the box
    keypoints[1, :, :2] = np.nan  # nobody's keypoints: the mask's box instead
    keypoints[2, :, :2] = np.nan
    # masks at half the source size (100 x 80 source, w x h)
    masks = np.zeros((3, 40, 50), np.uint8)
    masks[1, 10:20, 5:15] = 1
    boxes = dancer_boxes(keypoints, masks, (100, 80), min_confidence=0.3)
    np.testing.assert_allclose(boxes[0], [10, 20, 25, 50])
    np.testing.assert_allclose(boxes[1], [10, 20, 30, 40])
    assert np.isnan(boxes[2]).all()
    assert np.isnan(keypoint_boxes(keypoints[:1], min_confidence=0.95)).all()


def test_person_rule_keeps_the_masks_and_the_follow_crop_centres_them() -> None:
    masks = np.zeros((2, 60, 100), np.uint8)
    masks[0, 10:50, 20:40] = 1
    masks[1, 10:50, 60:80] = 1
    settings = SilhouetteSettings.from_config({"threshold_rule": "person", "height": 30, "width": 50})
    whole = person_silhouettes(masks, settings, (100, 60))
    # the whole frame at half size: the masks themselves
    assert np.array_equal(whole > 127, masks[:, ::2, ::2] > 0)
    right_half = SilhouetteSettings.from_config({**settings.to_json(), "ignore_boxes": [[0, 50, 60, 100]]})
    hidden = person_silhouettes(masks, right_half, (100, 60))
    assert hidden[1].max() == 0 and np.array_equal(hidden[0], whole[0])
    crops = pad_to_aspect(dancer_boxes(np.full((2, 17, 3), np.nan), masks, (100, 60)), 0.1, 50 / 30)
    followed = person_silhouettes(masks, settings, (100, 60), crops)
    assert np.array_equal(followed[0], followed[1])  # same figure, wherever it stands
    rows, cols = np.nonzero(followed[0] > 127)
    assert abs(rows.mean() - 14.5) < 1 and abs(cols.mean() - 24.5) < 1
    assert rows.max() - rows.min() + 1 >= 0.8 * 30  # the figure fills the frame's height


def test_crop_outside_the_frame_is_background() -> None:
    mask = np.ones((10, 10), bool)
    out = crop_resize(mask, np.array([-10.0, 0.0, 10.0, 10.0]), 10, 20)
    assert out[:, :10].max() == 0 and out[:, 10:].min() == 255


# ----------------------------------------------------------------------------- whole videos
SOURCE_H, SOURCE_W, SOURCE_FPS = 180, 320, 12.0
FIGURE_H, FIGURE_W = 60, 44
# where each COCO-17 joint sits in the figure's box (fractions of width, height): head on top,
# wrists and ankles short of the box's edges, as a real body's keypoints are
JOINT_LAYOUT = np.array(
    [[0.5, 0.1], [0.4, 0.08], [0.6, 0.08], [0.3, 0.1], [0.7, 0.1], [0.2, 0.25], [0.8, 0.25], [0.15, 0.45]]
    + [[0.85, 0.45], [0.15, 0.6], [0.85, 0.6], [0.3, 0.55], [0.7, 0.55], [0.3, 0.75], [0.7, 0.75]]
    + [[0.3, 0.92], [0.7, 0.92]]
)


def figure_left(i: int, n: int) -> int:
    """The moving figure's left edge in frame ``i`` of ``n``: from the left of the frame to the right."""
    return int(round(10 + (SOURCE_W - FIGURE_W - 20) * i / (n - 1)))


@pytest.fixture(scope="module")
def moving_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dark upright figure crossing a light frame left to right (and bobbing), 36 frames at 12 fps;
    slow enough for the front end's tracker to link its boxes over a missed frame."""
    from deepdance.data.video.writer import write_mp4

    n = 36
    frames = np.full((n, SOURCE_H, SOURCE_W, 3), 235, np.uint8)
    for i in range(n):
        left, top = figure_left(i, n), 60 + int(round(10 * np.sin(i / 3)))
        frames[i, top : top + FIGURE_H, left : left + FIGURE_W] = 25
    folder = tmp_path_factory.mktemp("videos")
    return write_mp4(folder / "mover.mp4", frames, fps=SOURCE_FPS)


class BlobEstimator:
    """A fake PoseEstimator: the dark pixels of a frame are the person (its mask), its keypoints
    lie on the figure's box (``JOINT_LAYOUT``) with seeded jitter; ``missed`` calls find nobody."""

    name = "blob"

    def __init__(self, jitter: float = 2.0, missed: tuple[int, ...] = (), nobody: bool = False) -> None:
        self.jitter, self.missed, self.nobody = jitter, set(missed), nobody
        self.rng = np.random.default_rng(0)
        self.calls = 0

    def settings(self) -> dict:
        return {"jitter": self.jitter, "missed": sorted(self.missed)}

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        found = []
        for frame in frames:
            self.calls += 1
            dark = frame.mean(axis=-1) < 128
            if self.nobody or self.calls - 1 in self.missed or not dark.any():
                found.append([])
                continue
            rows, cols = np.nonzero(dark)
            box = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float32)
            xy = box[:2] + JOINT_LAYOUT * (box[2:] - box[:2]) + self.rng.normal(0, self.jitter, (17, 2))
            keypoints = np.concatenate([xy, np.full((17, 1), 0.9)], axis=1).astype(np.float32)
            found.append([Person(keypoints, box, 0.9, dark.astype(np.float32))])
        return found

    def close(self) -> None:
        pass


def settings_of(**values: object) -> SilhouetteSettings:
    return SilhouetteSettings.from_config({"fps": None, "height": 48, "width": 80, **values})


def centre_and_height(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: the figure's centroid x and y (fractions of the frame) and its height (fraction)."""
    xs, ys, heights = [], [], []
    for frame in frames:
        rows, cols = np.nonzero(frame > 127)
        xs.append(cols.mean() / frame.shape[1])
        ys.append(rows.mean() / frame.shape[0])
        heights.append((rows.max() - rows.min() + 1) / frame.shape[0])
    return np.array(xs), np.array(ys), np.array(heights)


@pytest.mark.parametrize("rule", ["person", "fixed"])
def test_follow_crop_keeps_a_moving_dancer_centred_and_filling_the_frame(
    moving_video: Path, tmp_path: Path, rule: str
) -> None:
    from deepdance.data.silhouette.cache import SilhouetteCache

    cache = SilhouetteCache(tmp_path, estimator=BlobEstimator(missed=(7,)))
    followed = cache.load(moving_video, settings_of(threshold_rule=rule, follow=True, follow_seconds=0.5))
    assert followed.shape == (36, 48, 80)
    # frame 7 found nobody: the person rule has no mask there; its crop is interpolated
    shown = [i for i in range(36) if rule == "fixed" or i != 7]
    x, y, height = centre_and_height(followed[shown])
    assert np.abs(x - 0.5).max() < 0.06 and np.abs(y - 0.5).max() < 0.08
    # the figure fills the frame's height (less the margin), wherever it stands
    assert height.min() > 0.65
    # without the crop it crosses the frame, small
    plain = SilhouetteCache(tmp_path, estimator=BlobEstimator()).load(
        moving_video, settings_of(threshold_rule=rule)
    )
    x_plain, _, height_plain = centre_and_height(plain)
    assert x_plain.max() - x_plain.min() > 0.7 and height_plain.max() < 0.4


def test_person_rule_gives_the_estimators_masks(moving_video: Path, tmp_path: Path) -> None:
    from deepdance.data.silhouette.follow import resize_mask
    from deepdance.data.silhouette.preprocess import extract_silhouettes, sampled_indices
    from deepdance.data.video.reader import open_video

    settings = settings_of(threshold_rule="person", fps=6.0)
    frames = extract_silhouettes(moving_video, settings, BlobEstimator())
    reader = open_video(moving_video)
    indices = sampled_indices(len(reader), SOURCE_FPS, 6.0)
    decoded = reader.get_batch(list(map(int, indices))).asnumpy()
    expected = np.stack([resize_mask(f.mean(axis=-1) < 128, 48, 80) for f in decoded])
    assert frames.shape == expected.shape == (18, 48, 80)
    assert np.array_equal(frames, expected)


def test_a_video_with_nobody_is_one_line(moving_video: Path, tmp_path: Path) -> None:
    from deepdance.data.silhouette.preprocess import extract_silhouettes
    from deepdance.errors import DeepdanceError

    for settings in (settings_of(threshold_rule="person"), settings_of(follow=True)):
        with pytest.raises(DeepdanceError, match="found nobody in any of its 36 sampled frames") as caught:
            extract_silhouettes(moving_video, settings, BlobEstimator(nobody=True))
        assert "\n" not in str(caught.value)


def test_cache_key_follows_the_person_and_follow_settings(
    moving_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepdance.data.silhouette.cache import cache_key
    from deepdance.pose import backends

    # a second registered backend (pose.backend names one of the registry's)
    monkeypatch.setitem(backends.BACKENDS, "other", lambda config: BlobEstimator())
    base = settings_of(threshold_rule="person")
    key = cache_key(moving_video, base)
    changed = [
        settings_of(),
        settings_of(threshold_rule="person", follow=True),
        settings_of(threshold_rule="person", follow=True, follow_margin=0.3),
        settings_of(threshold_rule="person", follow=True, follow_seconds=2.0),
        settings_of(threshold_rule="person", pose={"mask_threshold": 0.7}),
        settings_of(threshold_rule="person", pose={"smoothing": {"method": "none"}}),
        settings_of(threshold_rule="person", pose={"backend": "other"}),
    ]
    keys = [cache_key(moving_video, s) for s in changed]
    assert key not in keys and len(set(keys)) == len(keys)
    assert cache_key(moving_video, base, BlobEstimator()) != key
    jittery = cache_key(moving_video, base, BlobEstimator(jitter=3.0))
    assert jittery != cache_key(moving_video, base, BlobEstimator())
    # where the poses are stored, how many frames a batch holds: same frames, same key
    same = settings_of(threshold_rule="person", pose={"store_dir": "elsewhere", "batch_size": 4})
    assert cache_key(moving_video, same) == key
    # the front end's settings do not touch the other rules' frames
    other_backend = settings_of(pose={"backend": "other"})
    assert cache_key(moving_video, other_backend) == cache_key(moving_video, settings_of())
    # earlier settings keep their earlier keys: no new key in their payload
    earlier = "fps height width threshold_rule threshold polarity crop ignore_boxes start_seconds"
    assert set(settings_of().to_json()) == set(earlier.split())


# ----------------------------------------------------------------------------- the preview CLI
def written(out: Path) -> list[str]:
    """The files in ``out``, its record's lock file aside (``deepdance.utils.cache_io.file_lock``)."""
    return sorted(p.name for p in out.iterdir() if not p.name.endswith(".lock"))


def preview_overrides(video: Path, out: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        f"video={video}",
        f"out={out}",
        "data.fps=6",
        "data.height=48",
        "data.width=80",
        f"data.cache_dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        *extra,
    ]


def test_preview_writes_mp4_and_png_into_out_and_nothing_beside_the_videos(
    moving_video: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from deepdance.data.silhouette.cache import SilhouetteCache
    from deepdance.data.video.reader import open_video
    from deepdance.silhouettes import preview
    from tests.helpers.runs import compose_config, run_task

    folder = moving_video.parent
    before = sorted(folder.iterdir())
    out = tmp_path / "previews"
    person = ("data.threshold_rule=person", "data.follow=true", "strip_frames=5")
    cfg = compose_config("silhouettes", preview_overrides(folder, out, tmp_path, *person))
    for _ in range(2):  # a second run replaces its own previews
        result, _ = run_task(lambda c: preview(c, BlobEstimator()), cfg)
    assert result == {"videos": 1}
    assert written(out) == ["mover.mp4", "mover.png", "silhouettes.json"]
    assert sorted(folder.iterdir()) == before
    # the frames a run trains on (the same cache), black on white
    settings = settings_of(threshold_rule="person", follow=True, fps=6.0)
    trained = SilhouetteCache(tmp_path / "cache", estimator=BlobEstimator()).load(moving_video, settings)
    shown = open_video(out / "mover.mp4").get_batch(list(range(18))).asnumpy().mean(axis=-1)
    assert len(open_video(out / "mover.mp4")) == 18
    assert np.abs(shown - (255.0 - trained)).mean() < 8
    strip = np.asarray(Image.open(out / "mover.png"))
    # five frames in a row, each shown at 2x (at least 96 px tall), 2 px apart
    assert strip.shape[:2] == (96, 5 * 160 + 4 * 2)


@pytest.mark.parametrize("where", ["the videos' folder", "above it", "inside it"])
def test_preview_refuses_an_out_beside_above_or_inside_the_videos(
    moving_video: Path, tmp_path: Path, where: str
) -> None:
    from deepdance.config.validate import validate_silhouettes
    from deepdance.errors import DeepdanceError
    from tests.helpers.runs import compose_config

    folder = moving_video.parent
    before = sorted(folder.iterdir())
    out = {"the videos' folder": folder, "above it": folder.parent, "inside it": folder / "previews"}[where]
    cfg = compose_config("silhouettes", preview_overrides(folder, out, tmp_path))
    expected = f"out={out}: " + ("lies inside video=" if where == "inside it" else "holds the input video")
    with pytest.raises(DeepdanceError, match=re.escape(expected)) as caught:
        validate_silhouettes(cfg)
    assert "\n" not in str(caught.value)
    assert sorted(folder.iterdir()) == before


def test_preview_cli_writes_the_frames_of_a_run(moving_video: Path, tmp_path: Path) -> None:
    from tests.helpers.runs import run_cli

    out = tmp_path / "out"
    result = run_cli("deepdance.silhouettes", *preview_overrides(moving_video, out, tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert written(out) == ["mover.mp4", "mover.png", "silhouettes.json"]
    assert f"wrote {out / 'mover.mp4'} and {out / 'mover.png'}: 18 frames of 48x80 at 6 fps" in result.stdout


# ----------------------------------------------------------------------------- the real front end
def has_mediapipe() -> bool:
    import importlib.util

    return importlib.util.find_spec("mediapipe") is not None


@pytest.mark.skipif(not has_mediapipe(), reason="mediapipe (the pose extra) is not installed: make install")
def test_mediapipe_person_silhouettes_match_a_synthetic_renders_true_masks(tmp_path: Path) -> None:
    """The real MediaPipe front end, through the pose store, on a synthetic RGB dancer with known
    masks: the person rule's frames are the true masks, and the follow crop makes the dancer fill it."""
    from deepdance.data.silhouette.cache import SilhouetteCache
    from deepdance.data.silhouette.follow import resize_mask
    from deepdance.data.synthetic.dataset import video_jobs
    from deepdance.data.synthetic.rgb import render_rgb
    from deepdance.data.synthetic.settings import SyntheticConfig
    from deepdance.data.video.writer import write_mp4

    config = SyntheticConfig(seed=0, dancers_per_genre=1, cameras=1, musics=1, seconds=1.0, fps=10, size=256)
    render = render_rgb(video_jobs(config)[0], config, "studio")
    video = write_mp4(tmp_path / "videos" / "dancer.mp4", render.frames, fps=10.0)
    cache = SilhouetteCache(tmp_path / "cache", pose_store=tmp_path / "poses")
    person = cache.load(
        video,
        SilhouetteSettings.from_config({"threshold_rule": "person", "fps": None, "height": 64, "width": 64}),
    )
    truth = np.stack([resize_mask(m, 64, 64) for m in render.masks]) > 127
    found = (person > 127).any(axis=(1, 2))
    assert found.sum() >= 8, f"MediaPipe found the dancer in {found.sum()} of 10 frames"
    shown = person[found] > 127
    iou = (shown & truth[found]).sum(axis=(1, 2)) / (shown | truth[found]).sum(axis=(1, 2))
    assert np.median(iou) > 0.7 and iou.min() > 0.5, iou
    follow = {"threshold_rule": "person", "follow": True, "fps": None, "height": 64, "width": 64}
    followed = cache.load(video, SilhouetteSettings.from_config(follow))
    _, _, height = centre_and_height(followed[found])
    _, _, height_plain = centre_and_height(person[found])
    assert height.min() > 0.6 and height.mean() > height_plain.mean()
    # a run with the same data settings trains on exactly these frames (the same cache entry)
    from deepdance.data.silhouette.datamodule import SilhouetteDataModule

    run = SilhouetteDataModule.from_config(
        {
            "root": str(video),
            "cache_dir": str(tmp_path / "cache"),
            **follow,
            "pose": {"store_dir": str(tmp_path / "poses")},
        }
    )
    run.setup()
    assert np.array_equal(run.videos[0], followed)
