"""Synthetic dancers whose genre shows only in their motion: motion, drawing, and their folders.

The names below load their module on first use (PEP 562), so importing the light
``settings`` module (the start-up checks, Hydra's schema store) does not pull in the renderer,
OpenCV or the video writer through this package.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "GENERATOR_VERSION": "settings",
    "SyntheticConfig": "settings",
    "ensure_synthetic_annotations": "annotations",
    "ensure_synthetic_dataset": "dataset",
    "export_annotations": "annotations",
    "generate_dataset": "dataset",
    "video_jobs": "dataset",
    "FAMILIES": "kinematics",
    "JOINTS": "kinematics",
    "direction_of": "kinematics",
    "family_of": "kinematics",
    "joint_angles": "kinematics",
    "speed_of": "kinematics",
    "render_dance": "renderer",
    "render_frames": "renderer",
    "render_silhouettes": "renderer",
    "ensure_synthetic_silhouettes": "silhouettes",
    "load_truth": "rgb",
    "render_rgb": "rgb",
    "write_rgb_videos": "rgb",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
