"""Score the pose front end against synthetic RGB renders whose joints and masks are known.

    python -m deepdance.make_synthetic --root data/synthetic_rgb --rgb --dancers-per-genre 1
    python -m deepdance.score_poses rgb_root=data/synthetic_rgb
    python -m deepdance.score_poses rgb_root=data/synthetic_rgb pose.smoothing.method=none max_videos=3

Every video is estimated afresh (``estimate_video``, not the pose store), so its time is real:
``time/ms_per_frame`` is the wall time of ``estimate_video`` per frame (decoding, the backend,
tracking, smoothing; MediaPipe's graph is started again for each video), with the backend built
once beforehand and its build not counted; the median over videos, with ``_min`` and ``_max``.
``summary.json`` (flat keys, as ``deepdance.report`` reads them): over all videos ``detection_rate``,
``mask_iou``, ``pck`` (PCK@alpha, mean over joints), ``error`` (mean joint error in torso lengths),
``pck_joint/<joint>``, ``error_joint/<joint>``, ``time/ms_per_frame``; per background the same keys
with ``/<background>`` (``pck/studio``, ``pck_joint/studio/left_wrist``); ``seed``: the renders' seed
(``make_synthetic --seed``), so a study over render seeds pairs settings seed by seed.
``per_video.csv`` beside it.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig

from deepdance.config.validate import validate_score_poses
from deepdance.errors import DeepdanceError
from deepdance.pose import backends
from deepdance.pose.scoring import VideoScore, score_video, summarize
from deepdance.pose.skeleton import COCO17
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.run import task_wrapper, write_summary
from deepdance.utils.run_info import write_run_info

log = logging.getLogger("deepdance.score_poses")
TIMED = (
    "wall time of estimate_video per frame (decode, backend, tracking, smoothing), backend built once "
    "beforehand; median over videos"
)


def score_one(video: Path, config: Any, estimator: Any) -> VideoScore:
    """Estimate ``video`` (timed) and compare it with the truth beside it."""
    from deepdance.data.synthetic.rgb import load_truth, truth_path
    from deepdance.pose.video_poses import estimate_video

    start = time.perf_counter()
    poses = estimate_video(video, config, estimator=estimator)
    seconds = time.perf_counter() - start
    truth = load_truth(truth_path(video))
    if int(poses.frame_indices.max(initial=-1)) >= len(truth.keypoints):
        raise DeepdanceError(
            f"{truth_path(video)}: truth of {len(truth.keypoints)} frames, but {video.name} has frame "
            f"{int(poses.frame_indices.max())}; render the folder again"
        )
    frames = poses.frame_indices
    masks = truth.masks[frames] if poses.masks is not None else None
    return score_video(
        video.name, poses.keypoints, poses.found, poses.masks, truth.keypoints[frames], masks, seconds
    )


def render_settings(root: Path) -> dict[str, Any]:
    """The settings the renders were made with (``write_rgb_videos``' record), or {} for a folder
    laid out by hand: its ``seed`` becomes the run's, so a study over render seeds pairs by seed."""
    import json

    from deepdance.data.synthetic.rgb import RECORD_NAME

    try:
        config = json.loads((root / RECORD_NAME).read_text()).get("config")
    except (OSError, ValueError, AttributeError):
        return {}
    return config if isinstance(config, dict) else {}


def write_per_video(path: Path, by_background: dict[str, list[VideoScore]], alpha: float) -> Path:
    """One row per video: its frames, detection rate, mask IoU, PCK, error and ms per frame."""
    from io import StringIO

    text = StringIO()
    writer = csv.writer(text)
    columns = ["frames", "detection_rate", "mask_iou", "pck", "error", "time/ms_per_frame"]
    writer.writerow(["background", "video", *columns])
    for background, scores in by_background.items():
        for score in scores:
            metrics = summarize({background: [score]}, alpha)
            writer.writerow([background, score.name, *(_cell(metrics.get(c)) for c in columns)])
    return atomic_write_text(path, text.getvalue())


def _cell(value: float | None) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.6g}"


def print_tables(metrics: dict[str, float], backgrounds: list[str], alpha: float) -> None:
    """The summary per background and over all, then PCK per joint, as rich tables."""
    from rich.console import Console
    from rich.table import Table

    def fmt(key: str, digits: int = 3) -> str:
        value = metrics.get(key)
        return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"

    table = Table(title=f"pose front end vs ground truth (PCK@{alpha:g} of torso length)")
    for column in ("background", "videos", "frames", "detected", "mask IoU", "PCK", "error", "ms/frame"):
        table.add_column(column, justify="left" if column == "background" else "right")
    for name, suffix in [*((b, f"/{b}") for b in backgrounds), ("all", "")]:
        table.add_row(
            name,
            fmt(f"videos{suffix}", 0),
            fmt(f"frames{suffix}", 0),
            fmt(f"detection_rate{suffix}"),
            fmt(f"mask_iou{suffix}"),
            fmt(f"pck{suffix}"),
            fmt(f"error{suffix}"),
            f"{fmt(f'time/ms_per_frame{suffix}', 1)} "
            f"[{fmt(f'time/ms_per_frame_min{suffix}', 1)}-{fmt(f'time/ms_per_frame_max{suffix}', 1)}]",
        )
    joints = Table(title=f"PCK@{alpha:g} per joint (frames where the dancer was found)")
    joints.add_column("joint")
    for name in [*backgrounds, "all"]:
        joints.add_column(name, justify="right")
    for joint in COCO17:
        joints.add_row(
            joint,
            *(fmt(f"pck_joint/{b}/{joint}") for b in backgrounds),
            fmt(f"pck_joint/{joint}"),
        )
    console = Console(width=120)
    console.print(table)
    console.print(joints)


@task_wrapper
def score(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Estimate every render, compare with its truth, write summary.json; as a task, so a user
    error is one line (exit code 2)."""
    command, config, videos = validate_score_poses(cfg)
    out = Path(cfg.paths.output_dir)
    write_run_info(out, cfg)
    by_background: dict[str, list[VideoScore]] = {}
    total = sum(len(paths) for paths in videos.values())
    estimator = backends.build_estimator(config)
    try:
        number = 0
        for background, paths in videos.items():
            for video in paths:
                number += 1
                result = score_one(video, config, estimator)
                by_background.setdefault(background, []).append(result)
                log.info(
                    "%d/%d %s/%s: found in %d of %d frames, %.1f ms/frame",
                    number,
                    total,
                    background,
                    video.name,
                    int(result.found.sum()),
                    len(result.found),
                    result.ms_per_frame,
                )
    finally:
        estimator.close()
    metrics = summarize(by_background, command.alpha)
    root = Path(command.rgb_root).expanduser().resolve()
    rendered = render_settings(root)
    seed = {"seed": rendered["seed"]} if isinstance(rendered.get("seed"), int) else {}
    path = write_summary(
        out,
        metrics,
        **seed,
        scored={
            "rgb_root": str(root),
            "renders": rendered,
            "backgrounds": list(videos),
            "pck_alpha": command.alpha,
            "backend": config.backend,
            "timed": TIMED,
        },
    )
    write_per_video(out / "per_video.csv", by_background, command.alpha)
    log.info("wrote %s", path)
    print_tables(metrics, list(videos), command.alpha)
    return metrics, {"scores": by_background, "summary": path}


@hydra.main(version_base="1.3", config_path="../conf", config_name="score_poses")
def main(cfg: DictConfig) -> None:
    """Hydra entry point, apart from score() so tests can call the task with a composed config."""
    score(cfg)


if __name__ == "__main__":
    main()
