"""score_poses: the scoring functions on hand-built arrays with known answers, then the command on
two tiny RGB renders with a fake backend that returns the ground truth (so every score is exact),
and deepdance.report reading its run dirs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from deepdance.errors import DeepdanceError
from deepdance.pose import backends
from deepdance.pose.estimator import Person
from deepdance.pose.scoring import (
    find_renders,
    joint_errors,
    mask_iou,
    mean_error,
    pck,
    score_video,
    summarize,
)
from deepdance.pose.skeleton import COCO17, JOINT
from tests.helpers.runs import compose_config, run_task


def standing(torso: float = 10.0) -> np.ndarray:
    """(17, 3) joints with shoulders' midpoint at (50, 40), hips' midpoint ``torso`` px below it."""
    points = np.zeros((17, 3), np.float32)
    points[:, 0], points[:, 1], points[:, 2] = 50.0, 60.0, 1.0
    points[JOINT["left_shoulder"], :2] = (55, 40)
    points[JOINT["right_shoulder"], :2] = (45, 40)
    points[JOINT["left_hip"], :2] = (53, 40 + torso)
    points[JOINT["right_hip"], :2] = (47, 40 + torso)
    return points


# ------------------------------------------------------------------------------- scoring functions


def test_pck_per_joint_counts_a_joint_within_alpha_torso_lengths() -> None:
    truth = np.stack([standing(10.0), standing(20.0)])
    predicted = truth.copy()
    # frame 0 (torso 10 px): the nose 1.9 px off (in), the left wrist 2.1 px off (out) at alpha 0.2
    predicted[0, JOINT["nose"], 0] += 1.9
    predicted[0, JOINT["left_wrist"], 1] += 2.1
    # frame 1 (torso 20 px): the left wrist 3 px off is within 0.2 x 20 = 4 px; the right knee is lost
    predicted[1, JOINT["left_wrist"], 0] += 3.0
    predicted[1, JOINT["right_knee"], :2] = np.nan
    errors = joint_errors(predicted, truth)
    np.testing.assert_allclose(errors[0, JOINT["nose"]], 0.19, rtol=1e-5)
    np.testing.assert_allclose(errors[1, JOINT["left_wrist"]], 0.15, rtol=1e-5)
    assert np.isinf(errors[1, JOINT["right_knee"]])
    per_joint = pck(errors, 0.2)
    expected = np.ones(17)
    expected[JOINT["left_wrist"]] = 0.5
    expected[JOINT["right_knee"]] = 0.5
    np.testing.assert_array_equal(per_joint, expected)
    # a tighter alpha: the nose (0.19) and the frame-1 wrist (0.15) fail at 0.1
    assert pck(errors, 0.1)[JOINT["nose"]] == 0.5 and pck(errors, 0.1)[JOINT["left_wrist"]] == 0.0
    # the mean error leaves the lost knee out rather than averaging an infinity
    mean = mean_error(errors)
    np.testing.assert_allclose(mean[JOINT["left_wrist"]], (0.21 + 0.15) / 2, rtol=1e-5)
    assert mean[JOINT["right_knee"]] == 0.0 and mean[JOINT["left_hip"]] == 0.0


def test_a_true_joint_without_confidence_is_not_scored() -> None:
    truth = standing()[None].copy()
    truth[0, JOINT["left_ear"], 2] = 0
    predicted = truth.copy()
    predicted[0, JOINT["left_ear"], :2] += 100
    errors = joint_errors(predicted, truth)
    assert np.isnan(errors[0, JOINT["left_ear"]])
    per_joint = pck(errors, 0.2)
    assert np.isnan(per_joint[JOINT["left_ear"]]) and np.nanmean(per_joint) == 1.0


def test_mask_iou_is_exact_per_frame() -> None:
    truth = np.zeros((3, 4, 4), np.uint8)
    predicted = np.zeros_like(truth)
    truth[0, :2, :2] = 1  # 4 px
    predicted[0, :2, :3] = 1  # 6 px, 4 shared: 4 / 6
    truth[1, 0, 0] = 1  # disjoint: 0
    predicted[1, 3, 3] = 1
    # frame 2: both empty, they agree
    np.testing.assert_allclose(mask_iou(predicted, truth), [4 / 6, 0.0, 1.0])
    with pytest.raises(ValueError, match="mask shapes differ"):
        mask_iou(predicted[:, :2], truth)


def test_missed_frames_count_in_the_detection_rate_only() -> None:
    """Frame 1 is missed (NaN joints, an empty mask): it lowers the detection rate, and neither
    the IoU nor the PCK of the frames where the dancer was found."""
    truth = np.stack([standing()] * 4)
    masks = np.zeros((4, 8, 8), np.uint8)
    masks[:, 2:6, 2:6] = 1
    predicted, predicted_masks = truth.copy(), masks.copy()
    predicted[1, :, :2], predicted[1, :, 2] = np.nan, 0
    predicted_masks[1] = 0
    # frame 3: half the mask, the nose 5 px (0.5 torso) off
    predicted_masks[3, 2:4] = 0
    predicted[3, JOINT["nose"], 0] += 5
    found = np.array([True, False, True, True])
    score = score_video("v.mp4", predicted, found, predicted_masks, truth, masks, seconds=0.4)
    assert score.errors.shape == (3, 17) and score.ms_per_frame == pytest.approx(100.0)
    np.testing.assert_allclose(score.ious, [1.0, 1.0, 0.5])
    metrics = summarize({"studio": [score]}, alpha=0.2)
    assert metrics["detection_rate"] == 0.75 and metrics["frames"] == 4 and metrics["videos"] == 1
    assert metrics["mask_iou"] == pytest.approx(2.5 / 3)
    assert metrics["pck_joint/nose"] == pytest.approx(2 / 3) and metrics["pck_joint/left_wrist"] == 1.0
    assert metrics["pck"] == pytest.approx((16 + 2 / 3) / 17)
    assert metrics["error_joint/nose"] == pytest.approx(0.5 / 3)
    assert metrics["time/ms_per_frame"] == pytest.approx(100.0)
    # per background, the same numbers under <name>/<background>
    assert metrics["detection_rate/studio"] == 0.75 and metrics["pck_joint/studio/nose"] == pytest.approx(
        2 / 3
    )
    assert metrics["time/ms_per_frame/studio"] == pytest.approx(100.0)


def test_summary_pools_frames_and_takes_the_median_time_over_videos() -> None:
    truth = np.stack([standing()] * 2)
    found_all, found_none = np.array([True, True]), np.array([False, False])
    scores = {
        "studio": [score_video("a", truth, found_all, None, truth, None, seconds=0.02)],
        "clutter": [
            score_video("b", truth, found_none, None, truth, None, seconds=0.2),
            score_video("c", truth, found_all, None, truth, None, seconds=0.06),
        ],
    }
    metrics = summarize(scores)
    assert metrics["detection_rate"] == pytest.approx(4 / 6) and metrics["detection_rate/clutter"] == 0.5
    assert metrics["pck"] == 1.0 and metrics["error"] == 0.0 and "mask_iou" not in metrics
    assert metrics["time/ms_per_frame"] == pytest.approx(30.0)
    assert metrics["time/ms_per_frame_min"] == pytest.approx(10.0)
    assert metrics["time/ms_per_frame_max"] == pytest.approx(100.0)
    # a background where nobody was found has no PCK (NaN), not a perfect one
    nobody = summarize({"texture": [scores["clutter"][0]]})
    assert nobody["detection_rate"] == 0.0 and np.isnan(nobody["pck"])


# --------------------------------------------------------------------------------- the command


FRAMES = 6


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic dancers rendered in RGB at 256 px over the studio background, 6 frames each,
    in write_rgb_videos' layout (``studio/<name>.mp4`` beside ``<name>.truth.npz``)."""
    from deepdance.data.synthetic.dataset import video_jobs
    from deepdance.data.synthetic.rgb import render_rgb, save_truth, truth_path
    from deepdance.data.synthetic.settings import SyntheticConfig
    from deepdance.data.video.writer import write_mp4

    config = SyntheticConfig(dancers_per_genre=1, cameras=1, musics=1, seconds=FRAMES / 10, fps=10, size=256)
    root = tmp_path_factory.mktemp("rgb")
    for job in video_jobs(config)[:2]:
        render = render_rgb(job, config, "studio")
        video = write_mp4(root / "studio" / job.name.filename(), render.frames, fps=config.fps)
        save_truth(truth_path(video), render, config.fps)
    return root


class TruthEstimator:
    """A backend that 'finds' the rendered dancer exactly: the truth of the video being read,
    picked by the order the scorer reads them in (a new video starts with ``reset``), except in
    every frame listed in ``missed``."""

    name = "truth"

    def __init__(self, root: Path, missed: tuple[int, ...] = ()) -> None:
        from deepdance.data.synthetic.rgb import load_truth, truth_path

        videos = [v for paths in find_renders(root).values() for v in paths]
        self.truths = [load_truth(truth_path(v)) for v in videos]
        self.missed, self.video, self.frame = missed, -1, 0

    def settings(self) -> dict:
        return {}

    def reset(self) -> None:
        self.video, self.frame = self.video + 1, 0

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        truth, people = self.truths[self.video], []
        for _ in frames:
            f, self.frame = self.frame, self.frame + 1
            points, mask = truth.keypoints[f], truth.masks[f].astype(np.float32)
            box = np.array([*points[:, :2].min(0), *points[:, :2].max(0)], np.float32)
            people.append([] if f in self.missed else [Person(points, box, 0.99, mask)])
        return people

    def close(self) -> None:
        pass


def run_score(root: Path, run_dir: Path, *extra: str) -> dict:
    from deepdance.score_poses import score

    cfg = compose_config(
        "score_poses", [f"rgb_root={root}", f"hydra.run.dir={run_dir}", "pose.smoothing.method=none", *extra]
    )
    metrics, _ = run_task(score, cfg)
    return metrics


def test_the_command_scores_a_perfect_backend_exactly(
    renders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(backends, "build_estimator", lambda config: TruthEstimator(renders, missed=(2,)))
    run_dir = tmp_path / "run"
    run_score(renders, run_dir, "pose.batch_size=4")
    summary = json.loads((run_dir / "summary.json").read_text())
    # frame 2 of each video is missed: 10 of 12 found; where found, every joint and mask is exact
    assert summary["videos"] == 2 and summary["frames"] == 2 * FRAMES
    assert summary["detection_rate"] == pytest.approx(5 / 6) == summary["detection_rate/studio"]
    assert summary["pck"] == 1.0 and summary["pck/studio"] == 1.0
    assert summary["mask_iou"] == 1.0 and summary["error"] == pytest.approx(0.0, abs=1e-6)
    assert all(summary[f"pck_joint/{joint}"] == 1.0 for joint in COCO17)
    assert summary["time/ms_per_frame"] > 0
    assert summary["scored"]["pck_alpha"] == 0.2 and summary["scored"]["backgrounds"] == ["studio"]
    assert (run_dir / "run_info.json").is_file()
    # renders laid out by hand have no record, so no seed
    assert "seed" not in summary and summary["scored"]["renders"] == {}
    rows = list(csv.DictReader((run_dir / "per_video.csv").open()))
    assert [r["background"] for r in rows] == ["studio", "studio"] and rows[0]["pck"] == "1"
    out = capsys.readouterr().out
    assert "studio" in out and "left_wrist" in out and "0.833" in out


def test_report_reads_the_run_dirs(
    renders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Two scoring runs differing in one setting: deepdance.report groups them by that override and
    reads the flat metrics (pck/studio, pck_joint/left_wrist, detection_rate)."""
    from deepdance.report import main as report_main

    study = tmp_path / "study"
    for missed, name in (((), "all"), ((0, 1, 2), "half")):
        monkeypatch.setattr(backends, "build_estimator", lambda config, m=missed: TruthEstimator(renders, m))
        run_score(renders, study / name, f"max_videos={2 if name == 'all' else 1}")
    capsys.readouterr()
    report_main([str(study), "--metrics", "detection_rate,pck/studio,pck_joint/left_wrist,error"])
    text = capsys.readouterr().out
    assert "max_videos=2" in text and "max_videos=1" in text
    rows = {(r["group"], r["metric"]): r for r in csv.DictReader((study / "report" / "groups.csv").open())}
    assert len(rows) == 2 * 4
    # all frames found with 2 videos; frames 0-2 of 6 missed with 1 video
    assert float(rows[("max_videos=2", "detection_rate")]["mean"]) == 1.0
    assert float(rows[("max_videos=1", "detection_rate")]["mean"]) == 0.5
    assert float(rows[("max_videos=1", "pck_joint/left_wrist")]["mean"]) == 1.0
    assert float(rows[("max_videos=2", "pck/studio")]["mean"]) == 1.0


def test_a_folder_without_renders_or_truth_is_one_line(renders: Path, tmp_path: Path) -> None:
    with pytest.raises(DeepdanceError, match="no <background>/\\*.mp4 renders"):
        find_renders(tmp_path)
    with pytest.raises(DeepdanceError, match="has no videos under clutter/; it has studio"):
        find_renders(renders, ["clutter"])
    bare = tmp_path / "bare" / "studio"
    bare.mkdir(parents=True)
    (bare / "x.mp4").write_bytes(b"")
    with pytest.raises(DeepdanceError, match="x.mp4: no ground truth x.truth.npz beside it"):
        find_renders(tmp_path / "bare")


def test_the_renders_seed_is_the_runs(tmp_path: Path) -> None:
    from deepdance.score_poses import render_settings

    assert render_settings(tmp_path) == {}
    (tmp_path / "synthetic_rgb.json").write_text('{"config": {"seed": 7, "size": 256}}')
    assert render_settings(tmp_path) == {"seed": 7, "size": 256}
    (tmp_path / "synthetic_rgb.json").write_text("[1, 2]")
    assert render_settings(tmp_path) == {}
