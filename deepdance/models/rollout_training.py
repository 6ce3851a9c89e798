"""How the latent LSTM is trained: one step ahead (the original), or over a short rollout.

Trained only one step ahead, the LSTM always reads real latents; generating, it reads its own
predictions, whose small errors it never learned to recover from, and on small real clips its
rollouts settle into a still pose. Three settings (all off by default, which is the original
one-step MSE, bit for bit) train it on what it will read:

* ``steps`` (``model.rollout_loss_steps``): each training window holds ``steps`` targets after
  its context; the LSTM rolls out over them, feeding back its own predictions (a draw, for a
  mixture head), and the loss is the mean over the steps;
* ``scheduled_sampling``: the probability, per window and step, that the true latent is fed
  back instead of the prediction (1: teacher forcing on every step);
* ``input_noise``: Gaussian noise of this standard deviation (standardised latent units) on
  every latent the LSTM reads in training, real or fed back, so that it learns to pull an
  imperfect input back towards the dance.

* ``auto_condition`` (acLSTM, Zhou et al. 2018): k > 0 feeds back, after the true context, its
  own k predictions, then k true latents, in turn, over the ``steps`` targets of each window
  (deterministic, unlike ``scheduled_sampling``; acLSTM: k = 5 over long windows).

One setting is for genre steering rather than freezing:

* ``context_dropout``: the probability, per window, that only a random suffix of 0..L-1 of its
  L context latents stays real and the rest is drawn from the latents' prior (standard normal
  in standardised units). That is what a rollout from random seeds reads, so a conditioned LSTM
  learns to dance its genre when the context says little, instead of only continuing the
  context's own genre.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepdance.errors import DeepdanceError
from deepdance.models.latent_lstm import LatentLSTM


@dataclass(frozen=True)
class RolloutTraining:
    """The training-loss settings of the latent LSTM (checked by its schema, ``LatentLSTMConfig``)."""

    steps: int = 1
    scheduled_sampling: float = 0.0
    input_noise: float = 0.0
    context_dropout: float = 0.0
    auto_condition: int = 0

    @property
    def is_default(self) -> bool:
        """One step ahead, no noise: the original training."""
        return self == RolloutTraining()

    def noisy(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` plus the input noise; ``z`` itself, with no random draw, when there is none."""
        if self.input_noise == 0:
            return z
        return z + self.input_noise * torch.randn_like(z)

    def drop_context(self, window: torch.Tensor) -> torch.Tensor:
        """``window`` (B, L, D) with, in a ``context_dropout`` share of its rows, all but the last
        0..L-1 latents (uniform) replaced by prior draws; ``window`` itself, with no random draw,
        when the setting is off."""
        if self.context_dropout == 0:
            return window
        B, L = window.shape[:2]
        dropped = torch.rand(B, 1, device=window.device) < self.context_dropout
        real_suffix = torch.randint(0, L, (B, 1), device=window.device)
        # (B, L): True where a position is before the window's real suffix
        prior = torch.arange(L, device=window.device)[None] < (L - real_suffix)
        return torch.where((dropped & prior)[..., None], torch.randn_like(window), window)

    def loss(self, net: LatentLSTM, z: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        """The mean loss over ``steps`` rollout steps of standardised windows (B, L + steps, D)."""
        L = z.shape[1] - self.steps
        if L < 1:
            raise DeepdanceError(
                f"training windows of {z.shape[1]} latents leave no context for "
                f"model.rollout_loss_steps={self.steps}"
            )
        window = self.noisy(self.drop_context(z[:, :L]))  # (B, L, D)
        losses = []
        for k in range(self.steps):
            target = z[:, L + k]  # (B, D)
            out = net.predict(window, genre)
            losses.append(net.next_loss(out, target))
            if k == self.steps - 1:
                break
            fed = net.fed_back(out)
            if self.auto_condition > 0 and (k // self.auto_condition) % 2 == 1:
                # acLSTM: this block of k steps reads the truth
                fed = target
            elif self.scheduled_sampling > 0:
                # (B, 1): this window reads the truth at this step
                truth = torch.rand(len(z), 1, device=z.device) < self.scheduled_sampling
                fed = torch.where(truth, target, fed)
            window = torch.cat([window[:, 1:], self.noisy(fed)[:, None]], dim=1)
        return losses[0] if self.steps == 1 else torch.stack(losses).mean()
