"""Synthetic dancers whose genre shows only in their motion, written as AIST++-named mp4 files.

Why this design: a genre classifier that sees frames over time should beat one that sees a
single frame. Here the ten genres are five *movement families* x two *timings*:

* a family fixes which big limbs move (arms windmilling overhead, side kicks, torso sway,
  waacking forearms, plie bounce with arms), so one frame usually tells the family;
* the two genres of a family perform the very same periodic motion to the same music; the
  second dances it in *double time* (twice as many moves per beat) and backwards
  (genre B's pose at time t is genre A's pose at time -2t). With a uniformly random phase,
  every pose is equally likely in both, so a single frame cannot tell them apart
  (single-frame accuracy is capped near 0.5); two frames a fraction of a period apart can:
  the limbs move twice as far between them, and round their loops the other way.

A dance period lasts 1.3-2 s in the family's first genre (2 beats at 80-92 BPM, or 4 beats at
120-130 BPM) and 0.65-1 s in double time, so frames sampled every 0.19-0.25 s (16 or 12 over a
3 s clip) stay under half a period apart; heavier sampling jitter aliases the fast genre, which still
moves more between frames.

Appearance (body proportions, clothes, skin, background, camera framing) is drawn from one
pool shared by every genre, and cameras never mirror (a mirror would swap left and right
limbs and so the direction of the loops). Each dancer keeps one appearance in all videos;
dancer ids are disjoint per genre as in AIST++. Everything is deterministic from the seed.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from deepdance.data.aist import GENRES, AistName
from deepdance.data.owned_folder import OwnedFolder, file_facts
from deepdance.data.video import DECORD_BAD_WIDTHS
from deepdance.data.video_writer import write_mp4
from deepdance.errors import DeepdanceError, SettingError

log = logging.getLogger(__name__)

# Bump when the rendered videos change for the same config: stored datasets then regenerate.
GENERATOR_VERSION = 6
MANIFEST_NAME = "synthetic.json"

# --------------------------------------------------------------------------------------------
# Motion: joint angles as functions of the dance phase
# --------------------------------------------------------------------------------------------

# Angles in radians. *_arm: raise of the upper arm away from the body (0 = hanging, pi/2 =
# horizontal, pi = overhead); *_elbow: forearm bend in the raise direction; *_hip: sideways
# leg lift; *_knee: knee bend (knee goes out, foot comes back in); torso: lean to screen right;
# head: head tilt; sway: both legs lean so the pelvis shifts over the feet; hop: lift of the
# whole body in body heights. "l" is the limb on the screen's left.
JOINTS: tuple[str, ...] = (
    "torso", "head", "l_arm", "l_elbow", "r_arm", "r_elbow",
    "l_hip", "l_knee", "r_hip", "r_knee", "sway", "hop",
)
J = {name: i for i, name in enumerate(JOINTS)}
REST: dict[str, float] = {
    "torso": 0.0, "head": 0.0, "l_arm": 0.22, "l_elbow": 0.15, "r_arm": 0.22, "r_elbow": 0.15,
    "l_hip": 0.07, "l_knee": 0.05, "r_hip": 0.07, "r_knee": 0.05, "sway": 0.0, "hop": 0.0,
}

Motion = Callable[[np.ndarray], dict[str, np.ndarray]]


def _pos(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


@dataclass(frozen=True)
class Family:
    """One movement vocabulary, danced by ``genres[0]``, and backwards in double time by ``genres[1]``."""

    name: str
    genres: tuple[str, str]
    description: str
    base: dict[str, float]  # the pose the motion oscillates around (REST for joints not named)
    motion: Motion  # phase theta (rad) -> deviations from base, per joint
    tempo_bpm: tuple[float, float]  # music tempo range (within 80-130 BPM)
    accent: str  # "smooth" (sine-like) or "hit" (snap to a key pose, then hold: popping)
    beats: int  # beats per dance period: 2 at slow tempi, 4 (half time) at fast ones


def _windmill(th: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "l_arm": 1.25 * np.sin(th), "r_arm": 1.25 * np.sin(th + np.pi / 2),
        "l_knee": 0.25 * _pos(np.sin(2 * th)), "r_knee": 0.25 * _pos(np.sin(2 * th)),
        "torso": 0.08 * np.sin(th + np.pi / 4), "head": 0.12 * np.sin(th + np.pi / 4),
    }


def _kicks(th: np.ndarray) -> dict[str, np.ndarray]:
    s, c = np.sin(th), np.cos(th)
    return {  # each leg chambers (knee bent) on the way up and comes down straight
        "l_hip": 0.85 * _pos(s), "l_knee": 2.4 * _pos(s) * _pos(c),
        "r_hip": 0.85 * _pos(-s), "r_knee": 2.4 * _pos(-s) * _pos(-c),
        # Between kicks the body leans one way, then the other (hips shifting against the lean):
        # the held poses between kicks differ, so the order of the key poses shows the direction.
        "torso": 0.35 * c, "sway": 0.15 * c, "head": 0.15 * c,
    }


def _sway(th: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "torso": 0.45 * np.sin(th), "sway": 0.3 * np.cos(th), "head": 0.3 * np.sin(th - np.pi / 2),
        "l_arm": 0.4 * np.sin(th + np.pi / 2), "r_arm": 0.4 * np.sin(th - np.pi / 2),
        "l_elbow": 0.3 * np.sin(th), "r_elbow": 0.3 * np.sin(th + np.pi),
        "l_knee": 0.3 * _pos(np.sin(2 * th)), "r_knee": 0.3 * _pos(np.sin(2 * th)),
    }


def _waack(th: np.ndarray) -> dict[str, np.ndarray]:
    return {  # each hand circles: upper-arm raise and forearm bend a quarter period apart
        "l_arm": 0.6 * np.sin(th), "l_elbow": 1.0 * np.sin(th + np.pi / 2),
        "r_arm": 0.6 * np.sin(th + np.pi), "r_elbow": 1.0 * np.sin(th + 3 * np.pi / 2),
        "l_knee": 0.2 * _pos(np.sin(2 * th)), "r_knee": 0.2 * _pos(np.sin(2 * th)),
        "torso": 0.06 * np.sin(th + np.pi / 2),
    }


def _plie(th: np.ndarray) -> dict[str, np.ndarray]:
    s, c = np.sin(th), np.cos(th)
    return {  # deep knee bend and both arms rising, a quarter period apart
        "l_knee": 0.65 * s, "r_knee": 0.65 * s,
        "l_arm": 1.05 * c, "r_arm": 1.05 * c, "l_elbow": -0.25 * s, "r_elbow": -0.25 * s,
        "hop": 0.05 * _pos(-s) ** 2, "head": 0.1 * c,
    }


FAMILIES: tuple[Family, ...] = (
    Family("windmill", ("BR", "PO"), "straight arms swing overhead, left and right a quarter period apart",
           {"l_arm": 1.55, "r_arm": 1.55, "l_elbow": 0.2, "r_elbow": 0.2}, _windmill, (120, 130), "smooth", 4),
    Family("kicks", ("LO", "MH"), "alternating side kicks with a chambered knee, hands on hips, torso counter-lean",
           {"l_arm": 0.6, "r_arm": 0.6, "l_elbow": -1.6, "r_elbow": -1.6}, _kicks, (80, 88), "hit", 2),
    Family("sway", ("LH", "HO"), "torso lean and hip shift a quarter period apart, loose arms, double bounce",
           {"l_arm": 0.4, "r_arm": 0.4, "l_elbow": 0.5, "r_elbow": 0.5}, _sway, (120, 130), "smooth", 4),
    Family("waack", ("WA", "KR"), "arms out at shoulder height, forearms whip round in circles, opposite arms",
           {"l_arm": 1.45, "r_arm": 1.45, "l_elbow": 1.0, "r_elbow": 1.0}, _waack, (80, 88), "hit", 2),
    Family("plie", ("JS", "JB"), "deep knee bends with both arms rising and falling, a hop when straight",
           {"l_knee": 0.7, "r_knee": 0.7, "l_arm": 1.25, "r_arm": 1.25, "l_elbow": 0.3, "r_elbow": 0.3},
           _plie, (84, 92), "smooth", 2),
)
GENRE_FAMILY: dict[str, Family] = {g: f for f in FAMILIES for g in f.genres}
assert sorted(GENRE_FAMILY) == sorted(GENRES), "every genre needs exactly one family"

HIT_KEYS = 4  # key poses per period for "hit" accents (hit families: 2 beats a period, a hit per half beat)
HIT_SNAP = 0.45  # fraction of each key-to-key interval spent moving; the rest is held


def family_of(genre: str) -> Family:
    try:
        return GENRE_FAMILY[genre]
    except KeyError:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}") from None


def direction_of(genre: str) -> int:
    """+1 for the family's forward genre, -1 for the one that dances it backwards in time."""
    return 1 if family_of(genre).genres[0] == genre else -1


def speed_of(genre: str) -> int:
    """Moves per beat relative to the family's first genre: 1 for it, 2 (double time) for the second."""
    return 1 if family_of(genre).genres[0] == genre else 2


def music_tempo(genre: str, music: int) -> float:
    """Tempo (BPM) of music ``music`` (0-based, as in ``mBR0``) of ``genre``.

    Depends on the family only: both genres of a family dance to the same music, the second in
    double time, so the timing of the moves, not the music, tells them apart. Successive music ids spread
    over the family's range by the golden ratio, so any number of musics get distinct tempi.
    """
    lo, hi = family_of(genre).tempo_bpm
    return lo + (hi - lo) * ((0.25 + 0.618034 * music) % 1.0)


def _warp(phase: np.ndarray, accent: str) -> np.ndarray:
    """Map a linear phase to the danced phase: identity for smooth, snap-and-hold for hits."""
    if accent == "smooth":
        return phase
    s = phase * HIT_KEYS / (2 * np.pi)
    x = np.clip((s - np.floor(s)) / HIT_SNAP, 0.0, 1.0)
    return (np.floor(s) + x * x * (3 - 2 * x)) * (2 * np.pi / HIT_KEYS)


def joint_angles(
    genre: str,
    t: np.ndarray | float,
    tempo_bpm: float | None = None,
    phase: float = 0.0,
    amplitude: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Joint values (len(t), len(JOINTS)) of ``genre`` at times ``t`` (seconds).

    ``tempo_bpm`` defaults to the middle of the family's range; one period is ``family.beats`` beats
    (half as many in double time, see ``speed_of``).
    ``phase`` (rad) offsets the dance; ``amplitude`` scales each joint's deviation from the
    family's base pose (scalar or one factor per joint). The second genre evaluates the
    first's motion at ``phase - 2 w t`` instead of ``phase + w t``: same poses, reversed order, twice as fast.
    """
    family = family_of(genre)
    if tempo_bpm is None:
        tempo_bpm = sum(family.tempo_bpm) / 2
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    omega = 2 * np.pi * tempo_bpm / 60.0 / family.beats * speed_of(genre)
    theta = _warp(phase + direction_of(genre) * omega * t, family.accent)
    base = np.array([family.base.get(name, REST[name]) for name in JOINTS])
    deviation = np.zeros((t.size, len(JOINTS)))
    for name, value in family.motion(theta).items():
        deviation[:, J[name]] = value
    return base + deviation * np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (len(JOINTS),))


@dataclass(frozen=True)
class Performance:
    """The random part of one danced sequence (shared by all cameras that film it)."""

    genre: str
    tempo_bpm: float
    phase: float
    amplitude: np.ndarray = field(repr=False)

    @classmethod
    def sample(cls, genre: str, tempo_bpm: float, rng: np.random.Generator) -> Performance:
        """Random phase, +-3 % tempo and +-15 % amplitude per joint: no two videos identical."""
        return cls(
            genre=genre,
            tempo_bpm=tempo_bpm * rng.uniform(0.97, 1.03),
            phase=rng.uniform(0.0, 2 * np.pi),
            amplitude=rng.uniform(0.85, 1.15, len(JOINTS)) * rng.uniform(0.92, 1.08),
        )

    def angles(self, t: np.ndarray) -> np.ndarray:
        return joint_angles(self.genre, t, self.tempo_bpm, self.phase, self.amplitude)


# --------------------------------------------------------------------------------------------
# Body, forward kinematics and appearance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """Segment lengths and thicknesses in units of a nominal body height."""

    head_r: float = 0.065
    neck: float = 0.03
    torso: float = 0.30
    shoulder: float = 0.085  # half width between shoulder joints
    hip: float = 0.05  # half width between hip joints
    upper_arm: float = 0.15
    forearm: float = 0.14
    thigh: float = 0.24
    shin: float = 0.23
    foot: float = 0.055
    arm_w: float = 0.07
    leg_w: float = 0.09
    waist_w: float = 0.085  # half width of the torso at the waist

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Body:
        lengths = ("head_r", "neck", "torso", "shoulder", "hip", "upper_arm", "forearm", "thigh", "shin", "foot")
        widths = ("arm_w", "leg_w", "waist_w")
        default = cls()
        stature = rng.uniform(0.95, 1.05, 3)  # legs, torso, arms scale together for plausibility
        group = {"thigh": 0, "shin": 0, "foot": 0, "torso": 1, "neck": 1, "upper_arm": 2, "forearm": 2}
        build = rng.uniform(0.8, 1.25)
        values = {k: getattr(default, k) * stature[group[k]] * rng.uniform(0.96, 1.04) if k in group
                  else getattr(default, k) * rng.uniform(0.92, 1.08) for k in lengths}
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
    across = np.stack([np.sin(up), -np.cos(up)], axis=-1)  # torso's screen-right direction
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
        pts.update({f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist,
                    f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_toe": toe})
    feet_y = np.stack([pts["l_ankle"][:, 1], pts["r_ankle"][:, 1]], axis=1)
    ground = feet_y.min(axis=1)
    grounded = np.exp(-(feet_y - ground[:, None]) / 0.02)  # ~1 for a planted foot, ~0 when lifted
    feet_x = np.stack([pts["l_ankle"][:, 0], pts["r_ankle"][:, 0]], axis=1)
    anchor_x = (grounded * feet_x).sum(axis=1) / grounded.sum(axis=1)
    shift = np.stack([-anchor_x, -ground + body.leg_w / 2 + a["hop"]], axis=-1)
    return {name: p + shift for name, p in pts.items()}


def _stand_height(body: Body) -> float:
    """Height of the figure's rest pose (sole to top of head), to frame every body alike."""
    rest = np.array([[REST[name] for name in JOINTS]])
    pts = forward_kinematics(rest, body)
    return float(pts["head"][0, 1] + body.head_r)


SKIN_TONES = ((255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 134, 92), (141, 85, 54), (95, 60, 40))
HAIR_COLOURS = ((25, 20, 18), (70, 45, 30), (120, 80, 45), (200, 170, 110), (150, 150, 150), (160, 50, 30))


def _hsv_rgb(
    rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float], hue: tuple[float, float] = (0, 180)
) -> tuple[int, int, int]:
    """A random colour; ``hue`` in OpenCV degrees/2 (0-180), ``sat`` and ``val`` in 0-1."""
    hsv = np.uint8([[[rng.uniform(*hue), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def _luma(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


@dataclass(frozen=True)
class Appearance:
    """A dancer's fixed look: proportions and the colour of every body part."""

    body: Body
    colours: dict[str, tuple[int, int, int]]  # skin, hair, top, bottom, shoe
    far_shade: float = 0.85  # the screen-left limbs are a little darker, for depth

    @classmethod
    def sample(cls, dancer_seed: int) -> Appearance:
        """Proportions, skin, hair and clothing shades of one dancer.

        Clothes vary in shade only (a warm top, dark blue-ish trousers, long sleeves): with
        3 training dancers per genre, freely coloured outfits let a from-scratch CNN recognise
        the dancer instead of the dance (measured: held-out accuracy ~0.2 instead of ~0.8).
        A consistent colour per body part also helps it find the limbs at 64 px.
        """
        rng = np.random.default_rng([dancer_seed, 0xA11])
        colours = {
            "skin": SKIN_TONES[rng.integers(len(SKIN_TONES))],
            "hair": HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
            "top": _hsv_rgb(rng, (0.7, 0.9), (0.6, 0.85), hue=(0, 8)),
            "bottom": _hsv_rgb(rng, (0.45, 0.65), (0.22, 0.36), hue=(108, 118)),
            "shoe": (30, 30, 30),
        }
        return cls(body=Body.sample(rng), colours=colours)

    @classmethod
    def silhouette(cls, dancer_seed: int) -> Appearance:
        """The same proportions, every part black: a plain shape for silhouette models."""
        return cls(body=cls.sample(dancer_seed).body, colours=dict.fromkeys(("skin", "hair", "top", "bottom", "shoe"), (0, 0, 0)),
                   far_shade=1.0)


@dataclass(frozen=True)
class Framing:
    """Where the camera puts the dancer: all fractions of the frame; no mirroring ever."""

    scale: float  # rest-pose height / frame height
    dx: float  # horizontal offset of the feet / frame width
    ground: float  # y of the soles / frame height
    squash: float  # horizontal foreshortening of an oblique viewpoint (1 = frontal)

    def jittered(self, rng: np.random.Generator) -> Framing:
        return Framing(self.scale * rng.uniform(0.95, 1.05), self.dx + rng.uniform(-0.03, 0.03),
                       self.ground + rng.uniform(-0.015, 0.015), float(np.clip(self.squash + rng.uniform(-0.03, 0.03), 0.72, 1.0)))


CAMERAS: tuple[Framing, ...] = (  # c01, c02, c03: frontal/close, oblique left, oblique right/far
    Framing(scale=0.70, dx=0.0, ground=0.94, squash=1.0),
    Framing(scale=0.67, dx=-0.04, ground=0.92, squash=0.86),
    Framing(scale=0.62, dx=0.04, ground=0.9, squash=0.77),
)


def camera_framing(camera: int) -> Framing:
    """Framing of camera number ``camera`` (1-based, as in ``c01``), identical for every genre."""
    if camera < 1:
        raise ValueError(f"camera numbers start at 1 (c01), got {camera}")
    if camera <= len(CAMERAS):
        return CAMERAS[camera - 1]
    rng = np.random.default_rng([camera, 0xCA])
    return Framing(rng.uniform(0.58, 0.68), rng.uniform(-0.07, 0.07), rng.uniform(0.89, 0.93), rng.uniform(0.76, 1.0))


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

SUPERSAMPLE = 2  # draw at 2x and area-downsample: smooth edges and sub-pixel motion
SHIFT = 4  # cv2 fixed-point fractional bits for coordinates
_ONE = 1 << SHIFT


def _background(rng: np.random.Generator, height: int, width: int, ground_y: int, avoid: list[tuple[int, int, int]]) -> np.ndarray:
    """A muted wall (plain, gradient or soft stripes) over a darker floor, contrasting with the dancer.

    Kept calm on purpose: at 64 px, busy or saturated backgrounds hide the limbs from a small
    CNN trained from scratch, and the point of the data is the motion.
    """
    candidates = [_hsv_rgb(rng, (0.0, 0.35), (0.15, 1.0)) for _ in range(8)]
    wall = max(candidates, key=lambda c: min(abs(_luma(c) - _luma(a)) for a in avoid))
    wall_f = np.array(wall, dtype=np.float32)
    img = np.empty((height, width, 3), dtype=np.float32)
    style = rng.choice(3, p=[0.5, 0.3, 0.2])
    if style == 0:
        img[:] = wall_f
    elif style == 1:  # vertical gradient
        ramp = np.linspace(rng.uniform(0.85, 1.0), rng.uniform(1.0, 1.15), height, dtype=np.float32)
        img[:] = wall_f * ramp[:, None, None]
    else:  # soft vertical stripes (wall panels)
        period = rng.uniform(0.15, 0.3) * width
        wave = 1.0 + 0.05 * np.sin(2 * np.pi * np.arange(width, dtype=np.float32) / period + rng.uniform(0, 2 * np.pi))
        img[:] = wall_f * wave[None, :, None]
    img[ground_y:] *= rng.uniform(0.7, 0.85)
    return np.clip(img, 0, 255).astype(np.uint8)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in colour)


def _canvas_points(pts: dict[str, np.ndarray], body: Body, framing: Framing, px: float,
                   origin_x: np.ndarray, origin_y: float) -> dict[str, np.ndarray]:
    """Canvas coordinates (T, 2) of every point drawn: joints, torso corners and head discs."""
    c = {name: np.stack([origin_x + framing.squash * px * p[:, 0], origin_y - px * p[:, 1]], axis=-1) for name, p in pts.items()}
    axis = c["neck"] - c["pelvis"]
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-6)
    across = np.stack([axis[:, 1], -axis[:, 0]], axis=-1)
    top, waist = c["neck"] - axis * 0.01 * px, c["pelvis"] + axis * 0.02 * px
    shoulder_half, waist_half = (body.shoulder + body.arm_w / 2) * px, body.waist_w * px
    c.update({
        "torso_0": top - across * shoulder_half, "torso_1": top + across * shoulder_half,
        "torso_2": waist + across * waist_half, "torso_3": waist - across * waist_half,
        "hair": c["head"] + axis * 0.015 * px, "face": c["head"] - axis * 0.01 * px,  # hair: a cap above the face
    })
    return c


def _draw_figure(canvas: np.ndarray, at: dict[str, tuple[int, int]], look: Appearance, px: float) -> None:
    """Draw one pose (fixed-point canvas points) as filled, anti-aliased limbs, far side first."""
    b, col = look.body, look.colours

    def limb(p: str, q: str, colour: tuple[int, int, int], width: float) -> None:
        cv2.line(canvas, at[p], at[q], colour, max(1, int(round(width * px))), cv2.LINE_AA, SHIFT)

    def disc(p: str, colour: tuple[int, int, int], radius: float) -> None:
        cv2.circle(canvas, at[p], int(round(radius * px * _ONE)), colour, -1, cv2.LINE_AA, SHIFT)

    for side, shade in (("l", look.far_shade), ("r", 1.0)):  # legs
        limb(f"{side}_ankle", f"{side}_toe", _shade(col["shoe"], shade), 0.6 * b.leg_w)
        limb(f"{side}_knee", f"{side}_ankle", _shade(col["bottom"], shade), 0.85 * b.leg_w)
        limb(f"{side}_hip", f"{side}_knee", _shade(col["bottom"], shade), b.leg_w)
    limb("l_hip", "r_hip", col["bottom"], b.leg_w * 1.1)  # pelvis / waistband
    quad = np.array([at[f"torso_{k}"] for k in range(4)], dtype=np.int32)
    cv2.fillConvexPoly(canvas, quad, col["top"], cv2.LINE_AA, SHIFT)
    limb("l_shoulder", "r_shoulder", col["top"], b.arm_w)  # rounded shoulders
    limb("neck", "head", col["skin"], 0.45 * b.arm_w + 0.01)
    disc("hair", col["hair"], b.head_r)
    disc("face", col["skin"], b.head_r * 0.9)
    for side, shade in (("l", look.far_shade), ("r", 1.0)):  # arms in front of the torso
        limb(f"{side}_elbow", f"{side}_wrist", _shade(col["top"], shade), 0.85 * b.arm_w)
        limb(f"{side}_shoulder", f"{side}_elbow", _shade(col["top"], shade), b.arm_w)
        disc(f"{side}_wrist", _shade(col["skin"], shade), 0.55 * b.arm_w)


def render_frames(
    angles: np.ndarray,
    look: Appearance,
    framing: Framing,
    height: int,
    width: int,
    background: np.ndarray | None = None,
    drift: float = 0.0,
) -> np.ndarray:
    """Draw joint values (T, J) as (T, height, width, 3) uint8 frames.

    ``background`` is at supersampled size (white when None); ``drift`` moves the dancer
    linearly by that fraction of the width over the clip (slight wandering).
    """
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    if background is None:
        background = np.full((sh, sw, 3), 255, dtype=np.uint8)
    px = framing.scale * sh / _stand_height(look.body)  # pixels per body unit
    T = angles.shape[0]
    walk = np.linspace(-0.5, 0.5, T) * drift * sw if T > 1 else np.zeros(1)
    points = _canvas_points(forward_kinematics(angles, look.body), look.body, framing, px, sw * (0.5 + framing.dx) + walk,
                            framing.ground * sh)
    names = list(points)
    fixed = np.round(np.stack([points[n] for n in names], axis=1) * _ONE).astype(np.int64).tolist()  # (T, K, 2)
    frames = np.empty((T, height, width, 3), dtype=np.uint8)
    for i in range(T):
        canvas = background.copy()
        _draw_figure(canvas, {n: tuple(xy) for n, xy in zip(names, fixed[i], strict=True)}, look, px)
        frames[i] = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    return frames


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    height, width = (size, size) if isinstance(size, int) else size
    if height < 16 or width < 16:
        raise ValueError(f"frame size {height}x{width} is too small to draw a dancer (min 16)")
    return int(height), int(width)


def render_dance(
    genre: str,
    dancer_seed: int,
    camera: int,
    music: int,
    num_frames: int,
    fps: float,
    size: int | tuple[int, int],
    rng_seed: int,
    silhouette: bool = False,
) -> np.ndarray:
    """Render one video (T, H, W, 3) uint8 RGB of dancer ``dancer_seed`` dancing ``genre``.

    ``camera`` is the 1-based camera number (``c01`` -> 1), ``music`` the 0-based music index
    (``mBR0`` -> 0). ``rng_seed`` seeds the performance (phase, amplitude, tempo jitter), so
    one seed filmed by several cameras is one sequence seen from several views; the camera's
    framing jitter, drift and background are seeded by ``(rng_seed, camera)``.
    ``silhouette`` draws a black figure on white, without clothing or background variation.
    """
    height, width = _size(size)
    performance = Performance.sample(genre, music_tempo(genre, music), np.random.default_rng([rng_seed, 0x5EC]))
    view_rng = np.random.default_rng([rng_seed, camera, 0xC0])
    framing = camera_framing(camera).jittered(view_rng)
    drift = view_rng.uniform(-0.04, 0.04)
    t = np.arange(num_frames) / float(fps)
    if silhouette:
        return render_frames(performance.angles(t), Appearance.silhouette(dancer_seed), framing, height, width, None, drift)
    look = Appearance.sample(dancer_seed)
    background = _background(view_rng, height * SUPERSAMPLE, width * SUPERSAMPLE,
                             int(framing.ground * height * SUPERSAMPLE), [look.colours[k] for k in ("top", "bottom", "skin")])
    frames = render_frames(performance.angles(t), look, framing, height, width, background, drift)
    # Each camera renders colours a little differently (white balance, exposure): exact colours
    # then identify neither the dancer nor the video.
    gain = view_rng.uniform(0.92, 1.08, 3) * view_rng.uniform(0.92, 1.08)
    lut = np.clip(np.arange(256)[:, None] * gain[None, :], 0, 255).astype(np.uint8)[:, None, :]  # (256, 1, 3)
    return cv2.LUT(frames.reshape(-1, width, 3), lut).reshape(frames.shape)


def render_silhouettes(
    num_frames: int,
    height: int = 120,
    width: int = 200,
    fps: float = 3.0,
    seed: int = 0,
    genre: str | None = None,
    segment_seconds: float = 8.0,
    blend_seconds: float = 0.6,
) -> np.ndarray:
    """A long continuous dance (T, H, W) uint8: a black dancer (0) on white (255).

    For silhouette-dance generators. With ``genre=None`` the genre changes every
    ``segment_seconds`` (to a different one at random), cross-fading the joint values over
    ``blend_seconds`` so the body never jumps; otherwise ``genre`` is danced throughout with a
    new tempo and phase per segment. One dancer, one frontal camera; any H and W >= 16.
    """
    height, width = _size((height, width))
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    rng = np.random.default_rng([seed, 0x511])
    t = np.arange(num_frames) / float(fps)
    n_segments = int(t[-1] // segment_seconds) + 1
    genres: list[str] = []
    for _ in range(n_segments):
        choices = [g for g in GENRES if not genres or g != genres[-1]]
        genres.append(genre if genre is not None else choices[rng.integers(len(choices))])
    performances = [Performance.sample(g, music_tempo(g, int(rng.integers(4))), rng) for g in genres]
    segment = np.minimum((t // segment_seconds).astype(int), n_segments - 1)
    angles = np.empty((num_frames, len(JOINTS)))
    for k, perf in enumerate(performances):
        mask = segment == k
        if not mask.any():
            continue
        angles[mask] = perf.angles(t[mask])
        if k > 0:  # cross-fade from the previous segment's dance
            since = t[mask] - k * segment_seconds
            w = np.clip(since / blend_seconds, 0.0, 1.0)[:, None]
            w = w * w * (3 - 2 * w)
            angles[mask] = (1 - w) * performances[k - 1].angles(t[mask]) + w * angles[mask]
    # The silhouette is framed by height; a wide frame keeps the dancer centred.
    framing = Framing(scale=0.66, dx=0.0, ground=0.9, squash=1.0)
    look = Appearance.silhouette(int(rng.integers(2**31)))
    return render_frames(angles, look, framing, height, width)[..., 0].copy()


# --------------------------------------------------------------------------------------------
# Dataset files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticConfig:
    """All generation parameters; a stored dataset is reused only if they (and the version) match."""

    seed: int = 0
    dancers_per_genre: int = 5
    cameras: int = 3
    musics: int = 2
    seconds: float = 3.0
    fps: int = 30
    size: int = 112
    silhouette: bool = False

    def __post_init__(self) -> None:
        if self.dancers_per_genre < 1 or self.dancers_per_genre * len(GENRES) > 99:
            limit = 99 // len(GENRES)
            raise SettingError(f"dancers_per_genre must be in 1..{limit} (AIST++ dancer ids are 2 digits)")
        if not 1 <= self.cameras <= 99 or not 1 <= self.musics <= 10:
            raise SettingError("cameras must be in 1..99 and musics in 1..10 (one digit in m{genre}{music})")
        if self.size % 2 or self.size < 16:
            raise SettingError(f"size must be even and >= 16 (H.264 yuv420p), got {self.size}")
        if self.size in DECORD_BAD_WIDTHS:
            bad = sorted(DECORD_BAD_WIDTHS)
            raise SettingError(f"size {self.size}: decord misreads videos of width {bad}; pick another")
        if self.seconds <= 0 or self.fps <= 0:
            raise SettingError("seconds and fps must be positive")

    @property
    def num_frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))

    def to_json(self) -> dict:
        return {"generator_version": GENERATOR_VERSION, **asdict(self)}


@dataclass(frozen=True)
class VideoJob:
    """Everything needed to render and write one video: picklable for worker processes."""

    name: AistName
    dancer_seed: int
    rng_seed: int
    camera: int
    music: int


def _derive_seed(*keys: int) -> int:
    """A 63-bit seed from integer keys, independent of process or iteration order."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def video_jobs(config: SyntheticConfig) -> list[VideoJob]:
    """One job per video. Dancer ids run genre by genre (d01-d05 BR, d06-d10 PO, ...)."""
    jobs = []
    for g, genre in enumerate(GENRES):
        for d in range(config.dancers_per_genre):
            dancer = g * config.dancers_per_genre + d + 1
            dancer_seed = _derive_seed(config.seed, dancer)
            for m in range(config.musics):
                rng_seed = _derive_seed(config.seed, dancer, g, m)
                for c in range(1, config.cameras + 1):
                    name = AistName(genre=genre, situation="BM", camera=f"{c:02d}", dancer=f"{dancer:02d}",
                                    music=f"{genre}{m}", choreography="01")
                    jobs.append(VideoJob(name, dancer_seed, rng_seed, c, m))
    return jobs


def _write_job(root: Path, config: SyntheticConfig, job: VideoJob) -> Path:
    frames = render_dance(job.name.genre, job.dancer_seed, job.camera, job.music, config.num_frames,
                          config.fps, config.size, job.rng_seed, config.silhouette)
    path = root / job.name.filename()
    return write_mp4(path, frames, fps=config.fps, preset="veryfast", overwrite=False)


def _write_job_star(args: tuple[Path, SyntheticConfig, VideoJob]) -> Path:
    return _write_job(*args)


def _available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already


def _render_jobs(root: Path, config: SyntheticConfig, jobs: list[VideoJob],
                 workers: int | None) -> Iterator[Path]:
    """Render and write ``jobs`` under ``root`` (never over an existing file), yielding each path
    as it is written. ``workers`` processes (default: all cores) each render whole videos; the
    output does not depend on how many there are."""
    workers = max(1, min(workers or _available_cores(), len(jobs)))
    tasks = [(root, config, job) for job in jobs]
    if workers == 1:
        _init_worker()
        yield from map(_write_job_star, tasks)
        return
    # fork is unsafe once torch/OpenMP threads exist
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        yield from pool.map(_write_job_star, tasks, chunksize=max(1, len(tasks) // (8 * workers)))


def generate_dataset(root: str | Path, config: SyntheticConfig | None = None,
                     workers: int | None = None) -> list[Path]:
    """The paths of every video of ``config`` under ``root``, written where missing
    (``ensure_synthetic_dataset``: only into a folder the generator owns)."""
    config = config or SyntheticConfig()
    root = ensure_synthetic_dataset(root, config, workers)
    return [root / job.name.filename() for job in video_jobs(config)]


def _hint(root: Path) -> str:
    return (f"for real AIST++ videos use data=aist data.root={root}; "
            "for synthetic dancers give data.root an empty or new folder")


def ensure_synthetic_dataset(root: str | Path, config: SyntheticConfig | None = None, workers: int | None = None) -> Path:
    """Generate the dataset under ``root`` on first use and reuse it afterwards; return ``root``.

    ``root`` must be absent, empty of videos, or a folder this generator made: any video
    that ``synthetic.json`` does not list stops the run with one line, before anything is
    written (``deepdance.data.owned_folder``). The record holds the config and each file's
    size and SHA-256. Same config with every file present: nothing is written. Same config
    with files missing: only those are written. A different config (or generator version):
    the recorded files whose size and hash still match are deleted and all regenerated (a
    changed one stops the run, untouched). Other files in ``root`` are never touched.
    """
    config = config or SyntheticConfig()
    root = Path(root)
    folder = OwnedFolder(root, MANIFEST_NAME, _hint(root))
    with folder.claimed() as record:
        jobs = video_jobs(config)
        if record.files and record.config != config.to_json():
            log.info("synthetic dataset in %s was made with %s; regenerating for %s",
                     root, record.config, config.to_json())
            folder.remove_recorded(record)
        record.config = config.to_json()
        # written and recorded with its facts, or still to write
        missing = [job for job in jobs if record.files.get(job.name.filename()) is None]
        if not missing:
            log.info("reusing synthetic dataset in %s (%d videos)", root, len(jobs))
            folder.save(record)
            return root
        start = time.perf_counter()
        log.info("generating %d of %d synthetic videos in %s", len(missing), len(jobs), root)
        # Recorded before writing, so an interrupted run leaves a folder the next run knows as its own.
        record.files.update({job.name.filename(): None for job in missing})
        folder.save(record)
        for path in _render_jobs(root, config, missing, workers):
            record.files[path.name] = file_facts(path)
        record.extra["seconds_to_generate"] = round(time.perf_counter() - start, 2)
        folder.save(record)
        log.info("wrote %d synthetic videos in %.1f s", len(missing), record.extra["seconds_to_generate"])
    return root


def main(argv: list[str] | None = None) -> None:
    defaults = SyntheticConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--root", required=True, type=Path, help="directory for the mp4 files and synthetic.json")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--dancers-per-genre", type=int, default=defaults.dancers_per_genre)
    parser.add_argument("--cameras", type=int, default=defaults.cameras)
    parser.add_argument("--musics", type=int, default=defaults.musics)
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--fps", type=int, default=defaults.fps)
    parser.add_argument("--size", type=int, default=defaults.size)
    parser.add_argument("--silhouette", action="store_true", help="black dancer on white, no clothes or backgrounds")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SyntheticConfig(seed=args.seed, dancers_per_genre=args.dancers_per_genre, cameras=args.cameras,
                             musics=args.musics, seconds=args.seconds, fps=args.fps, size=args.size,
                             silhouette=args.silhouette)
    start = time.perf_counter()
    try:
        root = ensure_synthetic_dataset(args.root, config, args.workers)
    except DeepdanceError as err:
        parser.exit(2, f"error: {err}\n")
    n = len(video_jobs(config))
    print(f"{n} videos ({config.num_frames} frames of {config.size}x{config.size} at {config.fps} fps) "
          f"in {root} after {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
