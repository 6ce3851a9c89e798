"""One dancer per video: link each frame's people into tracks, then pick the dancer's track.

Why tracks, not a per-frame choice: picking the largest person frame by frame jumps between
people when an onlooker steps close to the camera. Boxes are linked greedily by overlap (IoU)
between consecutive frames, a track surviving ``max_gap`` frames unseen. The dancer is, by
default, the track that is largest and most central summed over its frames (so a long track
beats a brief one); ``track.index`` or ``track.point`` overrides that choice. MediaPipe finds at
most one person per frame, so this matters for backends that find several.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deepdance.config.pose import TrackConfig
from deepdance.errors import DeepdanceError
from deepdance.pose.estimator import Person


@dataclass
class Track:
    """One person over time: frame number -> the index of its ``Person`` in that frame's list."""

    members: dict[int, int] = field(default_factory=dict)
    last_box: np.ndarray | None = None
    last_frame: int = -1

    @property
    def first_frame(self) -> int:
        return min(self.members)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two left, top, right, bottom boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def link_tracks(people: list[list[Person]], min_iou: float = 0.3, max_gap: int = 5) -> list[Track]:
    """Tracks over ``people`` (per frame, everyone found), ordered by first frame, then by the
    left edge of their first box: the numbering ``track.index`` uses."""
    tracks: list[Track] = []
    for frame, found in enumerate(people):
        alive = [t for t in tracks if frame - t.last_frame <= max_gap + 1]
        pairs = sorted(
            (
                (box_iou(t.last_box, p.box), ti, pi)
                for ti, t in enumerate(alive)
                for pi, p in enumerate(found)
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_people: set[int] = set()
        for iou, ti, pi in pairs:
            if iou < min_iou or ti in used_tracks or pi in used_people:
                continue
            used_tracks.add(ti)
            used_people.add(pi)
            alive[ti].members[frame] = pi
            alive[ti].last_box, alive[ti].last_frame = found[pi].box, frame
        for pi, person in enumerate(found):
            if pi not in used_people:
                tracks.append(Track({frame: pi}, person.box, frame))
    return sorted(
        tracks, key=lambda t: (t.first_frame, float(people[t.first_frame][t.members[t.first_frame]].box[0]))
    )


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def dancer_score(track: Track, people: list[list[Person]], size: tuple[int, int]) -> float:
    """Largest and most central: per frame, the box's share of the frame times its centrality
    (1 at the centre, 0 at a corner), summed over the track's frames."""
    width, height = size
    half_diagonal = np.hypot(width, height) / 2
    total = 0.0
    for frame, index in track.members.items():
        box = people[frame][index].box
        area = max(0.0, float(box[2] - box[0])) * max(0.0, float(box[3] - box[1])) / (width * height)
        offset = np.linalg.norm(_centre(box) - np.array([width / 2, height / 2])) / half_diagonal
        total += area * (1.0 - float(offset))
    return total


def choose_track(
    tracks: list[Track], people: list[list[Person]], size: tuple[int, int], config: TrackConfig
) -> Track:
    """The dancer's track: ``config.index``, the track nearest ``config.point``, or the largest and
    most central (``dancer_score``)."""
    if config.index is not None:
        if config.index >= len(tracks):
            raise DeepdanceError(
                f"pose.track.index={config.index}: expected 0..{len(tracks) - 1} (the video has "
                f"{len(tracks)} track(s))"
            )
        return tracks[config.index]
    if config.point is not None:
        point = np.array([config.point[0] * size[0], config.point[1] * size[1]])

        def distance(track: Track) -> float:
            return float(
                np.mean([np.linalg.norm(_centre(people[f][i].box) - point) for f, i in track.members.items()])
            )

        return min(tracks, key=distance)
    return max(tracks, key=lambda t: dancer_score(t, people, size))


def pick_dancer(
    people: list[list[Person]], size: tuple[int, int], config: TrackConfig
) -> list[Person | None]:
    """Per frame, the dancer (None where the dancer's track has no box)."""
    tracks = link_tracks(people, config.min_iou, config.max_gap)
    if not tracks:
        return [None] * len(people)
    chosen = choose_track(tracks, people, size, config)
    return [people[f][chosen.members[f]] if f in chosen.members else None for f in range(len(people))]
