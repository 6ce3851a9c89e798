"""Clip-level augmentation: one random draw per clip, the same for all its frames.

Per-frame draws would add flicker that looks like motion; one draw per clip changes what a
dancer looks like (colours, framing) and never how they move. With few dancers per genre a
network will otherwise learn who is dancing (clothes, background) instead of the dance.
Horizontal flips are deliberately absent: a mirror swaps left and right limbs, which can
change the meaning of a movement.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepdance.errors import SettingError


@dataclass
class ClipAugment:
    """Random resized crop, channel shuffle, grayscale, inversion, brightness and contrast."""

    crop_scale: tuple[float, float] = (0.7, 1.0)
    channel_shuffle: bool = True
    grayscale_p: float = 0.2
    invert_p: float = 0.0
    brightness: float = 0.15
    contrast: float = 0.4

    def __post_init__(self) -> None:
        try:
            low, high = (float(v) for v in self.crop_scale)
        except (TypeError, ValueError):
            accepted = "expected [low, high] with 0 < low <= high <= 1"
            raise SettingError(f"crop_scale={self.crop_scale!r}: {accepted}") from None
        if not 0 < low <= high <= 1:
            raise SettingError(f"crop_scale={list(self.crop_scale)}: expected 0 < low <= high <= 1")
        for name in ("grayscale_p", "invert_p"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise SettingError(f"{name}={value!r}: expected a probability in [0, 1]")
        for name in ("brightness", "contrast"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise SettingError(f"{name}={value!r}: expected a number in [0, 1]")

    def __call__(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 ``(T, 3, S, S)`` -> augmented uint8 clip of the same shape."""

        def uniform(low: float, high: float) -> float:
            return low + (high - low) * float(torch.rand((), generator=generator))

        size = clip.shape[-1]
        x = clip.float() / 255
        side = max(8, round(size * uniform(*self.crop_scale)))
        top = int(torch.randint(0, size - side + 1, (), generator=generator))
        left = int(torch.randint(0, size - side + 1, (), generator=generator))
        if side < size:
            x = F.interpolate(
                x[:, :, top : top + side, left : left + side],
                size=(size, size),
                mode="bilinear",
                align_corners=False,
            )
        if self.channel_shuffle:
            x = x[:, torch.randperm(3, generator=generator)]
        if uniform(0, 1) < self.grayscale_p:
            x = x.mean(dim=1, keepdim=True).expand_as(x)
        if uniform(0, 1) < self.invert_p:
            x = 1 - x
        contrast = uniform(1 - self.contrast, 1 + self.contrast)
        brightness = uniform(-self.brightness, self.brightness)
        x = (x - 0.5) * contrast + 0.5 + brightness
        return (x.clamp(0, 1) * 255).round().to(torch.uint8)
