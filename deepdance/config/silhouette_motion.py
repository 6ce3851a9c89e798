"""``data.motion``: how silhouettes are drawn from annotation keypoints (``data.source=annotations``,
conf/data/motion_silhouettes.yaml; the drawing: ``deepdance.data.silhouette.motion_render``).

Every setting but ``views`` decides the frames, so it is part of their cache key and of a
checkpoint's preprocessing; ``views`` only chooses which cameras become videos.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from deepdance.config.base import Schema


class MotionRenderConfig(Schema, title="data.motion"):
    """A body drawn between 2D keypoints: its widths, the joints trusted, the crop's margin."""

    # an upper arm's width / the sequence's median torso length (legs 1.35x, forearms 0.85x)
    limb_width: float = Field(0.2, gt=0, le=1)
    # the head's radius / the sequence's median shoulder width
    head_radius: float = Field(0.45, gt=0, le=2)
    # joints with a lower confidence (or NaN) are missing
    min_confidence: float = Field(0.05, ge=0, le=1)
    # missing joints are interpolated over gaps up to this long; a longer gap drops their limbs
    max_gap_seconds: float = Field(0.5, ge=0)
    # the fixed crop (data.follow=false) grows by this fraction of its longer side on every side
    margin: float = Field(0.05, ge=0, le=2)
    # e.g. [1, 2] or [c01, c02]: only these cameras' views; null = every view
    views: list[int | str] | None = None

    @field_validator("views")
    @classmethod
    def _cameras(cls, values: list[int | str] | None) -> list[int | str] | None:
        from deepdance.data.aist.names import normalise_cameras

        if values is not None:
            if not values:
                raise ValueError("expected null or a non-empty list of cameras, e.g. [1, 2] or [c01]")
            normalise_cameras(values)
        return values
