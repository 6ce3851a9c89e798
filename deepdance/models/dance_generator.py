"""Autoregressive dance generation from a trained latent LSTM: seed, roll out, decode, mark.

Seeds are ``look_back`` latents: the last frames of a real video (continue a dance) or
random latents drawn from the training latents' per-dimension distribution (invent one, as
the original did from noise). The LSTM rolls out at the data frame rate (3 fps by default);
to reach a video frame rate the latents are linearly interpolated between keyframes (or
each keyframe is held). Seed frames come first, with a blue bar on top; generated frames
carry a red bar, so the moment generation starts is visible.

A genre-conditioned LSTM is asked for a genre by name: from random latents it invents a dance
of that genre, from a video's last frames it continues that video in the requested genre (the
seed need not be of that genre). The checkpoint's own list of learned genres decides which
names are accepted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepdance.config.data import DEFAULT_FPS
from deepdance.data.silhouette.preprocess import SilhouetteSettings, extract_silhouettes
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_output, atomic_write_bytes
from deepdance.utils.media import gif_bytes, to_display

SEED_COLOUR = (40, 90, 220)
GENERATED_COLOUR = (220, 30, 30)


@dataclass
class Dance:
    """Output frames (T, H, W, 3) uint8 RGB, their rate, and where generation starts."""

    frames: np.ndarray
    fps: float
    first_generated: int
    # model time: rollout + decoding, no file writing
    seconds: float

    @property
    def frames_per_second(self) -> float:
        return len(self.frames) / max(self.seconds, 1e-9)


def interpolate_latents(keys: torch.Tensor, per_step: int, smooth: bool = True) -> torch.Tensor:
    """(K, D) keyframe latents -> ((K - 1) * per_step + 1, D): linear in between, or held."""
    if per_step <= 1 or len(keys) < 2:
        return keys
    t = torch.arange(per_step, dtype=keys.dtype, device=keys.device) / per_step  # (m,)
    if not smooth:
        t = torch.zeros_like(t)
    a, b = keys[:-1, None], keys[1:, None]  # (K - 1, 1, D)
    between = a + t[None, :, None] * (b - a)  # (K - 1, m, D)
    return torch.cat([between.reshape(-1, keys.shape[1]), keys[-1:]])


class DanceGenerator:
    """Wraps a ``LatentLSTMModule`` (loaded from its checkpoint) for generation."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.look_back = int(module.hparams.look_back)
        self.settings = SilhouetteSettings.from_config(module.hparams.preprocessing)
        self.model_fps = float(self.settings.fps or DEFAULT_FPS)

    @torch.no_grad()
    def seed_from_video(self, path: str | Path) -> torch.Tensor:
        """Latents (L, D) of the last ``look_back`` frames of ``path``, preprocessed as in training."""
        frames = extract_silhouettes(path, self.settings)
        if len(frames) < self.look_back:
            raise DeepdanceError(
                f"{path}: only {len(frames)} frames at {self.model_fps:g} fps; the seed needs "
                f"{self.look_back}"
            )
        return self.module.encode_frames(frames[-self.look_back :])

    def seed_random(self, generator: torch.Generator) -> torch.Tensor:
        """(L, D) latents drawn from the training latents' per-dimension normal distribution."""
        mean, std = self.module.latent_mean.cpu(), self.module.latent_std.cpu()
        noise = torch.randn((self.look_back, mean.numel()), generator=generator)
        return (mean + std * noise).to(self.module.device)

    @staticmethod
    def steps_for(num_frames: int, look_back: int, per_step: int) -> int:
        """LSTM steps so that seed + generated frames reach ``num_frames`` output frames."""
        seed_frames = (look_back - 1) * per_step + 1
        if num_frames <= seed_frames:
            raise DeepdanceError(
                f"num_frames={num_frames} leaves no room after the {seed_frames} seed frames; ask for more"
            )
        return math.ceil((num_frames - 1) / per_step) + 1 - look_back

    @torch.no_grad()
    def generate(
        self,
        seed: torch.Tensor,
        steps: int,
        fps: float | None = None,
        interpolate: bool = True,
        noise: float = 0.0,
        num_frames: int | None = None,
        generator: torch.Generator | None = None,
        genre: str | None = None,
    ) -> Dance:
        """Roll out ``steps`` latents after the (L, D) ``seed`` (in ``genre``, for a conditioned
        model) and render them at ``fps``."""
        if steps < 1:
            raise DeepdanceError(f"steps={steps} must be >= 1")
        # (1,) class index, or None for an unconditioned model; a wrong request stops here.
        genre_class = self.module.genre_class(genre)
        fps = float(fps or self.model_fps)
        per_step = max(1, round(fps / self.model_fps))
        self.module.eval()
        start = time.perf_counter()
        # the module's own rollout: a mixture head draws each next latent from ``generator``
        predicted = self.module.rollout(seed[None], steps, genre_class, generator, noise)[0]  # (steps, D)
        keys = torch.cat([seed, predicted])  # (L + steps, D)
        latents = interpolate_latents(keys, per_step, smooth=interpolate)
        first_generated = (self.look_back - 1) * per_step + 1
        if num_frames is not None:
            latents = latents[:num_frames]
        frames = torch.cat([self.module.decode(chunk) for chunk in latents.split(256)])[:, 0]  # (T, H, W)
        seconds = time.perf_counter() - start
        return Dance(mark(to_display(frames), first_generated), fps, first_generated, seconds)

    @staticmethod
    def write_genre_grid(dances: dict[str, Dance], path: str | Path, count: int = 10) -> Path:
        """A PNG with one row per genre: its name, then ``count`` frames evenly spaced from the last
        seed frame on. Rows from one seed differ only by the genre asked for."""
        from PIL import Image, ImageDraw

        rows = []
        for dance in dances.values():
            start = max(0, dance.first_generated - 1)
            picks = np.linspace(start, len(dance.frames) - 1, count).round().astype(int)
            frames = dance.frames[picks]
            # small frames: show each pixel as 2x2
            if frames.shape[1] < 100:
                frames = frames.repeat(2, axis=1).repeat(2, axis=2)
            rows.append(frames)
        h, w = rows[0].shape[1:3]
        label = 36
        sheet = np.full((len(rows) * (h + 2) - 2, label + count * (w + 2) - 2, 3), 128, dtype=np.uint8)
        sheet[:, :label] = 255
        for r, frames in enumerate(rows):
            for c, frame in enumerate(frames):
                left = label + c * (w + 2)
                sheet[r * (h + 2) : r * (h + 2) + h, left : left + w] = frame
        image = Image.fromarray(sheet)
        draw = ImageDraw.Draw(image)
        for r, genre in enumerate(dances):
            draw.text((4, r * (h + 2) + h // 2 - 5), genre, fill=(0, 0, 0))
        path = Path(path)
        with atomic_output(refuse_existing(path), "wb", overwrite=False) as handle:
            image.save(handle, format="PNG", optimize=True)
        return path

    @staticmethod
    def write_strip(dance: Dance, path: str | Path, count: int = 10, rows: int = 2) -> Path:
        """A PNG of ``count`` frames, evenly spaced from the last seed frame on, in ``rows`` rows."""
        from PIL import Image

        picks = (
            np.linspace(max(0, dance.first_generated - 1), len(dance.frames) - 1, count).round().astype(int)
        )
        frames = dance.frames[picks]
        # small frames: show each pixel as 2x2
        if frames.shape[1] < 100:
            frames = frames.repeat(2, axis=1).repeat(2, axis=2)
        h, w = frames.shape[1:3]
        per_row = int(np.ceil(count / rows))
        sheet = np.full((rows * (h + 2) - 2, per_row * (w + 2) - 2, 3), 128, dtype=np.uint8)
        for k, frame in enumerate(frames):
            r, c = divmod(k, per_row)
            sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = frame
        path = Path(path)
        with atomic_output(refuse_existing(path), "wb", overwrite=False) as handle:
            Image.fromarray(sheet).save(handle, format="PNG", optimize=True)
        return path

    def write(self, dance: Dance, out: str | Path, gif: bool = False) -> Path:
        """Write the mp4 (and a GIF beside it); sizes are padded to even for H.264."""
        from deepdance.data.video.writer import write_mp4

        out = Path(out)
        # Both names checked before either is written: a user's file is never replaced.
        gif_path = refuse_existing(out.with_suffix(".gif")) if gif else None
        write_mp4(out, dance.frames, fps=dance.fps, pad_odd=True)
        if gif_path is not None:
            atomic_write_bytes(gif_path, gif_bytes(dance.frames, dance.fps), overwrite=False)
        return out


def refuse_existing(path: Path) -> Path:
    """``path``, or a one-line error if a file is there: generated media never replace a file."""
    if path.exists():
        raise DeepdanceError(
            f"{path} exists; deepdance does not replace a file it was not asked to replace: "
            "delete or move it, or write to another name"
        )
    return path


def mark(frames: np.ndarray, first_generated: int, bar: int | None = None) -> np.ndarray:
    """Gray (T, H, W) -> RGB with a coloured bar on top: blue for seed frames, red after."""
    rgb = np.repeat(frames[..., None], 3, axis=-1)
    bar = bar or max(2, frames.shape[1] // 30)
    rgb[:first_generated, :bar] = SEED_COLOUR
    rgb[first_generated:, :bar] = GENERATED_COLOUR
    return rgb
