"""The pose front end (deepdance.pose): COCO-17 from MediaPipe's landmarks, tracking, NaN-aware
smoothing, frames with nobody, the content-keyed resumable store, the MMAction2 pickle, the
missing-extra error. A fake backend (a bright blob is a person) keeps these fast; the real
MediaPipe tests are in test_extract_poses.py."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from deepdance.config.base import parse
from deepdance.config.pose import PoseConfig, SmoothingConfig, TrackConfig
from deepdance.data.video.writer import write_mp4
from deepdance.errors import DeepdanceError
from deepdance.pose import backends
from deepdance.pose.estimator import Person, PoseEstimator
from deepdance.pose.mediapipe_backend import COCO_FROM_MEDIAPIPE, import_mediapipe, landmarks_to_person
from deepdance.pose.mmaction import annotation, genre_label, skeleton_dataset
from deepdance.pose.skeleton import COCO17
from deepdance.pose.smoothing import smooth_keypoints
from deepdance.pose.store import PoseStore, batch_path
from deepdance.pose.tracking import link_tracks, pick_dancer
from deepdance.pose.video_poses import VideoPoses, estimate_video, select_frames
from deepdance.utils.stop import StopOnSigterm

SIZE = 64


class BlobPose:
    """A fake backend: the bright pixels of a frame are one person (keypoints spread over their
    box, confidence 0.9); a dark frame holds nobody. Counts the frames it sees."""

    name = "blob"

    def __init__(self, threshold: int = 128, on_call=None) -> None:
        self.threshold, self.frames_seen, self.resets, self.on_call = threshold, 0, 0, on_call

    def settings(self) -> dict:
        return {"threshold": self.threshold}

    def reset(self) -> None:
        self.resets += 1

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        if self.on_call is not None:
            self.on_call(self)
        self.frames_seen += len(frames)
        found = []
        for frame in frames:
            mask = frame.mean(axis=-1) >= self.threshold
            rows, cols = np.nonzero(mask)
            if rows.size == 0:
                found.append([])
                continue
            box = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float32)
            t = np.linspace(0, 1, 17, dtype=np.float32)
            keypoints = np.stack(
                [box[0] + t * (box[2] - box[0]), box[1] + t * (box[3] - box[1]), 0.9 + 0 * t], -1
            )
            found.append([Person(keypoints, box, 0.8, mask.astype(np.float32), np.zeros((5, 3), np.float32))])
        return found

    def close(self) -> None:
        pass


def blob_video(path: Path, present: list[bool], x0: int = 20) -> Path:
    """A 64x64 video: a white 16x24 block moving right one pixel per frame where ``present``."""
    frames = np.zeros((len(present), SIZE, SIZE, 3), np.uint8)
    for i, here in enumerate(present):
        if here:
            frames[i, 20:44, x0 + i : x0 + i + 16] = 255
    return write_mp4(path, frames, fps=10.0)


def person(box: tuple[float, float, float, float], score: float = 0.9) -> Person:
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[:, 0], keypoints[:, 1], keypoints[:, 2] = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, score
    return Person(keypoints, np.array(box, np.float32), score)


def config(**overrides) -> PoseConfig:
    return parse(PoseConfig, {"batch_size": 4, "smoothing": {"method": "none"}, **overrides}, "pose")


def test_fake_backend_is_a_pose_estimator() -> None:
    assert isinstance(BlobPose(), PoseEstimator)


# ---------------------------------------------------------------------------- MediaPipe mapping


def test_coco17_comes_from_the_documented_mediapipe_landmarks() -> None:
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[:, 0] = np.arange(33) / 100  # x encodes the landmark's index
    landmarks[:, 1] = 0.5
    landmarks[:, 3] = np.linspace(0, 1, 33)
    found = landmarks_to_person(landmarks, width=200, height=100, mask=None, mask_threshold=0.5)
    names = dict(zip(COCO17, COCO_FROM_MEDIAPIPE))
    assert names["nose"] == 0 and names["left_eye"] == 2 and names["right_ear"] == 8
    assert names["left_shoulder"] == 11 and names["right_wrist"] == 16 and names["right_ankle"] == 28
    # pixels from normalised coordinates, confidence from visibility, all 33 kept
    np.testing.assert_allclose(found.keypoints[:, 0], np.array(COCO_FROM_MEDIAPIPE) * 2, atol=1e-4)
    np.testing.assert_allclose(found.keypoints[:, 1], 50)
    np.testing.assert_allclose(found.keypoints[:, 2], landmarks[list(COCO_FROM_MEDIAPIPE), 3])
    assert found.landmarks.shape == (33, 3)
    assert found.score == pytest.approx(float(found.keypoints[:, 2].mean()))


def test_box_is_the_mask_extent_when_there_is_a_mask() -> None:
    landmarks = np.full((33, 4), 0.5, np.float32)
    mask = np.zeros((100, 200), np.float32)
    mask[10:30, 40:90] = 0.9
    found = landmarks_to_person(landmarks, 200, 100, mask, 0.5)
    np.testing.assert_array_equal(found.box, [40, 10, 90, 30])


def test_missing_pose_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import mediapipe` raise ImportError
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    for attempt in (import_mediapipe, lambda: backends.build_estimator(PoseConfig())):
        with pytest.raises(DeepdanceError) as caught:
            attempt()
        message = str(caught.value)
        assert "\n" not in message
        assert 'pip install -e ".[pose]"' in message and "--no-deps mediapipe==0.10.21" in message
        assert "make install" in message


def test_an_unknown_backend_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeepdanceError, match="^pose.backend='rtm': expected one of mediapipe$"):
        parse(PoseConfig, {"backend": "rtm"}, "pose")
    # a backend plugged into the registry is one the schema accepts
    monkeypatch.setitem(backends.BACKENDS, "rtm", lambda config: "built")
    assert backends.build_estimator(parse(PoseConfig, {"backend": "rtm"}, "pose")) == "built"


# ---------------------------------------------------------------------------- tracking


def test_the_dancer_is_the_largest_most_central_track_whatever_the_list_order() -> None:
    frames = []
    for i in range(6):
        onlooker, dancer = person((0, 0, 10, 20)), person((20 + i, 10, 44 + i, 60))
        # the order each frame lists people in must not matter
        frames.append([onlooker, dancer] if i % 2 else [dancer, onlooker])
    chosen = pick_dancer(frames, (64, 64), TrackConfig())
    assert all(p is not None and p.box[0] == 20 + i for i, p in enumerate(chosen))


def test_a_brief_big_person_does_not_beat_the_dancer_who_stays() -> None:
    frames = [[person((20, 10, 40, 50))] for _ in range(10)]
    frames[3].append(person((0, 0, 64, 64)))
    chosen = pick_dancer(frames, (64, 64), TrackConfig())
    assert all(p.box[2] == 40 for p in chosen)


def test_track_overrides_by_index_and_by_point() -> None:
    frames = [[person((40, 10, 60, 50)), person((2, 10, 22, 50))] for _ in range(4)]
    tracks = link_tracks(frames)
    # numbered by first frame, then left to right
    assert [frames[0][t.members[0]].box[0] for t in tracks] == [2, 40]
    by_index = pick_dancer(frames, (64, 64), TrackConfig(index=1))
    assert all(p.box[0] == 40 for p in by_index)
    by_point = pick_dancer(frames, (64, 64), TrackConfig(point=[0.1, 0.5]))
    assert all(p.box[0] == 2 for p in by_point)
    with pytest.raises(DeepdanceError, match=r"pose.track.index=5: expected 0..1"):
        pick_dancer(frames, (64, 64), TrackConfig(index=5))


def test_a_track_survives_a_short_gap_and_frames_with_nobody_stay_empty() -> None:
    frames = [[person((20 + i, 10, 40 + i, 50))] if i not in (3, 4) else [] for i in range(8)]
    tracks = link_tracks(frames, max_gap=5)
    assert len(tracks) == 1
    chosen = pick_dancer(frames, (64, 64), TrackConfig())
    assert [p is None for p in chosen] == [i in (3, 4) for i in range(8)]
    assert len(link_tracks(frames, max_gap=0)) == 2


# ---------------------------------------------------------------------------- smoothing


def _noisy_track(rng: np.random.Generator, count: int = 60) -> np.ndarray:
    keypoints = np.zeros((count, 17, 3), np.float32)
    keypoints[..., 0] = 100 + rng.normal(0, 2, (count, 17))
    keypoints[..., 1] = 50 + np.linspace(0, 30, count)[:, None]
    keypoints[..., 2] = 0.9
    return keypoints


@pytest.mark.parametrize("method", ["one_euro", "savgol"])
def test_smoothing_keeps_nan_rows_and_confidences_and_reduces_jitter(method: str) -> None:
    rng = np.random.default_rng(0)
    keypoints = _noisy_track(rng)
    keypoints[20:25, :, :2] = np.nan
    keypoints[20:25, :, 2] = 0
    # a joint seen with too little confidence is left as it is
    keypoints[40, 3, 2] = 0.1
    seconds = np.arange(60) / 30
    out = smooth_keypoints(keypoints, seconds, 200, SmoothingConfig(method=method), min_confidence=0.3)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(keypoints))
    np.testing.assert_array_equal(out[..., 2], keypoints[..., 2])
    np.testing.assert_array_equal(out[40, 3], keypoints[40, 3])
    seen = np.r_[0:20, 26:60]
    jitter_in = np.diff(keypoints[seen, :, 0], axis=0).std()
    jitter_out = np.diff(out[seen, :, 0], axis=0).std()
    assert jitter_out < 0.7 * jitter_in
    # the slow motion (y, a straight line at 15 px/s): Savitzky-Golay keeps a line, One-Euro lags a little
    lag = np.nanmax(np.abs(out[30:, :, 1] - keypoints[30:, :, 1]))
    assert lag < (2.0 if method == "one_euro" else 0.1)


def test_no_smoothing_returns_the_keypoints_unchanged() -> None:
    keypoints = _noisy_track(np.random.default_rng(1))
    out = smooth_keypoints(keypoints, np.arange(60) / 30, 200, SmoothingConfig(method="none"), 0.3)
    np.testing.assert_array_equal(out, keypoints)


def test_smoothing_settings_are_checked() -> None:
    for node, expected in (
        ({"smoothing": {"window": 4}}, "pose.smoothing.window=4: expected an odd integer >= 3"),
        ({"smoothing": {"window": 3, "polyorder": 3}}, "pose.smoothing.polyorder=3: expected < "),
        ({"track": {"index": 0, "point": [0.5, 0.5]}}, "pose.track: set track.index or track.point"),
        ({"track": {"point": [0.5, 2]}}, "pose.track.point"),
        ({"fps": 0}, "pose.fps=0"),
    ):
        with pytest.raises(DeepdanceError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            parse(PoseConfig, node, "pose")


# ---------------------------------------------------------------------------- videos


def test_select_frames_every_frame_or_at_a_rate() -> None:
    np.testing.assert_array_equal(select_frames(10, 30.0, None), np.arange(10))
    np.testing.assert_array_equal(select_frames(10, 30.0, 60.0), np.arange(10))
    np.testing.assert_array_equal(select_frames(12, 30.0, 10.0), [0, 3, 6, 9])


def test_a_frame_with_nobody_keeps_its_place(tmp_path: Path) -> None:
    present = [True, True, False, False, True, True, True, False, True, True]
    video = blob_video(tmp_path / "clip.mp4", present)
    poses = estimate_video(video, config(), estimator=BlobPose())
    assert isinstance(poses, VideoPoses) and len(poses) == 10 and poses.size == (SIZE, SIZE)
    assert poses.keypoints.shape == (10, 17, 3) and poses.keypoints.dtype == np.float32
    empty = ~np.array(present)
    assert np.isnan(poses.keypoints[empty, :, :2]).all() and (poses.keypoints[empty, :, 2] == 0).all()
    assert (poses.det_scores[empty] == 0).all() and (poses.det_scores[~empty] > 0).all()
    assert poses.masks.shape == (10, SIZE, SIZE) and poses.masks.dtype == np.uint8
    assert poses.masks[empty].sum() == 0 and set(np.unique(poses.masks)) == {0, 1}
    # the blob's box: rows 20..44, columns 20+i..36+i (the codec blurs edges by a pixel)
    assert abs(poses.keypoints[0, 0, 0] - 20) <= 1.5 and abs(poses.keypoints[0, 16, 1] - 44) <= 1.5
    np.testing.assert_array_equal(poses.frame_indices, np.arange(10))
    np.testing.assert_array_equal(poses.timestamps, np.round(np.arange(10) / 10 * 1e6))
    assert poses.landmarks.shape == (10, 5, 3)


def test_frames_at_a_rate_and_chosen_indices(tmp_path: Path) -> None:
    video = blob_video(tmp_path / "clip.mp4", [True] * 10)
    poses = estimate_video(video, config(fps=5.0), estimator=BlobPose())
    np.testing.assert_array_equal(poses.frame_indices, [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(poses.timestamps, [0, 200000, 400000, 600000, 800000])
    chosen = estimate_video(video, config(), frame_indices=np.array([1, 7]), estimator=BlobPose())
    np.testing.assert_array_equal(chosen.frame_indices, [1, 7])


# ---------------------------------------------------------------------------- store


def test_store_runs_the_backend_once_per_video_content_and_settings(tmp_path: Path) -> None:
    video = blob_video(tmp_path / "videos" / "clip.mp4", [True] * 10)
    store, backend = PoseStore(tmp_path / "store"), BlobPose()
    first = store.get(video, config(), estimator=backend)
    assert backend.frames_seen == 10
    again = store.get(
        video, config(smoothing={"method": "savgol", "window": 3, "polyorder": 1}), estimator=backend
    )
    # tracking and smoothing run on the stored output: no new model run
    assert backend.frames_seen == 10
    assert again.keypoints.shape == first.keypoints.shape
    # the same bytes under another name are found again
    copy = tmp_path / "elsewhere" / "renamed.mp4"
    copy.parent.mkdir()
    copy.write_bytes(video.read_bytes())
    store.get(copy, config(), estimator=backend)
    assert backend.frames_seen == 10
    # what changes the backend's output or the frames makes a new entry
    store.get(video, config(mask_threshold=0.7), estimator=backend)
    assert backend.frames_seen == 20
    store.get(video, config(), frame_indices=np.arange(5), estimator=backend)
    assert backend.frames_seen == 25
    store.get(video, config(), estimator=BlobPose(threshold=100))
    assert len(list((tmp_path / "store").iterdir())) == 4


def test_store_recomputes_only_missing_or_damaged_batches(tmp_path: Path) -> None:
    video = blob_video(tmp_path / "clip.mp4", [True] * 10)
    store = PoseStore(tmp_path / "store")
    first = store.get(video, config(), estimator=BlobPose())
    (entry,) = (tmp_path / "store").iterdir()
    assert sorted(p.name for p in entry.glob("batch-*.npz")) == [f"batch-0000{i}.npz" for i in range(3)]
    batch_path(entry, 1).unlink()
    batch_path(entry, 2).write_bytes(b"truncated")
    backend = BlobPose()
    again = store.get(video, config(), estimator=backend)
    # batches of 4: the second (4 frames) and the last (2 frames) are computed again
    assert backend.frames_seen == 6
    np.testing.assert_array_equal(again.keypoints, first.keypoints)


def test_sigterm_stops_within_one_batch_and_the_next_run_resumes(tmp_path: Path) -> None:
    video = blob_video(tmp_path / "clip.mp4", [True] * 12)
    store = PoseStore(tmp_path / "store")

    def terminate_on_second_batch(backend: BlobPose) -> None:
        if backend.frames_seen == 4:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit) as stopped, StopOnSigterm("extract_poses", "run it again"):
        store.get(video, config(), estimator=BlobPose(on_call=terminate_on_second_batch))
    assert stopped.value.code == 143
    (entry,) = (tmp_path / "store").iterdir()
    # the batch in hand when SIGTERM came was finished and kept; no later one was started
    assert sorted(p.name for p in entry.glob("batch-*.npz")) == ["batch-00000.npz", "batch-00001.npz"]
    assert not list(entry.glob(".*tmp"))
    backend = BlobPose()
    poses = store.get(video, config(), estimator=backend)
    assert backend.frames_seen == 4 and poses.found.all()
    # the backend's tracker restarted where the stored batches end
    assert backend.resets == 1


def test_store_never_writes_beside_the_videos(tmp_path: Path) -> None:
    video = blob_video(tmp_path / "clip.mp4", [True] * 4)
    with pytest.raises(DeepdanceError, match="never writes beside the videos"):
        PoseStore(tmp_path).get(video, config(), estimator=BlobPose())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


# ---------------------------------------------------------------------------- MMAction2 / pyskl


def _poses(count: int, found: list[bool]) -> VideoPoses:
    keypoints = np.full((count, 17, 3), 5.0, np.float32)
    missing = ~np.array(found)
    keypoints[missing, :, :2] = np.nan
    keypoints[missing, :, 2] = 0
    return VideoPoses(
        keypoints=keypoints,
        det_scores=np.where(missing, 0, 0.9).astype(np.float32),
        timestamps=np.arange(count, dtype=np.int64) * 100000,
        frame_indices=np.arange(count, dtype=np.int64),
        landmarks=np.zeros((count, 33, 3), np.float32),
        masks=None,
        size=(320, 240),
    )


def test_mmaction_annotation_has_the_documented_fields_and_shapes() -> None:
    entry = annotation("gKR_sBM_c01_d28_mKR0_ch01", _poses(6, [True, False, True, True, True, True]))
    assert set(entry) == {
        "frame_dir",
        "total_frames",
        "img_shape",
        "original_shape",
        "label",
        "keypoint",
        "keypoint_score",
    }
    assert entry["total_frames"] == 6 and entry["img_shape"] == (240, 320) == entry["original_shape"]
    assert entry["label"] == 7  # KR: the eighth AIST++ genre
    assert entry["keypoint"].shape == (1, 6, 17, 2) and entry["keypoint"].dtype == np.float32
    assert entry["keypoint_score"].shape == (1, 6, 17) and entry["keypoint_score"].dtype == np.float32
    # no NaN for the loaders: nobody -> coordinates 0, scores 0
    assert np.isfinite(entry["keypoint"]).all()
    assert (entry["keypoint"][0, 1] == 0).all() and (entry["keypoint_score"][0, 1] == 0).all()


def test_mmaction_splits_hold_out_dancers_for_aist_names_and_list_every_video() -> None:
    names = [
        f"g{g}_sBM_c01_d{d:02d}_m{g}0_ch01"
        for g in ("BR", "PO")
        for d in ((1, 2, 3) if g == "BR" else (4, 5, 6))
    ]
    data = skeleton_dataset({n: _poses(3, [True] * 3) for n in names})
    assert set(data) == {"split", "annotations"}
    assert sorted(data["split"]["all"]) == sorted(names)
    held = {s: {n.split("_")[3] for n in data["split"][s]} for s in ("train", "val", "test")}
    assert held["train"] and held["val"] and held["test"]
    assert not (held["train"] & held["test"]) and not (held["train"] & held["val"])
    other = skeleton_dataset({"my_dance": _poses(3, [True] * 3)})
    assert other["split"] == {"all": ["my_dance"]} and other["annotations"][0]["label"] == -1
    assert genre_label("gJB_sFM_c02_d08_mJB1_ch02") == 9


def test_the_bench_row_is_the_front_ends_ms_per_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from deepdance.bench.report import _pose
    from deepdance.bench.sections import Repeats, pose_rows

    backend = BlobPose()
    monkeypatch.setitem(backends.BACKENDS, "mediapipe", lambda config: backend)
    video = blob_video(tmp_path / "clip.mp4", [True, False] * 5)
    (found,) = pose_rows(video, 6, Repeats(3, 1, torch.device("cpu")), "tiny")
    assert backend.frames_seen == 6 * 4  # one warm-up and three timed runs of 6 frames
    assert found["unit"] == "ms/frame" and found["section"] == "pose" and len(found["seconds"]) == 3
    assert found["value_min"] <= found["value"] <= found["value_max"]
    assert found["value"] == pytest.approx(1000 * sorted(found["seconds"])[1] / 6)
    assert "dancer found in 3 of 6 frames" in found["notes"]
    assert any(found["label"] in line for line in _pose([found]))


def test_no_bench_row_without_the_pose_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from deepdance.bench.sections import Repeats, pose_rows

    monkeypatch.setitem(sys.modules, "mediapipe", None)
    video = blob_video(tmp_path / "clip.mp4", [True] * 4)
    assert pose_rows(video, 4, Repeats(3, 1, torch.device("cpu"))) == []
