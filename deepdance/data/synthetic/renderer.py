"""Drawing the synthetic dancers: appearance, camera framing, backgrounds and frames.

Appearance (body proportions, clothes, skin, background, camera framing) is drawn from one
pool shared by every genre, so only the motion (``kinematics``) tells the genre.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from deepdance.data.aist.names import GENRES
from deepdance.data.synthetic.body import Body, _stand_height, face_points, forward_kinematics
from deepdance.data.synthetic.kinematics import JOINTS, Performance, music_tempo

# --------------------------------------------------------------------------------------------
# Appearance
# --------------------------------------------------------------------------------------------

SKIN_TONES = ((255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 134, 92), (141, 85, 54), (95, 60, 40))
HAIR_COLOURS = ((25, 20, 18), (70, 45, 30), (120, 80, 45), (200, 170, 110), (150, 150, 150), (160, 50, 30))


def _hsv_rgb(
    rng: np.random.Generator,
    sat: tuple[float, float],
    val: tuple[float, float],
    hue: tuple[float, float] = (0, 180),
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
    # skin, hair, top, bottom, shoe
    colours: dict[str, tuple[int, int, int]]
    # the screen-left limbs are a little darker, for depth
    far_shade: float = 0.85

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
        return cls(
            body=cls.sample(dancer_seed).body,
            colours=dict.fromkeys(("skin", "hair", "top", "bottom", "shoe"), (0, 0, 0)),
            far_shade=1.0,
        )


@dataclass(frozen=True)
class Framing:
    """Where the camera puts the dancer: all fractions of the frame; no mirroring ever."""

    # rest-pose height / frame height
    scale: float
    # horizontal offset of the feet / frame width
    dx: float
    # y of the soles / frame height
    ground: float
    # horizontal foreshortening of an oblique viewpoint (1 = frontal)
    squash: float

    def jittered(self, rng: np.random.Generator) -> Framing:
        return Framing(
            self.scale * rng.uniform(0.95, 1.05),
            self.dx + rng.uniform(-0.03, 0.03),
            self.ground + rng.uniform(-0.015, 0.015),
            float(np.clip(self.squash + rng.uniform(-0.03, 0.03), 0.72, 1.0)),
        )


# c01, c02, c03: frontal/close, oblique left, oblique right/far
CAMERAS: tuple[Framing, ...] = (
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
    return Framing(
        rng.uniform(0.58, 0.68), rng.uniform(-0.07, 0.07), rng.uniform(0.89, 0.93), rng.uniform(0.76, 1.0)
    )


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

# draw at 2x and area-downsample: smooth edges and sub-pixel motion
SUPERSAMPLE = 2
# cv2 fixed-point fractional bits for coordinates
SHIFT = 4
_ONE = 1 << SHIFT


def _background(
    rng: np.random.Generator, height: int, width: int, ground_y: int, avoid: list[tuple[int, int, int]]
) -> np.ndarray:
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
    # soft vertical stripes (wall panels)
    else:
        period = rng.uniform(0.15, 0.3) * width
        wave = 1.0 + 0.05 * np.sin(
            2 * np.pi * np.arange(width, dtype=np.float32) / period + rng.uniform(0, 2 * np.pi)
        )
        img[:] = wall_f * wave[None, :, None]
    img[ground_y:] *= rng.uniform(0.7, 0.85)
    return np.clip(img, 0, 255).astype(np.uint8)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in colour)


def _canvas_points(
    pts: dict[str, np.ndarray], body: Body, framing: Framing, px: float, origin_x: np.ndarray, origin_y: float
) -> dict[str, np.ndarray]:
    """Canvas coordinates (T, 2) of every point drawn: joints, torso corners and head discs."""
    c = {
        name: np.stack([origin_x + framing.squash * px * p[:, 0], origin_y - px * p[:, 1]], axis=-1)
        for name, p in pts.items()
    }
    axis = c["neck"] - c["pelvis"]
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-6)
    across = np.stack([axis[:, 1], -axis[:, 0]], axis=-1)
    top, waist = c["neck"] - axis * 0.01 * px, c["pelvis"] + axis * 0.02 * px
    shoulder_half, waist_half = (body.shoulder + body.arm_w / 2) * px, body.waist_w * px
    c.update(
        {
            "torso_0": top - across * shoulder_half,
            "torso_1": top + across * shoulder_half,
            "torso_2": waist + across * waist_half,
            "torso_3": waist - across * waist_half,
            "hair": c["head"] + axis * 0.015 * px,
            # hair: a cap above the face
            "face": c["head"] - axis * 0.01 * px,
        }
    )
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
    # arms in front of the torso
    for side, shade in (("l", look.far_shade), ("r", 1.0)):
        limb(f"{side}_elbow", f"{side}_wrist", _shade(col["top"], shade), 0.85 * b.arm_w)
        limb(f"{side}_shoulder", f"{side}_elbow", _shade(col["top"], shade), b.arm_w)
        disc(f"{side}_wrist", _shade(col["skin"], shade), 0.55 * b.arm_w)


def figure_layout(
    angles: np.ndarray, body: Body, framing: Framing, height: int, width: int, drift: float = 0.0
) -> tuple[dict[str, np.ndarray], float]:
    """Supersampled canvas points (T, 2) of every drawn point and of the face points
    (``body.face_points``, drawn by the RGB renders only), and the canvas pixels per body unit.

    One geometry for the frames, the exported annotations and the RGB renders: x on the canvas is
    ``sw * (0.5 + dx) + walk(t) + squash * px * x_body``, y is ``ground * sh - px * y_body``, with
    ``walk(t)`` linear over the clip (``drift`` of the width from its first to its last frame).
    """
    sh, sw = height * SUPERSAMPLE, width * SUPERSAMPLE
    px = framing.scale * sh / _stand_height(body)  # pixels per body unit
    T = angles.shape[0]
    walk = np.linspace(-0.5, 0.5, T) * drift * sw if T > 1 else np.zeros(1)
    pts = forward_kinematics(angles, body)
    pts.update(face_points(pts, body))
    points = _canvas_points(pts, body, framing, px, sw * (0.5 + framing.dx) + walk, framing.ground * sh)
    return points, px


def pixel_points(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Where canvas points land in the output frame (pixel centres at integers): the fixed-point
    coordinates the figure is drawn at, carried through the area downsampling by ``SUPERSAMPLE``."""
    return {name: (np.round(p * _ONE) / _ONE + 0.5) / SUPERSAMPLE - 0.5 for name, p in points.items()}


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
    points, px = figure_layout(angles, look.body, framing, height, width, drift)
    T = angles.shape[0]
    names = list(points)
    fixed = (
        np.round(np.stack([points[n] for n in names], axis=1) * _ONE).astype(np.int64).tolist()
    )  # (T, K, 2)
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


def dance_angles(
    genre: str, music: int, rng_seed: int, tempo_factor: float, num_frames: int, fps: float
) -> np.ndarray:
    """Joint values (num_frames, J) of one performance at the video's frame times ``i / fps``:
    the same for every camera that films it."""
    performance = Performance.sample(
        genre, music_tempo(genre, music) * tempo_factor, np.random.default_rng([rng_seed, 0x5EC])
    )
    return performance.angles(np.arange(num_frames) / float(fps))


def camera_view(rng_seed: int, camera: int) -> tuple[np.random.Generator, Framing, float]:
    """One video's view: its random stream, the camera's framing jittered for this video, and
    the drift; the stream goes on to draw the background and the colour gain (``render_dance``)."""
    view_rng = np.random.default_rng([rng_seed, camera, 0xC0])
    framing = camera_framing(camera).jittered(view_rng)
    drift = float(view_rng.uniform(-0.04, 0.04))
    return view_rng, framing, drift


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
    tempo_factor: float = 1.0,
) -> np.ndarray:
    """Render one video (T, H, W, 3) uint8 RGB of dancer ``dancer_seed`` dancing ``genre``.

    ``camera`` is the 1-based camera number (``c01`` -> 1), ``music`` the 0-based music index
    (``mBR0`` -> 0). ``rng_seed`` seeds the performance (phase, amplitude, tempo jitter), so
    one seed filmed by several cameras is one sequence seen from several views; the camera's
    framing jitter, drift and background are seeded by ``(rng_seed, camera)``.
    ``silhouette`` draws a black figure on white, without clothing or background variation.
    ``tempo_factor`` scales the music's tempo (the dancer's own speed, ``dancer_tempo_factor``).
    """
    height, width = _size(size)
    angles = dance_angles(genre, music, rng_seed, tempo_factor, num_frames, fps)
    view_rng, framing, drift = camera_view(rng_seed, camera)
    if silhouette:
        return render_frames(angles, Appearance.silhouette(dancer_seed), framing, height, width, None, drift)
    look = Appearance.sample(dancer_seed)
    background = _background(
        view_rng,
        height * SUPERSAMPLE,
        width * SUPERSAMPLE,
        int(framing.ground * height * SUPERSAMPLE),
        [look.colours[k] for k in ("top", "bottom", "skin")],
    )
    frames = render_frames(angles, look, framing, height, width, background, drift)
    # Each camera renders colours a little differently (white balance, exposure): exact colours
    # then identify neither the dancer nor the video.
    gain = view_rng.uniform(0.92, 1.08, 3) * view_rng.uniform(0.92, 1.08)
    lut = np.clip(np.arange(256)[:, None] * gain[None, :], 0, 255).astype(np.uint8)[:, None, :]  # (256, 1, 3)
    return cv2.LUT(frames.reshape(-1, width, 3), lut).reshape(frames.shape)


def render_silhouettes(
    num_frames: int,
    height: int,
    width: int,
    fps: float,
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
        # cross-fade from the previous segment's dance
        if k > 0:
            since = t[mask] - k * segment_seconds
            w = np.clip(since / blend_seconds, 0.0, 1.0)[:, None]
            w = w * w * (3 - 2 * w)
            angles[mask] = (1 - w) * performances[k - 1].angles(t[mask]) + w * angles[mask]
    # The silhouette is framed by height; a wide frame keeps the dancer centred.
    framing = Framing(scale=0.66, dx=0.0, ground=0.9, squash=1.0)
    look = Appearance.silhouette(int(rng.integers(2**31)))
    return render_frames(angles, look, framing, height, width)[..., 0].copy()
