"""Latent forecasters: the Deep-Dance LSTM and the baselines it must beat.

All work on standardised latents (B, L, D) -> the next latent (B, D):

* ``LatentLSTM``: stacked LSTMs (512-256-256, dropout 0.2 as in the original) and a dense
  layer to the latent size. With ``residual`` it predicts the change from the last latent:
  the next pose is close to the last one, so learning the change is easier, and a model
  that learns nothing is exactly the repeat-last baseline rather than something worse;
* ``extrapolate``: continue the last step linearly (2 z_t - z_{t-1});
* ``RidgeForecaster``: a ridge regression from the same L latents to the next, closed form.

With ``num_genres`` the LSTM and the ridge are genre-conditioned: each takes a (B,) genre
index beside the latents. The LSTM reads a learned genre embedding next to every step's
latent, so the genre can steer each step of a rollout rather than only the first; the ridge
reads the genre one-hot, so the baseline it is compared with knows the genre too.

With ``head="mdn"`` the LSTM's output is a mixture of Gaussians (``mixture_head``) rather than
one point: ``forward`` gives the mixture's mean (the one-step forecast), ``sample_next`` a draw
(what generation feeds back), ``next_loss`` its negative log-likelihood.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from deepdance.errors import DeepdanceError
from deepdance.models.mixture_head import Mixture, MixtureDensityHead

# point: one latent, trained with MSE (the original); mdn: a mixture density, trained with NLL
HEADS = ("point", "mdn")


def check_genre(num_genres: int, genre: torch.Tensor | None, owner: str) -> None:
    """A conditioned forecaster needs a genre per window; an unconditioned one takes none."""
    if num_genres and genre is None:
        raise DeepdanceError(f"the {owner} is genre-conditioned: it needs each window's genre index")
    if not num_genres and genre is not None:
        raise DeepdanceError(f"the {owner} is not genre-conditioned: it takes no genre")


class LatentLSTM(nn.Module):
    """(B, L, D) standardised latents (and, with ``num_genres``, a (B,) genre index) ->
    (B, D) standardised next latent."""

    def __init__(
        self,
        latent_dim: int = 128,
        hidden_sizes: Sequence[int] = (512, 256, 256),
        dropout: float = 0.2,
        residual: bool = True,
        num_genres: int = 0,
        genre_dim: int = 8,
        head: str = "point",
        mixtures: int = 5,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise DeepdanceError(f"model.head={head!r} is not known; use {' or '.join(HEADS)}")
        self.num_genres = num_genres
        # A conditioned step reads its latent and the genre's embedding side by side.
        sizes = [latent_dim + (genre_dim if num_genres else 0), *hidden_sizes]
        self.lstms = nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)
        # The point head keeps its original type and state-dict keys (head.weight, head.bias).
        self.head: nn.Module = (
            nn.Linear(sizes[-1], latent_dim)
            if head == "point"
            else MixtureDensityHead(sizes[-1], latent_dim, mixtures)
        )
        self.residual = residual
        # Built last and only when conditioned: an unconditioned net draws its initial weights,
        # and holds the state-dict keys, exactly as before conditioning existed.
        self.genre_embedding = nn.Embedding(num_genres, genre_dim) if num_genres else None

    def predict(self, z: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor | Mixture:
        """The head's output for the next latent: (B, D), or a ``Mixture`` with ``head="mdn"``."""
        check_genre(self.num_genres, genre, "latent LSTM")
        x = z
        if self.genre_embedding is not None:
            # (B, L, E): the window's genre beside every step's latent
            embedded = self.genre_embedding(genre)[:, None].expand(-1, z.shape[1], -1)
            x = torch.cat([z, embedded], dim=-1)
        for lstm in self.lstms:
            x = self.dropout(lstm(x)[0])  # (B, L, H)
        last = z[:, -1] if self.residual else None
        if isinstance(self.head, MixtureDensityHead):
            return self.head(x[:, -1], offset=last)
        out = self.head(x[:, -1])  # (B, D)
        return last + out if last is not None else out

    def forward(self, z: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        """(B, D): the next latent, or the mixture's mean with ``head="mdn"``."""
        out = self.predict(z, genre)
        return out.mean() if isinstance(out, Mixture) else out

    def sample_next(
        self,
        z: torch.Tensor,
        genre: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """(B, D): the latent a rollout feeds back: a draw from the mixture with ``head="mdn"``,
        the point forecast (``forward``) otherwise."""
        out = self.predict(z, genre)
        return out.sample(generator) if isinstance(out, Mixture) else out

    @staticmethod
    def next_loss(out: torch.Tensor | Mixture, target: torch.Tensor) -> torch.Tensor:
        """The training loss of ``predict``'s output against the (B, D) true next latent: MSE of
        a point, mean NLL (per dimension) of a mixture."""
        if isinstance(out, Mixture):
            return out.nll(target).mean()
        return F.mse_loss(out, target)

    @staticmethod
    def fed_back(out: torch.Tensor | Mixture) -> torch.Tensor:
        """What a training rollout feeds back from ``predict``'s output: the point, or a draw."""
        return out.sample() if isinstance(out, Mixture) else out


def extrapolate(z: torch.Tensor) -> torch.Tensor:
    """Linear extrapolation of the last two latents, (B, L, D) -> (B, D)."""
    return 2 * z[:, -1] - z[:, -2]


class RidgeForecaster(nn.Module):
    """Ridge regression from L flattened latents (with ``num_genres``: and the genre one-hot)
    plus a bias to the next latent.

    Its weights are a buffer, so a checkpoint keeps the baseline it was compared with.
    """

    def __init__(self, look_back: int, latent_dim: int, alpha: float = 1.0, num_genres: int = 0) -> None:
        super().__init__()
        self.alpha = alpha
        self.num_genres = num_genres
        self.register_buffer("weight", torch.zeros(look_back * latent_dim + num_genres + 1, latent_dim))

    def _design(self, z: torch.Tensor, genre: torch.Tensor | None) -> torch.Tensor:
        check_genre(self.num_genres, genre, "ridge baseline")
        flat = z.flatten(1)  # (N, L * D)
        columns = [flat]
        if genre is not None:
            # (N, G): a per-genre offset of the next latent
            columns.append(F.one_hot(genre, self.num_genres).to(flat.dtype))
        columns.append(torch.ones_like(flat[:, :1]))
        return torch.cat(columns, dim=1)

    @torch.no_grad()
    def fit(
        self, context: torch.Tensor, target: torch.Tensor, genre: torch.Tensor | None = None
    ) -> RidgeForecaster:
        """Solve (X'X + alpha I) W = X'Y in float64 on (N, L, D) contexts and (N, D) targets
        (and the (N,) genres of a conditioned ridge)."""
        x = self._design(context.double(), genre)
        gram = x.T @ x + self.alpha * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        self.weight.copy_(torch.linalg.solve(gram, x.T @ target.double()).to(self.weight.dtype))
        return self

    def forward(self, z: torch.Tensor, genre: torch.Tensor | None = None) -> torch.Tensor:
        return self._design(z, genre) @ self.weight


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
