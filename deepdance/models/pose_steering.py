"""Does a genre-conditioned pose generator dance the genre it is asked for, or copy its seed?

``gen/genre_acc`` steers each held-out seed to its own genre, so a model that ignores the genre
and continues what the seed shows scores as well as one that obeys it. Two measures tell them
apart, both read by the skeleton recognizer (the first 4 s of generated steps, as ``gen/*``):

* **random seeds** (``gen_random/*``): ``random_rollouts`` rollouts per asked genre (``genres``,
  default every genre the model learned) from the seed ``python -m deepdance.generate seed=random``
  uses for a pose model (``pose_generation.read_seed``: the training poses' mean pose held), each
  steered to its genre. No seed pose shows a genre, so ``gen_random/genre_acc`` is steering alone;
  ``gen_random/chance`` = 1 / genres asked, and ``_uncond`` (an unconditioned generator from its own
  mean pose, graded against the same asks) is what no conditioning gives. Their motion scores
  against the scored sequences are ``gen_random/<metric>{suffix}``. With ``noise=0`` and a point
  head every rollout of one genre is the same dance: only noise or a mixture head varies them.
* **other genres** (``gen_cross/*``): every held-out seed rolled out steered to each learned
  genre but its own (in turns: each seed its first other genre, then its second...), at most
  ``rollouts`` in all; ``gen_cross/genre_acc`` is steering away from what the seed shows.

Every draw comes from a generator seeded by ``seed`` (``PoseGenerationScorer.roll``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from deepdance.errors import DeepdanceError
from deepdance.models.generation_metrics import genre_accuracy

if TYPE_CHECKING:
    from deepdance.models.pose_generation_recognizer import PoseRecognizer
    from deepdance.models.pose_lstm_module import PoseLSTMModule

log = logging.getLogger(__name__)

# (clips, prefix, suffix) -> that method's motion scores against the scored sequences
MotionSummary = Callable[[np.ndarray, str, str], dict[str, float]]


class SteeredScorer(Protocol):
    """What steering reads of ``pose_generation_scoring.PoseGenerationScorer`` (which builds it)."""

    module: PoseLSTMModule
    unconditioned: PoseLSTMModule | None
    recognizer: PoseRecognizer
    # PoseScoringSettings: rollouts, random_rollouts, genres
    settings: Any

    def roll(
        self, module: PoseLSTMModule, method: str, context: torch.Tensor, genres: list[str]
    ) -> torch.Tensor: ...
    def joints(self, poses: torch.Tensor | np.ndarray) -> np.ndarray: ...
    def recognized_outputs(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass
class Asked:
    """Each method's rollouts (N, steps + 1, J, D) from the last seed pose, and the genre each was
    asked for."""

    rollouts: dict[str, np.ndarray]
    genres: list[str]


def asked_genres(module: PoseLSTMModule, genres: tuple[str, ...] | None) -> list[str]:
    """``genres`` (None: every genre the model learned), once each; one line for an unlearned one."""
    learned = module.genre_condition.trained_names()
    wanted = list(dict.fromkeys(genres or learned))
    unknown = [g for g in wanted if g not in learned]
    if unknown:
        raise DeepdanceError(
            f"genres: {', '.join(unknown)} not learned by lstm_ckpt; accepted: {', '.join(learned)}"
        )
    return wanted


def random_seeds(module: PoseLSTMModule, count: int) -> torch.Tensor:
    """(count, look_back, J * D): ``generate seed=random``'s seed for ``module``, ``count`` times."""
    from omegaconf import OmegaConf

    from deepdance.models.pose_generation import read_seed

    seed = read_seed(OmegaConf.create({"seed": "random"}), module, {}, torch.Generator())
    poses = torch.as_tensor(seed.reshape(len(seed), -1), dtype=torch.float32)
    return poses[None].expand(count, -1, -1).clone()


def cross_asks(genres: list[str], learned: list[str], cap: int) -> tuple[list[int], list[str]]:
    """(seed rows, asked genres): each seed asked every learned genre but its own, in turns (every
    seed its first other genre, each seed starting at a different one, then the next), at most
    ``cap`` asks."""
    rows, asked = [], []
    others = [[g for g in learned if g != own] for own in genres]
    for turn in range(max((len(o) for o in others), default=0)):
        for row, choices in enumerate(others):
            if turn < len(choices):
                rows.append(row)
                asked.append(choices[(row + turn) % len(choices)])
    return rows[:cap], asked[:cap]


class PoseSteering:
    """``gen_random/*`` and ``gen_cross/*`` of a conditioned ``scorer`` with a recognizer."""

    def __init__(self, scorer: SteeredScorer) -> None:
        self.scorer = scorer
        self.genres = asked_genres(scorer.module, scorer.settings.genres)
        self.learned = scorer.module.genre_condition.trained_names()

    def methods(self) -> list[PoseLSTMModule]:
        """The LSTM, then the unconditioned generator when given (suffix ``_uncond``)."""
        return [m for m in (self.scorer.module, self.scorer.unconditioned) if m is not None]

    def rolled(self, contexts: list[torch.Tensor], genres: list[str]) -> dict[str, np.ndarray]:
        """Each method's rollout from its context, steered to ``genres`` (the unconditioned one: not)."""
        scorer, rollouts = self.scorer, {}
        for module, context in zip(self.methods(), contexts, strict=True):
            suffix = "" if module is scorer.module else "_uncond"
            poses = torch.cat([context[:, -1:], scorer.roll(module, "", context, genres)], dim=1)
            rollouts[suffix] = scorer.joints(poses)
        return rollouts

    def random(self) -> Asked:
        """``random_rollouts`` rollouts per asked genre from each method's ``seed=random`` seed."""
        genres = [g for g in self.genres for _ in range(max(self.scorer.settings.random_rollouts, 1))]
        contexts = [random_seeds(m, len(genres)) for m in self.methods()]
        return Asked(self.rolled(contexts, genres), genres)

    def cross(self, context: torch.Tensor, genres: list[str]) -> Asked | None:
        """The held-out seeds steered to the other learned genres; None when it learned one genre."""
        rows, asked = cross_asks(genres, self.learned, max(self.scorer.settings.rollouts, 1))
        if not rows:
            log.warning("no gen_cross keys: the generator learned one genre (%s)", ", ".join(self.learned))
            return None
        seeds = context[rows]
        return Asked(self.rolled([seeds] * len(self.methods()), asked), asked)

    def accuracies(self, asked: Asked, prefix: str) -> dict[str, float]:
        """``{prefix}/genre_acc{suffix}``: the share of rollouts recognised as the genre asked."""
        recognizer = self.scorer.recognizer
        classes = recognizer.classes(asked.genres)
        if classes is None:
            log.warning("no %s/genre_acc: an asked genre is not a class of recognizer_ckpt", prefix)
            return {}
        summary = {}
        for suffix, clips in asked.rollouts.items():
            logits = self.scorer.recognized_outputs(clips)[1]
            summary[f"{prefix}/genre_acc{suffix}"] = genre_accuracy(logits, classes)
        return summary

    def score(self, context: torch.Tensor, genres: list[str], motion: MotionSummary) -> dict[str, float]:
        """Every ``gen_random/*`` and ``gen_cross/*`` key, from the held-out seeds and their genres."""
        summary = {"gen_random/chance": 1.0 / len(self.genres)}
        randomly = self.random()
        summary["gen_random/n_seeds"] = float(len(randomly.genres))
        for suffix, clips in randomly.rollouts.items():
            summary.update(motion(clips, "gen_random", suffix))
        summary.update(self.accuracies(randomly, "gen_random"))
        crossed = self.cross(context, genres)
        if crossed is not None:
            summary["gen_cross/n_seeds"] = float(len(crossed.genres))
            summary.update(self.accuracies(crossed, "gen_cross"))
        return summary
