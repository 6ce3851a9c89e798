"""Sequence heads that turn per-frame features into genre logits, honouring padded frames."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from deepdance.errors import SettingError


class GRUHead(nn.Module):
    """Stacked GRUs over frame features, then dropout and a small dense classifier.

    The defaults are the original notebook's head: GRU(16, returning sequences), GRU(8),
    dropout 0.4, dense 8 with ReLU, dense to the genres. Padded frames never reach the
    GRUs (packed sequences), so a short video is not diluted by its padding.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        gru_sizes: Sequence[int] = (16, 8),
        dense: int = 8,
        dropout: float = 0.4,
        input_norm: bool = True,
    ) -> None:
        super().__init__()
        if not gru_sizes or not all(isinstance(s, int) and s >= 1 for s in gru_sizes):
            sizes = list(gru_sizes or [])
            raise SettingError(f"gru_sizes={sizes}: expected a non-empty list of layer sizes >= 1")
        if not 0 <= dropout < 1:
            raise SettingError(f"dropout={dropout}: expected a probability in [0, 1)")
        self.input_norm = nn.LayerNorm(in_features) if input_norm else nn.Identity()
        sizes = [in_features, *gru_sizes]
        self.grus = nn.ModuleList(nn.GRU(a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(sizes[-1], dense),
            nn.ReLU(inplace=True),
            nn.Linear(dense, num_classes),
        )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``features`` (B, T, D) and ``mask`` (B, T), valid frames first -> logits (B, C)."""
        return self.classifier(self.pool(features, mask))

    def pool(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``features`` (B, T, D) and ``mask`` (B, T) -> the last GRU's state at each clip's true
        length (B, H): one vector per clip, the space a Fréchet distance between clip sets is
        measured in (as FID takes Inception's pooled features, before its classifier)."""
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        sequence = pack_padded_sequence(
            self.input_norm(features), lengths, batch_first=True, enforce_sorted=False
        )
        hidden = None
        for gru in self.grus:
            sequence, hidden = gru(sequence)
        # hidden: (1, B, H), the state at each true length
        return hidden[-1]
