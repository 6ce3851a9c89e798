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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deepdance.data.aist.names import GENRES

# --------------------------------------------------------------------------------------------
# Motion: joint angles as functions of the dance phase
# --------------------------------------------------------------------------------------------

# Angles in radians. *_arm: raise of the upper arm away from the body (0 = hanging, pi/2 =
# horizontal, pi = overhead); *_elbow: forearm bend in the raise direction; *_hip: sideways
# leg lift; *_knee: knee bend (knee goes out, foot comes back in); torso: lean to screen right;
# head: head tilt; sway: both legs lean so the pelvis shifts over the feet; hop: lift of the
# whole body in body heights. "l" is the limb on the screen's left.
JOINTS: tuple[str, ...] = (
    "torso",
    "head",
    "l_arm",
    "l_elbow",
    "r_arm",
    "r_elbow",
    "l_hip",
    "l_knee",
    "r_hip",
    "r_knee",
    "sway",
    "hop",
)
J = {name: i for i, name in enumerate(JOINTS)}
REST: dict[str, float] = {
    "torso": 0.0,
    "head": 0.0,
    "l_arm": 0.22,
    "l_elbow": 0.15,
    "r_arm": 0.22,
    "r_elbow": 0.15,
    "l_hip": 0.07,
    "l_knee": 0.05,
    "r_hip": 0.07,
    "r_knee": 0.05,
    "sway": 0.0,
    "hop": 0.0,
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
    # the pose the motion oscillates around (REST for joints not named)
    base: dict[str, float]
    # phase theta (rad) -> deviations from base, per joint
    motion: Motion
    # music tempo range (within 80-130 BPM)
    tempo_bpm: tuple[float, float]
    # "smooth" (sine-like) or "hit" (snap to a key pose, then hold: popping)
    accent: str
    # beats per dance period: 2 at slow tempi, 4 (half time) at fast ones
    beats: int


def _windmill(th: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "l_arm": 1.25 * np.sin(th),
        "r_arm": 1.25 * np.sin(th + np.pi / 2),
        "l_knee": 0.25 * _pos(np.sin(2 * th)),
        "r_knee": 0.25 * _pos(np.sin(2 * th)),
        "torso": 0.08 * np.sin(th + np.pi / 4),
        "head": 0.12 * np.sin(th + np.pi / 4),
    }


def _kicks(th: np.ndarray) -> dict[str, np.ndarray]:
    s, c = np.sin(th), np.cos(th)
    # each leg chambers (knee bent) on the way up and comes down straight
    return {
        "l_hip": 0.85 * _pos(s),
        "l_knee": 2.4 * _pos(s) * _pos(c),
        "r_hip": 0.85 * _pos(-s),
        "r_knee": 2.4 * _pos(-s) * _pos(-c),
        # Between kicks the body leans one way, then the other (hips shifting against the lean):
        # the held poses between kicks differ, so the order of the key poses shows the direction.
        "torso": 0.35 * c,
        "sway": 0.15 * c,
        "head": 0.15 * c,
    }


def _sway(th: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "torso": 0.45 * np.sin(th),
        "sway": 0.3 * np.cos(th),
        "head": 0.3 * np.sin(th - np.pi / 2),
        "l_arm": 0.4 * np.sin(th + np.pi / 2),
        "r_arm": 0.4 * np.sin(th - np.pi / 2),
        "l_elbow": 0.3 * np.sin(th),
        "r_elbow": 0.3 * np.sin(th + np.pi),
        "l_knee": 0.3 * _pos(np.sin(2 * th)),
        "r_knee": 0.3 * _pos(np.sin(2 * th)),
    }


def _waack(th: np.ndarray) -> dict[str, np.ndarray]:
    # each hand circles: upper-arm raise and forearm bend a quarter period apart
    return {
        "l_arm": 0.6 * np.sin(th),
        "l_elbow": 1.0 * np.sin(th + np.pi / 2),
        "r_arm": 0.6 * np.sin(th + np.pi),
        "r_elbow": 1.0 * np.sin(th + 3 * np.pi / 2),
        "l_knee": 0.2 * _pos(np.sin(2 * th)),
        "r_knee": 0.2 * _pos(np.sin(2 * th)),
        "torso": 0.06 * np.sin(th + np.pi / 2),
    }


def _plie(th: np.ndarray) -> dict[str, np.ndarray]:
    s, c = np.sin(th), np.cos(th)
    # deep knee bend and both arms rising, a quarter period apart
    return {
        "l_knee": 0.65 * s,
        "r_knee": 0.65 * s,
        "l_arm": 1.05 * c,
        "r_arm": 1.05 * c,
        "l_elbow": -0.25 * s,
        "r_elbow": -0.25 * s,
        "hop": 0.05 * _pos(-s) ** 2,
        "head": 0.1 * c,
    }


FAMILIES: tuple[Family, ...] = (
    Family(
        "windmill",
        ("BR", "PO"),
        "straight arms swing overhead, left and right a quarter period apart",
        {"l_arm": 1.55, "r_arm": 1.55, "l_elbow": 0.2, "r_elbow": 0.2},
        _windmill,
        (120, 130),
        "smooth",
        4,
    ),
    Family(
        "kicks",
        ("LO", "MH"),
        "alternating side kicks with a chambered knee, hands on hips, torso counter-lean",
        {"l_arm": 0.6, "r_arm": 0.6, "l_elbow": -1.6, "r_elbow": -1.6},
        _kicks,
        (80, 88),
        "hit",
        2,
    ),
    Family(
        "sway",
        ("LH", "HO"),
        "torso lean and hip shift a quarter period apart, loose arms, double bounce",
        {"l_arm": 0.4, "r_arm": 0.4, "l_elbow": 0.5, "r_elbow": 0.5},
        _sway,
        (120, 130),
        "smooth",
        4,
    ),
    Family(
        "waack",
        ("WA", "KR"),
        "arms out at shoulder height, forearms whip round in circles, opposite arms",
        {"l_arm": 1.45, "r_arm": 1.45, "l_elbow": 1.0, "r_elbow": 1.0},
        _waack,
        (80, 88),
        "hit",
        2,
    ),
    Family(
        "plie",
        ("JS", "JB"),
        "deep knee bends with both arms rising and falling, a hop when straight",
        {"l_knee": 0.7, "r_knee": 0.7, "l_arm": 1.25, "r_arm": 1.25, "l_elbow": 0.3, "r_elbow": 0.3},
        _plie,
        (84, 92),
        "smooth",
        2,
    ),
)
GENRE_FAMILY: dict[str, Family] = {g: f for f in FAMILIES for g in f.genres}
assert sorted(GENRE_FAMILY) == sorted(GENRES), "every genre needs exactly one family"

# key poses per period for "hit" accents (hit families: 2 beats a period, a hit per half beat)
HIT_KEYS = 4
# fraction of each key-to-key interval spent moving; the rest is held
HIT_SNAP = 0.45


def family_of(genre: str) -> Family:
    """Map a genre to its motion family, with an error that lists the known genres."""
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


# The widest per-dancer tempo spread: a dancer's single time at 1 + s stays slower than another
# dancer's double time at 2 (1 - s) for every s below 1/3, so timing still tells the pair apart.
MAX_DANCER_TEMPO = 0.3


def dancer_tempo_factor(dancer_seed: int, spread: float) -> float:
    """The factor (in ``1 +- spread``) by which one dancer speeds up or slows down every music.

    Real dancers of a genre differ in how fast they take the same music; with several dancers
    per genre and whole dancers held out, a recognizer must then know the genre's timing
    relative to the body, not one fixed speed. ``spread=0`` gives exactly 1 (the colour set's
    dancers, whose videos must not change). Drawn from its own stream of the dancer's seed, so
    the dancer's looks (``Appearance.sample``) are the same with or without it.
    """
    if not 0.0 <= spread < MAX_DANCER_TEMPO:
        raise ValueError(f"dancer tempo spread must be in [0, {MAX_DANCER_TEMPO}), got {spread}")
    if spread == 0.0:
        return 1.0
    rng = np.random.default_rng([dancer_seed, 0x7E3])
    return float(rng.uniform(1.0 - spread, 1.0 + spread))
