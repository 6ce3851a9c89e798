"""Synthetic dancers whose genre shows only in their motion: motion, drawing, and their folders."""

from deepdance.data.synthetic.dataset import (
    GENERATOR_VERSION,
    SyntheticConfig,
    ensure_synthetic_dataset,
    generate_dataset,
    video_jobs,
)
from deepdance.data.synthetic.kinematics import (
    FAMILIES,
    JOINTS,
    direction_of,
    family_of,
    joint_angles,
    speed_of,
)
from deepdance.data.synthetic.renderer import render_dance, render_frames, render_silhouettes
from deepdance.data.synthetic.silhouettes import ensure_synthetic_silhouettes

__all__ = [
    "FAMILIES",
    "GENERATOR_VERSION",
    "JOINTS",
    "SyntheticConfig",
    "direction_of",
    "ensure_synthetic_dataset",
    "ensure_synthetic_silhouettes",
    "family_of",
    "generate_dataset",
    "joint_angles",
    "render_dance",
    "render_frames",
    "render_silhouettes",
    "speed_of",
    "video_jobs",
]
