"""Motion metrics on COCO-17 joint sequences in the field's terms (FACT, Bailando): FID_k, FID_g,
Div_k, Div_g on 4 s windows, with deepdance's liveliness, foot skating and novelty. Definitions,
units and what they cannot be compared with: docs/motion_metrics.md."""

from deepdance.metrics.motion.geometric import GEOMETRIC_FEATURES, geometric_features
from deepdance.metrics.motion.joints import WINDOW_SECONDS, Windows, cut_windows, window_length
from deepdance.metrics.motion.kinetic import KINETIC_PARTS, kinetic_features
from deepdance.metrics.motion.scores import (
    FootSkating,
    FrechetScore,
    MotionScores,
    Standardiser,
    foot_skating,
    joint_speed,
    liveliness_ratio,
    motion_diversity,
    motion_fid,
    real_floor,
    real_standardiser,
    score_motion,
    window_novelty,
)

__all__ = [
    "GEOMETRIC_FEATURES",
    "KINETIC_PARTS",
    "WINDOW_SECONDS",
    "FootSkating",
    "FrechetScore",
    "MotionScores",
    "Standardiser",
    "Windows",
    "cut_windows",
    "foot_skating",
    "geometric_features",
    "joint_speed",
    "kinetic_features",
    "liveliness_ratio",
    "motion_diversity",
    "motion_fid",
    "real_floor",
    "real_standardiser",
    "score_motion",
    "window_length",
    "window_novelty",
]
