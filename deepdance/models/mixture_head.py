"""A mixture density head: the next latent as a mixture of diagonal Gaussians.

A forecaster trained with MSE predicts the mean of every future it has seen. On a few small
real clips those futures disagree (an arm may go up or down), their mean is a pose between
them, and a rollout fed with such means settles into a still pose within a few steps. A
mixture keeps the futures apart: trained by negative log-likelihood, each component can hold
one of them, and a rollout that *samples* the next latent keeps choosing one and moving on.

The mixture's mean is still there for what wants one answer: the one-step metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from deepdance.errors import DeepdanceError

# Bounds on each component's log standard deviation: no collapse onto one point (an infinite
# likelihood) and no component so wide that its samples are noise.
LOG_SCALE_MIN = -7.0
LOG_SCALE_MAX = 3.0


@dataclass
class Mixture:
    """A batch of K-component diagonal Gaussian mixtures over D latent dimensions."""

    # (B, K) unnormalised component weights
    logits: torch.Tensor
    # (B, K, D) component means
    means: torch.Tensor
    # (B, K, D) component log standard deviations
    log_scales: torch.Tensor

    def mean(self) -> torch.Tensor:
        """(B, D): the mixture's mean, the one-step forecast."""
        weights = self.logits.softmax(-1)[..., None]  # (B, K, 1)
        return (weights * self.means).sum(1)

    def nll(self, target: torch.Tensor) -> torch.Tensor:
        """(B,) negative log-likelihood of the (B, D) ``target``, per latent dimension (so its
        scale does not grow with the latent size)."""
        z = (target[:, None] - self.means) * torch.exp(-self.log_scales)  # (B, K, D)
        per_dim = -0.5 * z**2 - self.log_scales - 0.5 * math.log(2 * math.pi)
        joint = self.logits.log_softmax(-1) + per_dim.sum(-1)  # (B, K)
        return -torch.logsumexp(joint, dim=-1) / target.shape[-1]

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, D): one draw per mixture. The component is chosen discretely; within it the draw
        is mean + scale * noise, so a rollout loss still reaches the means and scales."""
        # Draws happen where the generator lives (a CPU generator for a model on a GPU too).
        device = generator.device if generator is not None else self.means.device
        probs = self.logits.detach().softmax(-1).to(device)
        pick = torch.multinomial(probs, 1, generator=generator).to(self.means.device)
        pick = pick[:, :, None].expand(-1, 1, self.means.shape[-1])  # (B, 1, D)
        means = self.means.gather(1, pick)[:, 0]  # (B, D)
        scales = self.log_scales.gather(1, pick)[:, 0].exp()
        noise = torch.randn(means.shape, generator=generator, device=device).to(means.device)
        return means + scales * noise.to(means.device)


class MixtureDensityHead(nn.Module):
    """(B, H) features -> a ``Mixture`` of ``mixtures`` diagonal Gaussians over ``latent_dim``.

    ``offset`` (B, D), when given, is added to every component mean: the residual start of the
    LSTM, so an untrained head is centred on the last latent like the point head."""

    def __init__(self, in_features: int, latent_dim: int, mixtures: int) -> None:
        super().__init__()
        if mixtures < 1:
            raise DeepdanceError(f"model.mixtures={mixtures} must be >= 1 (the components of model.head=mdn)")
        self.mixtures = mixtures
        self.latent_dim = latent_dim
        self.proj = nn.Linear(in_features, mixtures * (1 + 2 * latent_dim))

    def forward(self, features: torch.Tensor, offset: torch.Tensor | None = None) -> Mixture:
        K, D = self.mixtures, self.latent_dim
        out = self.proj(features)  # (B, K * (1 + 2 D))
        logits = out[:, :K]
        means = out[:, K : K + K * D].view(-1, K, D)
        log_scales = out[:, K + K * D :].view(-1, K, D).clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)
        if offset is not None:
            means = means + offset[:, None]
        return Mixture(logits, means, log_scales)
