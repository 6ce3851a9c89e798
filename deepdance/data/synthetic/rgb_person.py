"""The RGB renders' dancer: a look (the genre videos' body, any clothing colours, a face's
colours) and one pose drawn with it as filled, anti-aliased parts, far side first. Apart from
``rgb`` (backgrounds, videos, ground truth) as the one place a dancer's appearance is decided."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from deepdance.data.synthetic.body import Body
from deepdance.data.synthetic.renderer import HAIR_COLOURS, SHIFT, SKIN_TONES, Appearance, _hsv_rgb

_ONE = 1 << SHIFT

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class RgbLook:
    """A dancer's RGB look: the genre videos' body (same dancer), any clothing colours."""

    body: Body
    # skin, hair, top, sleeve (top or skin), bottom, shin (bottom or skin), shoe and the face's parts
    colours: dict[str, Colour]
    far_shade: float = 0.85

    @classmethod
    def sample(cls, dancer_seed: int) -> RgbLook:
        rng = np.random.default_rng([dancer_seed, 0xB6B])
        skin = SKIN_TONES[rng.integers(len(SKIN_TONES))]
        top = _hsv_rgb(rng, (0.1, 0.9), (0.2, 0.95))
        bottom = (
            _hsv_rgb(rng, (0.4, 0.7), (0.25, 0.55), hue=(100, 120))  # jeans
            if rng.random() < 0.35
            else _hsv_rgb(rng, (0.0, 0.8), (0.1, 0.9))
        )
        lip = tuple(int(c) for c in np.clip(np.array(skin) * [0.8, 0.45, 0.45] + [30, 0, 0], 0, 255))
        colours = {
            "skin": skin,
            "hair": HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
            "top": top,
            "sleeve": top if rng.random() < 0.6 else skin,
            "bottom": bottom,
            "shin": bottom if rng.random() < 0.75 else skin,
            "shoe": (240, 240, 240) if rng.random() < 0.3 else _hsv_rgb(rng, (0.0, 0.5), (0.05, 0.3)),
            "sclera": (245, 245, 240),
            "iris": _hsv_rgb(rng, (0.3, 0.7), (0.15, 0.4), hue=(5, 110)),
            "pupil": (10, 10, 10),
            "lip": lip,
            "shadow": tuple(int(c * 0.72) for c in skin),
        }
        return cls(body=Appearance.sample(dancer_seed).body, colours=colours)

    def as_mask(self) -> RgbLook:
        """The same shapes, every part white: what the mask canvas is drawn with."""
        return RgbLook(self.body, dict.fromkeys(self.colours, (255, 255, 255)), far_shade=1.0)


def _fixed(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]) * _ONE)), int(round(float(p[1]) * _ONE))


@dataclass(frozen=True)
class _Pen:
    """Anti-aliased, sub-pixel shapes on one canvas; sizes in body units, ``px`` pixels each."""

    canvas: np.ndarray
    at: dict[str, np.ndarray]
    px: float

    def limb(self, p: str, q: str, colour: Colour, width: float) -> None:
        thickness = max(1, int(round(width * self.px)))
        cv2.line(self.canvas, _fixed(self.at[p]), _fixed(self.at[q]), colour, thickness, cv2.LINE_AA, SHIFT)

    def disc(self, centre: np.ndarray, colour: Colour, radius: float) -> None:
        radius_fixed = max(1, int(round(radius * self.px * _ONE)))
        cv2.circle(self.canvas, _fixed(centre), radius_fixed, colour, -1, cv2.LINE_AA, SHIFT)

    def oval(self, centre: np.ndarray, axes: tuple[float, float], angle: float, colour: Colour) -> None:
        size = (max(1, int(round(axes[0] * self.px * _ONE))), max(1, int(round(axes[1] * self.px * _ONE))))
        cv2.ellipse(self.canvas, _fixed(centre), size, angle, 0, 360, colour, -1, cv2.LINE_AA, SHIFT)


def _shade(look: RgbLook, name: str, factor: float) -> Colour:
    return tuple(int(c * factor) for c in look.colours[name])


def _draw_head(pen: _Pen, look: RgbLook) -> None:
    """Hair behind, ears, the face, then its parts (all in head radii r), turned with the head."""
    at, col, px, r = pen.at, look.colours, pen.px, look.body.head_r
    up = at["head"] - at["nose"]
    up = up / max(float(np.hypot(*up)), 1e-6)
    angle = float(np.degrees(np.arctan2(-up[0], -up[1]))) * -1.0
    pen.disc(at["hair"], col["hair"], r)
    for ear in ("left_ear", "right_ear"):
        pen.oval(at[ear] + (at[ear] - at["head"]) * 0.2, (0.16 * r, 0.26 * r), angle, col["shadow"])
    pen.disc(at["face"], col["skin"], 0.9 * r)
    for eye in ("left_eye", "right_eye"):
        # the brow
        pen.oval(at[eye] + up * 0.32 * r * px, (0.24 * r, 0.06 * r), angle, col["hair"])
        pen.oval(at[eye], (0.2 * r, 0.12 * r), angle, col["sclera"])
        pen.disc(at[eye], col["iris"], 0.1 * r)
        pen.disc(at[eye], col["pupil"], 0.05 * r)
    mid_eyes = (at["left_eye"] + at["right_eye"]) / 2
    line_w = max(1, int(round(0.07 * r * px)))
    top = _fixed(mid_eyes - up * 0.1 * r * px)
    cv2.line(pen.canvas, top, _fixed(at["nose"]), col["shadow"], line_w, cv2.LINE_AA, SHIFT)
    pen.oval(at["nose"], (0.12 * r, 0.07 * r), angle, col["shadow"])
    # the mouth
    pen.oval(at["nose"] - up * 0.3 * r * px, (0.25 * r, 0.08 * r), angle, col["lip"])


def draw_person(canvas: np.ndarray, at: dict[str, np.ndarray], look: RgbLook, px: float) -> None:
    """One pose (float canvas points) as filled, anti-aliased parts with a frontal face, far side first."""
    b, col, pen = look.body, look.colours, _Pen(canvas, at, px)
    # the legs
    for side, factor in (("l", look.far_shade), ("r", 1.0)):
        pen.limb(f"{side}_ankle", f"{side}_toe", _shade(look, "shoe", factor), 0.6 * b.leg_w)
        pen.limb(f"{side}_knee", f"{side}_ankle", _shade(look, "shin", factor), 0.8 * b.leg_w)
        pen.limb(f"{side}_hip", f"{side}_knee", _shade(look, "bottom", factor), b.leg_w)
    pen.limb("l_hip", "r_hip", col["bottom"], b.leg_w * 1.1)
    quad = np.array([_fixed(at[f"torso_{k}"]) for k in range(4)], dtype=np.int32)
    cv2.fillConvexPoly(canvas, quad, col["top"], cv2.LINE_AA, SHIFT)
    pen.limb("l_shoulder", "r_shoulder", col["top"], b.arm_w)
    pen.limb("neck", "head", col["skin"], 0.5 * b.arm_w + 0.01)
    _draw_head(pen, look)
    # arms in front of the torso
    for side, factor in (("l", look.far_shade), ("r", 1.0)):
        pen.limb(f"{side}_elbow", f"{side}_wrist", _shade(look, "sleeve", factor), 0.85 * b.arm_w)
        pen.limb(f"{side}_shoulder", f"{side}_elbow", _shade(look, "top", factor), b.arm_w)
        pen.disc(at[f"{side}_wrist"], _shade(look, "skin", factor), 0.6 * b.arm_w)
