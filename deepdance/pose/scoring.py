"""How well the pose front end finds a dancer whose joints and mask are known (the synthetic RGB
renders, ``deepdance.data.synthetic.rgb``): detection rate over every frame, then mask IoU and
PCK@alpha per joint on the frames where a person was found, so a miss is counted once (in the
detection rate) and does not drag the other scores down twice.

PCK@alpha: a joint is correct when its predicted x, y lies within ``alpha`` times the frame's
ground-truth torso length (``deepdance.pose.skeleton.torso_length``) of the truth; errors are
given in the same unit, so they compare across frame sizes and dancers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.pose.skeleton import COCO17, NUM_JOINTS, torso_length


def detection_rate(found: np.ndarray) -> float:
    """Fraction of frames where a person was found (NaN for no frames)."""
    found = np.asarray(found, bool)
    return float(found.mean()) if found.size else float("nan")


def mask_iou(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(F,) intersection over union of each frame's predicted and true masks ((F, H, W), nonzero =
    person); two empty masks agree fully (1.0)."""
    predicted, truth = np.asarray(predicted) > 0, np.asarray(truth) > 0
    if predicted.shape != truth.shape:
        raise ValueError(f"mask shapes differ: predicted {predicted.shape}, truth {truth.shape}")
    inter = (predicted & truth).sum(axis=(-2, -1))
    union = (predicted | truth).sum(axis=(-2, -1))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def joint_errors(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(F, 17) distance of each predicted joint from the truth, in the frame's true torso lengths.

    ``predicted``, ``truth``: (F, 17, >=2) x, y (and confidence) in pixels. A true joint that is
    NaN or has confidence 0 is not scored (NaN); a predicted joint that is NaN is a miss (inf)."""
    predicted, truth = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    if predicted.shape[:2] != truth.shape[:2] or truth.shape[1] != NUM_JOINTS:
        raise ValueError(f"keypoint shapes differ or are not (F, 17, D): {predicted.shape}, {truth.shape}")
    distance = np.linalg.norm(predicted[..., :2] - truth[..., :2], axis=-1)
    distance = np.where(np.isfinite(distance), distance, np.inf)
    scale = torso_length(truth[..., :2])[:, None]
    errors = distance / np.where(scale > 0, scale, np.nan)
    valid = np.isfinite(truth[..., :2]).all(axis=-1) & np.isfinite(scale)
    if truth.shape[-1] > 2:
        valid &= truth[..., 2] > 0
    return np.where(valid, errors, np.nan)


def pck(errors: np.ndarray, alpha: float = 0.2) -> np.ndarray:
    """(17,) fraction of scored frames where each joint is within ``alpha`` torso lengths (NaN for a
    joint never scored). ``errors``: (F, 17) from ``joint_errors``."""
    errors = np.asarray(errors, np.float64).reshape(-1, NUM_JOINTS)
    scored = ~np.isnan(errors)
    hits = (np.where(scored, errors, np.inf) <= alpha).sum(axis=0)
    counts = scored.sum(axis=0)
    return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def mean_error(errors: np.ndarray) -> np.ndarray:
    """(17,) mean error per joint in torso lengths over the joints the estimator placed (a NaN
    prediction counts in PCK as a miss, not here as an infinite error)."""
    errors = np.asarray(errors, np.float64).reshape(-1, NUM_JOINTS)
    finite = np.isfinite(errors)
    counts = finite.sum(axis=0)
    return np.where(counts > 0, np.where(finite, errors, 0).sum(axis=0) / np.maximum(counts, 1), np.nan)


@dataclass
class VideoScore:
    """One video's comparison with its truth: ``found`` (N,) bool over its scored frames,
    ``ious`` (F,) and ``errors`` (F, 17) over the found ones (``ious`` None without masks),
    and the seconds the front end took."""

    name: str
    found: np.ndarray
    errors: np.ndarray
    ious: np.ndarray | None
    seconds: float

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * self.seconds / max(len(self.found), 1)


def score_video(
    name: str,
    keypoints: np.ndarray,
    found: np.ndarray,
    masks: np.ndarray | None,
    truth_keypoints: np.ndarray,
    truth_masks: np.ndarray | None,
    seconds: float = 0.0,
) -> VideoScore:
    """Compare a video's dancer (``keypoints`` (N, 17, 3), ``found`` (N,), ``masks`` (N, H, W) or
    None) with the truth at the same frames; only found frames enter the IoU and the errors."""
    found = np.asarray(found, bool)
    if len(keypoints) != len(truth_keypoints) or len(found) != len(keypoints):
        raise ValueError(f"{name}: {len(keypoints)} estimated frames, {len(truth_keypoints)} true ones")
    errors = joint_errors(np.asarray(keypoints)[found], np.asarray(truth_keypoints)[found])
    ious = None
    if masks is not None and truth_masks is not None:
        ious = mask_iou(np.asarray(masks)[found], np.asarray(truth_masks)[found])
    return VideoScore(name, found, errors, ious, float(seconds))


def _pooled(scores: Sequence[VideoScore], alpha: float) -> dict[str, float]:
    """One group's metrics (videos pooled frame by frame; times as the median over videos)."""
    found = np.concatenate([s.found for s in scores]) if scores else np.zeros(0, bool)
    errors = np.concatenate([s.errors for s in scores]) if scores else np.zeros((0, NUM_JOINTS))
    per_joint = pck(errors, alpha)
    with np.errstate(all="ignore"):
        out = {
            "videos": float(len(scores)),
            "frames": float(len(found)),
            "detection_rate": detection_rate(found),
            "pck": float(np.nanmean(per_joint)) if np.isfinite(per_joint).any() else float("nan"),
            "error": float(np.nanmean(mean_error(errors))) if len(errors) else float("nan"),
        }
    ious = [s.ious for s in scores if s.ious is not None]
    if ious:
        pooled = np.concatenate(ious)
        out["mask_iou"] = float(pooled.mean()) if pooled.size else float("nan")
    times = [s.ms_per_frame for s in scores]
    if times:
        out["time/ms_per_frame"] = float(np.median(times))
        out["time/ms_per_frame_min"] = float(np.min(times))
        out["time/ms_per_frame_max"] = float(np.max(times))
    out.update({f"pck_joint/{joint}": float(v) for joint, v in zip(COCO17, per_joint, strict=True)})
    out.update(
        {f"error_joint/{joint}": float(v) for joint, v in zip(COCO17, mean_error(errors), strict=True)}
    )
    return out


def summarize(by_group: Mapping[str, Sequence[VideoScore]], alpha: float = 0.2) -> dict[str, float]:
    """Flat metrics for ``summary.json``, as ``deepdance.report`` reads them: every video pooled
    under plain names (``pck``, ``pck_joint/left_wrist``, ``time/ms_per_frame``) and each group
    (background) under ``<name>/<group>`` (``pck/studio``, ``pck_joint/studio/left_wrist``)."""
    everything = [score for scores in by_group.values() for score in scores]
    metrics = _pooled(everything, alpha)
    for group, scores in by_group.items():
        for key, value in _pooled(scores, alpha).items():
            head, _, joint = key.partition("_joint/")
            name = f"{head}_joint/{group}/{joint}" if joint else f"{key}/{group}"
            metrics[name] = value
    return metrics


def find_renders(root: Path, backgrounds: Sequence[str] | None = None) -> dict[str, list[Path]]:
    """``root/<background>/<name>.mp4`` with ``<name>.truth.npz`` beside each (the layout of
    ``write_rgb_videos``), by background, sorted; one line for a video without its truth, an
    unknown background or a folder with no renders."""
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.mp4")))
    found = {folder.name: sorted(folder.glob("*.mp4")) for folder in folders}
    if backgrounds is not None:
        unknown = [b for b in backgrounds if b not in found]
        if unknown:
            raise DeepdanceError(
                f"backgrounds={list(backgrounds)}: {root} has no videos under {unknown[0]}/; "
                f"it has {', '.join(found) or 'none'}"
            )
        found = {b: found[b] for b in backgrounds}
    if not found:
        raise DeepdanceError(
            f"rgb_root={root}: no <background>/*.mp4 renders; write them with "
            "python -m deepdance.make_synthetic --root <folder> --rgb"
        )
    from deepdance.data.synthetic.rgb import truth_path

    for videos in found.values():
        for video in videos:
            if not truth_path(video).is_file():
                raise DeepdanceError(f"{video}: no ground truth {truth_path(video).name} beside it")
    return found
