"""What a genre-conditioned latent LSTM knows about genres: its class list, which classes its
training data held, and how a window's or a video's genre becomes a class index.

The class list is plain data in the checkpoint (the module's ``genres`` hyper-parameter) and
the trained genres are a buffer beside the weights, so ``deepdance.generate`` can name the
genres a checkpoint can dance without the data it was trained on. An embedding of a genre the
training data never held is still its random initial value: asking for it is refused rather
than answered with noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from deepdance.data.aist.names import GENRES
from deepdance.errors import DeepdanceError

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences

# The values of model.condition besides null (unconditioned).
CONDITIONS = ("genre",)
SETTING = "model.condition=genre"


def check_condition(condition: str | None, genres: Sequence[str] | None) -> list[str] | None:
    """The class list of a model conditioned by ``condition`` (the ten AIST++ genres unless a
    checkpoint stored its own), or None for an unconditioned model; bad values in one line."""
    if condition is None:
        return None
    if condition not in CONDITIONS:
        raise DeepdanceError(
            f"model.condition={condition!r} is not known; use null (unconditioned) or genre "
            "(a learned genre embedding at every LSTM step)"
        )
    classes = list(genres or GENRES)
    unknown = [genre for genre in classes if genre not in GENRES]
    if unknown or len(set(classes)) != len(classes):
        raise DeepdanceError(
            f"model.genres={classes}: expected distinct AIST++ genres from {', '.join(GENRES)}"
        )
    return classes


class GenreCondition(nn.Module):
    """The genres of one conditioned model: ``genres`` in class order."""

    def __init__(self, genres: Sequence[str]) -> None:
        super().__init__()
        self.genres = list(genres)
        # Which classes the train split held; set when the model is fitted, saved with it.
        self.register_buffer("trained", torch.zeros(len(self.genres), dtype=torch.bool))
        # A window's label (its index in the AIST++ GENRES) -> this model's class, -1 for none.
        label_classes = [self.genres.index(g) if g in self.genres else -1 for g in GENRES]
        self.register_buffer("label_classes", torch.tensor(label_classes), persistent=False)
        # Each video's class, from use_videos.
        self.video_classes: list[int] = []

    def use_videos(self, sequences: SilhouetteSequences, fit: bool = False) -> None:
        """Read every video's class; with ``fit``, record the genres of the train split."""
        names = sequences.require_genres(SETTING)
        foreign = sorted({genre for genre in names if genre not in self.genres})
        if foreign:
            raise DeepdanceError(
                f"the data holds genre {foreign[0]}, which this model has no class for; its genres "
                f"are {', '.join(self.genres)}"
            )
        self.video_classes = [self.genres.index(genre) for genre in names]
        if fit:
            train = sorted({self.video_classes[s.video] for s in sequences.segments["train"]})
            self.trained.zero_()
            self.trained[train] = True

    def of_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """(B,) window labels from the datamodule -> (B,) class indices."""
        if bool((labels < 0).any()):
            raise DeepdanceError(f"{SETTING}: a window without a genre label reached the model")
        return self.label_classes[labels.to(self.label_classes.device)]

    def trained_names(self) -> list[str]:
        """The genres this model learned, in class order: the ones it can be asked for."""
        return [genre for genre, seen in zip(self.genres, self.trained.tolist()) if seen]

    def of_name(self, genre: str | None) -> torch.Tensor:
        """(1,) class index of a requested genre; a missing or unlearned one is a one-line error
        naming the accepted genres."""
        accepted = self.trained_names()
        choices = ", ".join(accepted) or "none (the model was never fitted)"
        if genre is None:
            raise DeepdanceError(f"this checkpoint is genre-conditioned: give genre=, one of {choices}")
        if genre not in accepted:
            raise DeepdanceError(f"genre={genre} is not a genre this checkpoint learned; accepted: {choices}")
        return torch.tensor([self.genres.index(genre)], device=self.trained.device)
