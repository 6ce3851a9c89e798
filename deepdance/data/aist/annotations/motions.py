"""AIST++ SMPL ``motions/`` files are refused, with the reason and the way forward.

A motions file holds SMPL pose parameters (``smpl_poses`` (N, 72) axis-angle, ``smpl_trans``,
``smpl_scaling``), not joint positions. Turning them into joints needs the SMPL body model's
rest-pose joints and skinning weights, a file distributed under its own licence behind a
registration, which AIST++ does not ship and deepdance cannot download. The same motion as
COCO-17 joints in centimetres is in ``keypoints3d/`` (triangulated from the nine cameras).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepdance.errors import DeepdanceError

SMPL_KEYS = frozenset({"smpl_poses", "smpl_trans", "smpl_scaling"})


def motions_refusal(path: str | Path) -> DeepdanceError:
    """The one-line error for an SMPL motions file: why it is not read, and what to read instead."""
    return DeepdanceError(
        f"{path}: SMPL motions are not read: their joints need the licence-gated SMPL body model's "
        "rest-pose joints, which AIST++ does not ship; use the same sequence's keypoints3d/<seq>.pkl "
        "(COCO-17 joints in cm) instead"
    )


def is_motions_path(path: str | Path) -> bool:
    """A file in a ``motions/`` folder is refused before it is even opened."""
    return Path(path).parent.name == "motions"


def refuse_if_motions(path: str | Path, data: dict[str, Any] | None = None) -> None:
    """Raise the refusal for a file under ``motions/`` or a dict with SMPL keys."""
    if is_motions_path(path) or (data is not None and SMPL_KEYS & set(data)):
        raise motions_refusal(path)
