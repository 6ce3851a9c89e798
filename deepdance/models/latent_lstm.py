"""Latent forecasters: the Deep-Dance LSTM and the baselines it must beat.

All work on standardised latents (B, L, D) -> the next latent (B, D):

* ``LatentLSTM``: stacked LSTMs (512-256-256, dropout 0.2 as in the original) and a dense
  layer to the latent size. With ``residual`` it predicts the change from the last latent:
  the next pose is close to the last one, so learning the change is easier, and a model
  that learns nothing is exactly the repeat-last baseline rather than something worse;
* ``extrapolate``: continue the last step linearly (2 z_t - z_{t-1});
* ``RidgeForecaster``: a ridge regression from the same L latents to the next, closed form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class LatentLSTM(nn.Module):
    """(B, L, D) standardised latents -> (B, D) standardised next latent."""

    def __init__(
        self,
        latent_dim: int = 128,
        hidden_sizes: Sequence[int] = (512, 256, 256),
        dropout: float = 0.2,
        residual: bool = True,
    ) -> None:
        super().__init__()
        sizes = [latent_dim, *hidden_sizes]
        self.lstms = nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(sizes[-1], latent_dim)
        self.residual = residual

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z
        for lstm in self.lstms:
            x = self.dropout(lstm(x)[0])  # (B, L, H)
        out = self.head(x[:, -1])  # (B, D)
        return z[:, -1] + out if self.residual else out


def extrapolate(z: torch.Tensor) -> torch.Tensor:
    """Linear extrapolation of the last two latents, (B, L, D) -> (B, D)."""
    return 2 * z[:, -1] - z[:, -2]


class RidgeForecaster(nn.Module):
    """Ridge regression from L flattened latents (plus a bias) to the next latent.

    Its weights are a buffer, so a checkpoint keeps the baseline it was compared with.
    """

    def __init__(self, look_back: int, latent_dim: int, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.register_buffer("weight", torch.zeros(look_back * latent_dim + 1, latent_dim))

    @staticmethod
    def _design(z: torch.Tensor) -> torch.Tensor:
        flat = z.flatten(1)  # (N, L * D)
        return torch.cat([flat, torch.ones_like(flat[:, :1])], dim=1)

    @torch.no_grad()
    def fit(self, context: torch.Tensor, target: torch.Tensor) -> RidgeForecaster:
        """Solve (X'X + alpha I) W = X'Y in float64 on (N, L, D) contexts and (N, D) targets."""
        x = self._design(context.double())
        gram = x.T @ x + self.alpha * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        self.weight.copy_(torch.linalg.solve(gram, x.T @ target.double()).to(self.weight.dtype))
        return self

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self._design(z) @ self.weight


def rollout(
    step: Callable[[torch.Tensor], torch.Tensor],
    context: torch.Tensor,
    steps: int,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Feed each prediction back in: (B, L, D) context -> (B, steps, D) predicted latents.

    ``noise`` adds Gaussian noise of that standard deviation to each fed-back latent, which
    keeps a deterministic forecaster from settling into a fixed pose during long generation.
    """
    window, outputs = context, []
    for _ in range(steps):
        nxt = step(window)  # (B, D)
        outputs.append(nxt)
        fed = (
            nxt + noise * torch.randn(nxt.shape, generator=generator, device=nxt.device) if noise > 0 else nxt
        )
        window = torch.cat([window[:, 1:], fed[:, None]], dim=1)
    return torch.stack(outputs, dim=1)
