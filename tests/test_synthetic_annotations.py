"""The synthetic dancers' AIST++ annotations: the documented shapes, the renderer's own points, cameras
that round-trip the 3-D points onto them, an owned folder, and data=synthetic's pixels unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import decord
import numpy as np
import pytest

from deepdance.data.aist import parse_aist_name
from deepdance.data.aist.annotations import AnnotationFolder
from deepdance.data.aist.annotations.cameras import load_cameras, load_mapping
from deepdance.data.aist.annotations.keypoints import load_keypoints2d, load_keypoints3d
from deepdance.data.aist.annotations.safe_pickle import safe_load
from deepdance.data.synthetic import render_dance, render_silhouettes, video_jobs
from deepdance.data.synthetic.annotations import (
    RECORD_NAME,
    ensure_synthetic_annotations,
    sequence_annotations,
    sequences,
    timestamps_us,
)
from deepdance.data.synthetic.renderer import _ONE, SHIFT, SUPERSAMPLE, pixel_points
from deepdance.data.synthetic.rgb import (
    BACKGROUNDS,
    load_truth,
    make_background,
    render_rgb,
    truth_path,
    write_rgb_videos,
)
from deepdance.data.synthetic.settings import GENERATOR_VERSION, SyntheticConfig
from deepdance.errors import DeepdanceError
from deepdance.make_synthetic import main
from deepdance.pose.skeleton import JOINT

SMALL = SyntheticConfig(
    seed=2, dancers_per_genre=1, cameras=3, musics=1, seconds=0.5, fps=30, size=96, width=128
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic_annotations(tmp_path_factory.mktemp("annotations"), SMALL)


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_files_have_the_documented_shapes(folder: Path) -> None:
    groups = sequences(SMALL)
    mapping = load_mapping(folder / "cameras" / "mapping.txt")
    assert sorted(mapping) == sorted(groups) and len(groups) == 10
    assert len(set(mapping.values())) == len(groups), "one camera setting per sequence (framing is per video)"
    n = SMALL.num_frames
    for name, setting in mapping.items():
        raw = safe_load(folder / "keypoints2d" / f"{name}.pkl")
        assert set(raw) == {"keypoints2d", "det_scores", "timestamps"}
        assert raw["keypoints2d"].shape == (3, n, 17, 3) and raw["keypoints2d"].dtype == np.float32
        assert (raw["keypoints2d"][..., 2] == 1).all() and (raw["det_scores"] == 1).all()
        assert raw["det_scores"].shape == (3, n) and raw["timestamps"].dtype == np.int64
        np.testing.assert_array_equal(raw["timestamps"], timestamps_us(n, SMALL.fps))
        assert raw["timestamps"][1] == 33333
        three = safe_load(folder / "keypoints3d" / f"{name}.pkl")
        for key in ("keypoints3d", "keypoints3d_optim"):
            assert three[key].shape == (n, 17, 3) and three[key].dtype == np.float64
        # centimetres, y up, the soles on the floor y = 0: a figure of roughly human height
        height = three["keypoints3d"][..., 1].max() - three["keypoints3d"][..., 1].min()
        assert 80 < height < 200 and three["keypoints3d"][..., 1].min() > 0
        cameras = load_cameras(folder / "cameras" / f"{setting}.json")
        assert [c.name for c in cameras] == ["c01", "c02", "c03"]
        assert all(c.size == (SMALL.frame_width, SMALL.size) for c in cameras)
    assert (folder / "ignore_list.txt").read_text() == ""


def test_projection_round_trips_under_a_pixel(folder: Path) -> None:
    worst = 0.0
    for name, setting in load_mapping(folder / "cameras" / "mapping.txt").items():
        points = load_keypoints3d(folder / "keypoints3d" / f"{name}.pkl")
        views = load_keypoints2d(folder / "keypoints2d" / f"{name}.pkl").keypoints
        for v, cam in enumerate(load_cameras(folder / "cameras" / f"{setting}.json")):
            projected, _ = cv2.projectPoints(
                points.reshape(-1, 1, 3), cam.rotation, cam.translation, cam.matrix, cam.distortions
            )
            error = np.abs(projected.reshape(points.shape[0], 17, 2) - views[v, ..., :2])
            worst = max(worst, float(error.max()))
    # the spec asks < 1 px; only the renderer's 1/16-px fixed point and a tiny perspective remain
    assert worst < 0.05


def test_the_aist_annotation_reader_reads_the_export(folder: Path) -> None:
    """The loaders of real AIST++ folders read the export as they are: one reader, two sources."""
    reader = AnnotationFolder(folder)
    assert len(reader.sequences) == 10 and reader.ignored == set()
    name = reader.sequences[0].name
    assert reader.keypoints2d(name).keypoints.shape == (3, SMALL.num_frames, 17, 3)
    assert [c.name for c in reader.cameras(name)] == ["c01", "c02", "c03"]
    projected = reader.cameras(name)[1].project(reader.keypoints3d(name))
    np.testing.assert_allclose(projected, reader.keypoints2d(name).keypoints[1, ..., :2], atol=0.05)


def test_keypoints_lie_on_the_rendered_figure(folder: Path) -> None:
    """Every keypoint of every view and frame falls on the dancer the silhouette video draws."""
    for name, jobs in sequences(SMALL).items():
        views = load_keypoints2d(folder / "keypoints2d" / f"{name}.pkl").keypoints
        for v, job in enumerate(jobs):
            frames = render_dance(
                job.name.genre,
                job.dancer_seed,
                job.camera,
                job.music,
                SMALL.num_frames,
                SMALL.fps,
                (SMALL.size, SMALL.frame_width),
                job.rng_seed,
                silhouette=True,
                tempo_factor=job.tempo_factor,
            )[..., 0]
            xy = np.round(views[v, ..., :2]).astype(int)
            t = np.arange(frames.shape[0])[:, None]
            assert (frames[t, xy[..., 1], xy[..., 0]] < 128).all(), (
                f"{job.name.filename()}: a keypoint off the figure"
            )


def test_left_is_the_dancers_left_and_faces_sit_on_the_head(folder: Path) -> None:
    """The dancer faces the camera: COCO's left joints are on the screen's right, as in AIST++."""
    name = next(iter(sequences(SMALL)))
    k = load_keypoints2d(folder / "keypoints2d" / f"{name}.pkl").keypoints[0]
    for joint in ("eye", "ear", "shoulder", "hip"):
        assert (k[:, JOINT[f"left_{joint}"], 0] > k[:, JOINT[f"right_{joint}"], 0]).all()
    assert (k[:, JOINT["nose"], 1] > k[:, JOINT["left_eye"], 1]).all(), "the nose below the eyes"
    assert (k[:, JOINT["nose"], 1] < k[:, JOINT["left_shoulder"], 1]).all()


def test_pixel_points_follow_the_area_downsampling() -> None:
    """A disc drawn at a canvas point lands, after the renderer's downsampling, where pixel_points says."""
    centre = np.array([[37.3, 21.8]])
    canvas = np.zeros((64 * SUPERSAMPLE, 64 * SUPERSAMPLE), np.float32)
    fixed = tuple(int(v) for v in np.round(centre[0] * _ONE))
    cv2.circle(canvas, fixed, 7 * _ONE, 1.0, -1, cv2.LINE_AA, SHIFT)
    small = cv2.resize(canvas, (64, 64), interpolation=cv2.INTER_AREA)
    ys, xs = np.mgrid[:64, :64]
    found = np.array([(small * xs).sum(), (small * ys).sum()]) / small.sum()
    # anti-aliased edges leave a few hundredths; a half-pixel convention slip would be 0.25
    np.testing.assert_allclose(pixel_points({"p": centre})["p"][0], found, atol=0.05)


def test_owned_folder_reuse_resume_and_refusal(tmp_path: Path) -> None:
    tiny = SyntheticConfig(seed=1, dancers_per_genre=1, cameras=1, musics=1, seconds=0.2, size=32)
    root = ensure_synthetic_annotations(tmp_path / "a", tiny)
    before = _mtimes(root)
    ensure_synthetic_annotations(root, tiny)
    assert _mtimes(root) == before, "same config: nothing rewritten"
    # an interrupted run: only the missing file is written again
    lost = root / "keypoints3d" / "gBR_sBM_cAll_d01_mBR0_ch01.pkl"
    lost.unlink()
    ensure_synthetic_annotations(root, tiny)
    after = _mtimes(root)
    assert lost.exists() and {k: v for k, v in after.items() if v != before.get(k)}.keys() <= {
        "keypoints3d/gBR_sBM_cAll_d01_mBR0_ch01.pkl",
        RECORD_NAME,
    }
    # another config regenerates; the record says which
    other = SyntheticConfig(seed=1, dancers_per_genre=1, cameras=2, musics=1, seconds=0.2, size=32)
    ensure_synthetic_annotations(root, other)
    assert load_keypoints2d(lost.parent.parent / "keypoints2d" / lost.name).keypoints.shape[0] == 2
    assert json.loads((root / RECORD_NAME).read_text())["config"]["cameras"] == 2
    # someone's real annotations: refused in one line, nothing written
    real = tmp_path / "real"
    (real / "keypoints2d").mkdir(parents=True)
    (real / "keypoints2d" / "gBR_sBM_cAll_d04_mBR0_ch01.pkl").write_bytes(b"theirs")
    with pytest.raises(DeepdanceError, match="not listed in synthetic_annotations.json") as err:
        ensure_synthetic_annotations(real, tiny)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in real.rglob("*")) == ["gBR_sBM_cAll_d04_mBR0_ch01.pkl", "keypoints2d"]


# sha256 of frames rendered before the annotations existed (GENERATOR_VERSION 6): the export reads
# the renderer's geometry and must not change a pixel of data=synthetic.
PIXEL_HASHES = {
    ("BR", 5, 1, 0, 112, 7, False, 1.0): "39d848b1fc7c6853e53261014b393fa8d7bd4cfad18799abc90e3d5e6bf2f56a",
    (
        "KR",
        9,
        2,
        1,
        (120, 200),
        11,
        True,
        1.1,
    ): "d733733dcd52065e029bb4b083e08e8c1778e9c9db924faa2ca45ed93b789fc6",
    (
        "JB",
        3,
        5,
        0,
        (64, 96),
        2,
        False,
        0.9,
    ): "da2047067a72b138b81f188068ae3ff460be0686f0b6bc8e052751ab2bfe0177",
}


def test_synthetic_pixels_unchanged() -> None:
    assert GENERATOR_VERSION == 6, "a new generator version renders new pixels: update PIXEL_HASHES"
    for (genre, dancer, camera, music, size, seed, silhouette, tempo), expected in PIXEL_HASHES.items():
        frames = render_dance(genre, dancer, camera, music, 20, 30, size, seed, silhouette, tempo)
        assert hashlib.sha256(frames.tobytes()).hexdigest() == expected, (genre, size)
    frames = render_silhouettes(40, 120, 200, 30, seed=2)
    assert hashlib.sha256(frames.tobytes()).hexdigest() == (
        "a55e240c169a5a3ab972d1f7744b644c0d17bf9677d48c35c0cb681a54063088"
    )


# ---------------------------------------------------------------------------- RGB renders

RGB = SyntheticConfig(
    seed=4, dancers_per_genre=1, cameras=2, musics=1, seconds=0.2, fps=30, size=256, width=288
)


@pytest.mark.parametrize("kind", BACKGROUNDS)
def test_rgb_render_ground_truth(kind: str) -> None:
    """Masks cover the figure the genre video draws; keypoints are the annotations' and lie inside them."""
    groups = sequences(RGB)
    name = list(groups)[BACKGROUNDS.index(kind) * 3]
    annotations = sequence_annotations(RGB, groups[name])
    for view, job in enumerate(groups[name]):
        render = render_rgb(job, RGB, kind)
        n = RGB.num_frames
        assert render.frames.shape == (n, 256, 288, 3) and render.frames.dtype == np.uint8
        assert render.masks.shape == (n, 256, 288) and render.masks.dtype == bool
        np.testing.assert_array_equal(render.keypoints, annotations.keypoints2d[view])
        xy = np.round(render.keypoints[..., :2]).astype(int)
        assert render.masks[np.arange(n)[:, None], xy[..., 1], xy[..., 0]].all()
        figure = (
            render_dance(
                job.name.genre,
                job.dancer_seed,
                job.camera,
                job.music,
                n,
                RGB.fps,
                (256, 288),
                job.rng_seed,
                silhouette=True,
                tempo_factor=job.tempo_factor,
            )[..., 0]
            < 128
        )
        iou = (figure & render.masks).sum() / (figure | render.masks).sum()
        assert iou > 0.9, f"{kind}: the mask is not the drawn figure (IoU {iou:.2f})"
        # the dancer stands out: inside the mask the frame differs from the ring of background around it
        ring = (
            cv2.dilate(render.masks[0].astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            & ~render.masks[0]
        )
        inside, outside = render.frames[0][render.masks[0]].mean(0), render.frames[0][ring].mean(0)
        assert np.abs(inside - outside).max() > 5


def test_rgb_backgrounds_differ_by_kind() -> None:
    rng = np.random.default_rng
    images = {kind: make_background(kind, rng(1), 128, 160, 110).astype(np.float32) for kind in BACKGROUNDS}
    texture = {kind: np.abs(np.diff(img, axis=1)).mean() for kind, img in images.items()}
    assert texture["texture"] > 3 * texture["studio"]
    with pytest.raises(DeepdanceError, match="expected one of studio"):
        make_background("beach", rng(1), 32, 32, 30)


def test_write_rgb_videos(tmp_path: Path) -> None:
    config = SyntheticConfig(seed=4, dancers_per_genre=1, cameras=1, musics=1, seconds=0.2, fps=30, size=256)
    paths = write_rgb_videos(tmp_path / "rgb", config, ("studio", "clutter"))
    assert len(paths) == 20 and all(p.is_file() for p in paths)
    assert {p.parent.name for p in paths} == {"studio", "clutter"}
    video = paths[3]
    parse_aist_name(video.name)
    truth = load_truth(truth_path(video))
    reader = decord.VideoReader(str(video))
    job = next(j for j in video_jobs(config) if j.name.filename() == video.name)
    render = render_rgb(job, config, video.parent.name)
    np.testing.assert_array_equal(truth.keypoints, render.keypoints)
    np.testing.assert_array_equal(truth.masks, render.masks)
    np.testing.assert_array_equal(truth.timestamps, timestamps_us(config.num_frames, config.fps))
    assert len(reader) == config.num_frames
    assert np.abs(reader[2].asnumpy().astype(int) - render.frames[2]).mean() < 4
    before = _mtimes(tmp_path / "rgb")
    write_rgb_videos(tmp_path / "rgb", config, ("studio", "clutter"))
    assert _mtimes(tmp_path / "rgb") == before
    with pytest.raises(DeepdanceError, match="size >= 256"):
        write_rgb_videos(tmp_path / "small", SyntheticConfig(size=128))
    with pytest.raises(DeepdanceError, match="choose from"):
        write_rgb_videos(tmp_path / "bad", config, ("beach",))


def test_make_synthetic_annotations_and_rgb_flags(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    small = ["--dancers-per-genre", "1", "--cameras", "1", "--musics", "1", "--seconds", "0.2"]
    main(["--root", str(tmp_path / "ann"), "--annotations", *small, "--size", "32"])
    assert "annotations of 10 sequences" in capsys.readouterr().out
    assert len(list((tmp_path / "ann" / "keypoints2d").glob("*.pkl"))) == 10
    assert not list((tmp_path / "ann").rglob("*.mp4"))
    with pytest.raises(SystemExit) as exit_:
        main(["--root", str(tmp_path / "rgb"), "--rgb", *small, "--size", "64"])
    assert exit_.value.code == 2 and "size >= 256" in capsys.readouterr().err
    assert not (tmp_path / "rgb").exists()
    main(["--root", str(tmp_path / "rgb"), "--rgb", *small, "--backgrounds", "studio"])
    assert "10 RGB videos with ground truth (studio)" in capsys.readouterr().out
    assert len(list((tmp_path / "rgb" / "studio").glob("*.truth.npz"))) == 10


def test_mediapipe_finds_the_rgb_dancers() -> None:
    """The drawn face makes the figure a person to MediaPipe's legacy pose (the front end's default).

    Measured over 10 genres x 3 cameras x 10 frames per background (static mode): detected 100 %
    (studio), 96 % (texture), 84-95 % (clutter), PCK@0.2 0.96-0.99.
    """
    mp = pytest.importorskip("mediapipe")
    config = SyntheticConfig(
        seed=1, dancers_per_genre=1, cameras=1, musics=1, seconds=0.5, size=256, width=320
    )
    coco_from_blazepose = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    found, close = 0, []
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose:
        for job, kind in zip(video_jobs(config)[:6], ("studio", "texture") * 3, strict=True):
            render = render_rgb(job, config, kind)
            for i in (0, 7, 14):
                result = pose.process(render.frames[i])
                if result.pose_landmarks is None:
                    continue
                found += 1
                marks = result.pose_landmarks.landmark
                xy = np.array([[marks[k].x * 320, marks[k].y * 256] for k in coco_from_blazepose])
                truth = render.keypoints[i, :, :2]
                torso = np.linalg.norm(truth[[5, 6]].mean(0) - truth[[11, 12]].mean(0))
                close.append(np.linalg.norm(xy - truth, axis=1) < 0.2 * torso)
    assert found >= 16, f"MediaPipe found the dancer in {found} of 18 frames"
    assert np.mean(close) > 0.85
