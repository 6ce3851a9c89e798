"""The dancer's body: limb lengths drawn per dancer, and forward kinematics from joint angles
to canvas points. Kept apart from ``kinematics`` (the motion) so each file has one job."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepdance.data.synthetic.kinematics import JOINTS, REST


@dataclass(frozen=True)
class Body:
    """Segment lengths and thicknesses in units of a nominal body height."""

    head_r: float = 0.065
    neck: float = 0.03
    torso: float = 0.30
    # half width between shoulder joints
    shoulder: float = 0.085
    # half width between hip joints
    hip: float = 0.05
    upper_arm: float = 0.15
    forearm: float = 0.14
    thigh: float = 0.24
    shin: float = 0.23
    foot: float = 0.055
    arm_w: float = 0.07
    leg_w: float = 0.09
    # half width of the torso at the waist
    waist_w: float = 0.085

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Body:
        lengths = (
            "head_r",
            "neck",
            "torso",
            "shoulder",
            "hip",
            "upper_arm",
            "forearm",
            "thigh",
            "shin",
            "foot",
        )
        widths = ("arm_w", "leg_w", "waist_w")
        default = cls()
        # legs, torso, arms scale together for plausibility
        stature = rng.uniform(0.95, 1.05, 3)
        group = {"thigh": 0, "shin": 0, "foot": 0, "torso": 1, "neck": 1, "upper_arm": 2, "forearm": 2}
        build = rng.uniform(0.8, 1.25)
        values = {
            k: getattr(default, k) * stature[group[k]] * rng.uniform(0.96, 1.04)
            if k in group
            else getattr(default, k) * rng.uniform(0.92, 1.08)
            for k in lengths
        }
        values.update({k: getattr(default, k) * build * rng.uniform(0.9, 1.1) for k in widths})
        return cls(**values)


def forward_kinematics(angles: np.ndarray, body: Body) -> dict[str, np.ndarray]:
    """2-D joint positions (T, 2) in body units, y up, standing on y=0 over x=0.

    The lowest foot touches the ground; horizontally the figure is anchored at its grounded
    feet (a lifted leg does not drag the body), so sways and kicks look planted.
    """
    a = {name: angles[:, i] for i, name in enumerate(JOINTS)}
    T = angles.shape[0]

    def ray(origin: np.ndarray, angle: np.ndarray, length: float) -> np.ndarray:
        return origin + length * np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    pelvis = np.zeros((T, 2))
    up = np.pi / 2 - a["torso"]
    neck = ray(pelvis, up, body.torso)
    # torso's screen-right direction
    across = np.stack([np.sin(up), -np.cos(up)], axis=-1)
    pts = {"pelvis": pelvis, "neck": neck, "head": ray(neck, up - a["head"], body.neck + body.head_r)}
    for side, s in (("l", -1.0), ("r", 1.0)):
        shoulder = ray(neck, up + np.pi, 0.02) + s * body.shoulder * across
        upper = -np.pi / 2 + s * a[f"{side}_arm"] - a["torso"]
        elbow = ray(shoulder, upper, body.upper_arm)
        wrist = ray(elbow, upper + s * a[f"{side}_elbow"], body.forearm)
        hip = pelvis + np.array([s * body.hip, 0.0])
        thigh = -np.pi / 2 + s * (a[f"{side}_hip"] + 0.5 * a[f"{side}_knee"]) + a["sway"]
        knee = ray(hip, thigh, body.thigh)
        ankle = ray(knee, thigh - s * a[f"{side}_knee"], body.shin)
        toe = ankle + np.array([s * body.foot, 0.0])
        pts.update(
            {
                f"{side}_shoulder": shoulder,
                f"{side}_elbow": elbow,
                f"{side}_wrist": wrist,
                f"{side}_hip": hip,
                f"{side}_knee": knee,
                f"{side}_ankle": ankle,
                f"{side}_toe": toe,
            }
        )
    feet_y = np.stack([pts["l_ankle"][:, 1], pts["r_ankle"][:, 1]], axis=1)
    ground = feet_y.min(axis=1)
    # ~1 for a planted foot, ~0 when lifted
    grounded = np.exp(-(feet_y - ground[:, None]) / 0.02)
    feet_x = np.stack([pts["l_ankle"][:, 0], pts["r_ankle"][:, 0]], axis=1)
    anchor_x = (grounded * feet_x).sum(axis=1) / grounded.sum(axis=1)
    shift = np.stack([-anchor_x, -ground + body.leg_w / 2 + a["hop"]], axis=-1)
    return {name: p + shift for name, p in pts.items()}


def _stand_height(body: Body) -> float:
    """Height of the figure's rest pose (sole to top of head), to frame every body alike."""
    rest = np.array([[REST[name] for name in JOINTS]])
    pts = forward_kinematics(rest, body)
    return float(pts["head"][0, 1] + body.head_r)


# The figure has no face, so its face keypoints follow one rule: offsets from the head centre in
# head radii, along the head's axis (neck to head, "up") and across it. The dancer faces the
# camera, so the dancer's left is the screen's right (+across), as in AIST++'s frontal views:
# eyes a little above the centre, the nose below it, the ears at the sides, all on the head disc.
FACE_RULE: dict[str, tuple[float, float]] = {
    "nose": (-0.25, 0.0),
    "left_eye": (0.1, 0.38),
    "right_eye": (0.1, -0.38),
    "left_ear": (-0.05, 0.85),
    "right_ear": (-0.05, -0.85),
}


def face_points(pts: dict[str, np.ndarray], body: Body) -> dict[str, np.ndarray]:
    """Nose, eyes and ears (T, 2) in body units by ``FACE_RULE``, from ``forward_kinematics``' points.

    Placed in body units (not on the canvas), they go through a camera's framing like the joints
    do, so they stay on the head (inside its disc: a camera's squash only narrows it) and the
    exported 3-D points project onto them through every camera.
    """
    up = pts["head"] - pts["neck"]
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    across = np.stack([up[:, 1], -up[:, 0]], axis=-1)
    return {
        name: pts["head"] + body.head_r * (along * up + side * across)
        for name, (along, side) in FACE_RULE.items()
    }
