"""The container shape a stand-in video copies, apart from the writer so that checking a
setting does not import PyAV, OpenCV or the renderer.

AIST++ videos are 1920x1080 at 59.94 fps, H.264 with a key frame every 2 s, about 10 s
long, with an AAC audio track: their decode cost is what a stand-in must reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class StandInFormat:
    """Size, rate, length, key-frame interval, audio and encoder settings of stand-in files.

    ``render_height`` caps the height the dancer is drawn at before upscaling: drawing at
    1080p with the renderer's supersampling costs ~0.1 s a frame.
    """

    width: int = 1920
    height: int = 1080
    fps: float = 59.94
    seconds: float = 10.0
    gop_seconds: float = 2.0
    audio: bool = True
    crf: int = 20
    preset: str = "medium"
    render_height: int = 540

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or min(self.width, self.height) < 32:
            raise ValueError(
                f"width and height must be even and >= 32 (H.264 yuv420p), got {self.width}x{self.height}"
            )
        if self.fps <= 0 or self.seconds <= 0 or self.gop_seconds <= 0:
            raise ValueError("fps, seconds and gop_seconds must be positive")
        if self.render_height < 16:
            raise ValueError(f"render_height must be >= 16, got {self.render_height}")

    @property
    def num_frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    @property
    def gop(self) -> int:
        return max(1, round(self.gop_seconds * self.fps))

    @property
    def rate(self) -> Fraction:
        # 59.94 -> 60000/1001, as cameras write it
        return Fraction(self.fps).limit_denominator(1001)
