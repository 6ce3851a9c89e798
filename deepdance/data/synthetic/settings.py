"""The synthetic dancers' generation settings: a light module (no decoder, renderer or torch),
so the start-up checks and Hydra's schema store read them before anything heavy."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from deepdance.data.aist.names import GENRES
from deepdance.data.decord_widths import DECORD_BAD_WIDTHS
from deepdance.data.synthetic.kinematics import MAX_DANCER_TEMPO
from deepdance.errors import SettingError

# Bump when the rendered videos change for the same config: stored datasets then regenerate.
GENERATOR_VERSION = 6
# Settings added after version 6, with their defaults: recorded only when set, so a version-6
# set stored before they existed (same videos) is still recognised and not regenerated.
LATER_SETTINGS: dict[str, object] = {"dancer_tempo": 0.0, "width": None}


@dataclass(frozen=True)
class SyntheticConfig:
    """All generation parameters; a stored dataset is reused only if they (and the version) match.

    ``size`` is the frame height, and the width too unless ``width`` is set (a wide frame, as the
    Deep-Dance silhouettes' 120x200). ``silhouette`` draws black dancers on white. ``dancer_tempo``
    is the spread of each dancer's own tempo factor (``1 +- dancer_tempo``, drawn per dancer):
    0 keeps every dancer on the music's tempo, as the colour set does.
    """

    seed: int = 0
    dancers_per_genre: int = 5
    cameras: int = 3
    musics: int = 2
    seconds: float = 3.0
    fps: int = 30
    size: int = 112
    silhouette: bool = False
    dancer_tempo: float = 0.0
    width: int | None = None

    def __post_init__(self) -> None:
        if self.dancers_per_genre < 1 or self.dancers_per_genre * len(GENRES) > 99:
            limit = 99 // len(GENRES)
            raise SettingError(f"dancers_per_genre must be in 1..{limit} (AIST++ dancer ids are 2 digits)")
        if not 1 <= self.cameras <= 99 or not 1 <= self.musics <= 10:
            raise SettingError("cameras must be in 1..99 and musics in 1..10 (one digit in m{genre}{music})")
        if self.size % 2 or self.size < 16:
            raise SettingError(f"size must be even and >= 16 (H.264 yuv420p), got {self.size}")
        if self.width is not None and (self.width % 2 or self.width < 16):
            raise SettingError(f"width must be null, or even and >= 16 (H.264 yuv420p), got {self.width}")
        if self.frame_width in DECORD_BAD_WIDTHS:
            bad = sorted(DECORD_BAD_WIDTHS)
            raise SettingError(
                f"width {self.frame_width}: decord misreads videos of width {bad}; pick another"
            )
        if not 0.0 <= self.dancer_tempo < MAX_DANCER_TEMPO:
            raise SettingError(
                f"dancer_tempo must be in [0, {MAX_DANCER_TEMPO}) (beyond, one dancer's single time "
                f"could outpace another's double time), got {self.dancer_tempo}"
            )
        if self.seconds <= 0 or self.fps <= 0:
            raise SettingError("seconds and fps must be positive")

    @property
    def num_frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))

    @property
    def frame_width(self) -> int:
        return self.size if self.width is None else self.width

    def to_json(self) -> dict:
        settings = {k: v for k, v in asdict(self).items() if LATER_SETTINGS.get(k, object()) != v}
        return {"generator_version": GENERATOR_VERSION, **settings}
