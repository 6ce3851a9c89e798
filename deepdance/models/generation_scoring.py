"""Score a trained latent LSTM's rollouts, and its baselines', with a silhouette genre recognizer.

One-step errors miss whether a long rollout keeps dancing, looks like the dance, varies, copies,
or dances the genre it was asked for (``generation_metrics`` has one function per question).
This module makes the clips those functions compare, the same way for every method:

* **held-out seeds** (``gen/*``): ``rollouts`` windows of the held-out split, evenly spread; each
  method continues the window's ``look_back`` real frames for ``steps`` steps (a conditioned
  LSTM in the genre of the window's video), and the real continuation is the real clip;
* **random seeds** (``gen_random/*``): ``random_rollouts`` seeds drawn from the training latents'
  distribution, per requested genre for a conditioned LSTM; their genre accuracy is the pure
  measure of steering, since no seed frame shows the genre;
* **training clips**: ``train_clips`` windows of the train split, for novelty and retrieval.

Methods, by summary-key suffix (as the LSTM's ``_repeat``/``_ridge``, so ``deepdance.report
--baselines`` pairs them): the LSTM (none), ``_repeat`` (the last seed frame held: liveliness 0),
``_ridge`` (the checkpoint's ridge rolled out), ``_retrieval`` (the training clip whose seed
latents are nearest, of the requested genre: novelty 0) and ``_uncond`` (an unconditioned LSTM,
when given). Every clip starts at the last seed frame, so a step's change is the first generated
one; the recognizer reads the ``steps`` frames after it (``SilhouetteRecognizer``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from deepdance.errors import DeepdanceError
from deepdance.models.generation_metrics import genre_accuracy, score_generation
from deepdance.models.generation_recognizer import SilhouetteRecognizer
from deepdance.models.rollout_evaluator import forecasters

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences
    from deepdance.models.latent_lstm_module import LatentLSTMModule

log = logging.getLogger(__name__)

# The horizon: a rollout shorter than this hides a slow freeze.
MIN_STEPS = 30
# Metrics of the real clips, written once rather than per method.
REAL_KEYS = ("fdd_floor", "liveliness_real", "diversity_real", "genre_acc_real")


@dataclass(frozen=True)
class ScoringSettings:
    """How many clips of which split; ``genres`` None = every genre the LSTM learned."""

    rollouts: int = 32
    steps: int = 30
    random_rollouts: int = 8
    train_clips: int = 200
    split: str = "test"
    seed: int = 0
    genres: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.steps < MIN_STEPS:
            raise DeepdanceError(
                f"steps={self.steps}: generated dances are scored over at least {MIN_STEPS} steps"
            )
        for key in ("rollouts", "random_rollouts", "train_clips"):
            if getattr(self, key) < 2:
                raise DeepdanceError(f"{key}={getattr(self, key)}: expected an integer >= 2")
        if self.split not in ("val", "test"):
            raise DeepdanceError(f"split={self.split!r}: expected val or test (a held-out split)")


@dataclass
class ClipSet:
    """Clips (N, steps + 1, H, W) in [0, 1] from the last seed frame on and, for retrieved
    training clips, which ones (their rows among the training clips)."""

    frames: torch.Tensor
    train_rows: torch.Tensor | None = None


@dataclass
class Seeds:
    """Each seed's genre name (None: unconditioned) and its (N, look_back, D) raw latents, per
    module (keyed by ``id``: each LSTM reads its own autoencoder's latents)."""

    genres: list[str | None]
    latents: dict[int, torch.Tensor]


def check_unconditioned(module: Any, unconditioned: Any, differs: str) -> Any:
    """``uncond_ckpt``'s model in eval mode (None stays None), refused in one line unless it is
    unconditioned and reads what ``module`` reads (``differs`` says how, when it does not)."""
    if unconditioned is None:
        return None
    if unconditioned.genre_condition is not None:
        raise DeepdanceError(
            "uncond_ckpt: a genre-conditioned generator; give one trained with model.condition=null"
        )
    if dict(unconditioned.hparams.preprocessing) != dict(module.hparams.preprocessing):
        raise DeepdanceError(f"uncond_ckpt: {differs}; train both on the same data settings")
    return unconditioned.eval()


class GenerationScorer:
    """Roll out ``module`` (a ``LatentLSTMModule``) and its baselines from the same seeds, and
    score every method's clips with ``recognizer`` against real clips of ``sequences``."""

    def __init__(
        self,
        module: LatentLSTMModule,
        recognizer: SilhouetteRecognizer,
        sequences: SilhouetteSequences,
        settings: ScoringSettings,
        unconditioned: LatentLSTMModule | None = None,
    ) -> None:
        self.module = module
        self.recognizer = recognizer
        self.sequences = sequences
        self.settings = settings
        self.look_back = int(module.hparams.look_back)
        self.conditioned = module.genre_condition is not None
        self.unconditioned = check_unconditioned(
            module, unconditioned, "its frames differ from lstm_ckpt's (data.fps, size, threshold)"
        )
        self.genres = self._requested_genres()
        # the held-out split must hold a whole rollout: refused now, not after the rollouts
        self._windows(settings.split, 1)
        self.train = self._train_clips()

    # ------------------------------------------------------------------------- windows
    def _windows(self, split: str, count: int) -> list[tuple[int, int]]:
        """``count`` (video, start) pairs spread evenly over ``split``: ``look_back`` seed frames
        before ``start``, ``steps`` real frames from it."""
        steps, back = self.settings.steps, self.look_back
        candidates = [
            (s.video, start)
            for s in self.sequences.segments[split]
            for start in range(max(s.start, back), s.stop - steps + 1)
        ]
        if not candidates:
            longest = max((len(s) for s in self.sequences.segments[split]), default=0)
            raise DeepdanceError(
                f"steps={steps}: no {split} segment holds {steps} frames after {back} seed frames "
                f"(the longest has {longest}); ask for fewer steps (>= {MIN_STEPS}) or use longer videos"
            )
        picks = np.linspace(0, len(candidates) - 1, min(count, len(candidates))).round().astype(int)
        return [candidates[i] for i in np.unique(picks)]

    def _clip_frames(self, windows: Sequence[tuple[int, int]], first: int, length: int) -> torch.Tensor:
        """Real frames ``start + first`` on, ``length`` of them, per window: (N, length, H, W) in [0, 1]."""
        clips = [np.asarray(self.sequences.videos[v][t + first : t + first + length]) for v, t in windows]
        return torch.from_numpy(np.stack(clips)).float() / 255.0

    def _window_genres(self, windows: Sequence[tuple[int, int]]) -> list[str | None]:
        genres = self.sequences.genres
        return [genres[v] if v < len(genres) else None for v, _ in windows]

    def _encode(self, module: LatentLSTMModule, frames: torch.Tensor) -> torch.Tensor:
        """(N, L, H, W) frames in [0, 1] -> (N, L, D) raw latents of ``module``'s encoder."""
        uint8 = torch.round(frames * 255).to(torch.uint8).flatten(0, 1)
        return module.encode_frames(uint8).view(*frames.shape[:2], -1)

    def _requested_genres(self) -> list[str]:
        """The genres conditioned rollouts are asked for, checked against both models."""
        if not self.conditioned:
            return []
        learned = self.module.genre_condition.trained_names()
        wanted = list(self.settings.genres or learned)
        for genre in wanted:
            # one line naming the accepted genres
            self.module.genre_class(genre)
            if genre not in self.recognizer.class_names:
                raise DeepdanceError(
                    f"genres: the recognizer has no class {genre}; its classes are "
                    f"{', '.join(self.recognizer.class_names)}"
                )
        return wanted

    def _train_clips(self) -> dict[str, Any]:
        """The training clips: frames, seed latents (normalised, flat), genres, recognizer features."""
        windows = self._windows("train", self.settings.train_clips)
        seeds = self._clip_frames(windows, -self.look_back, self.look_back)
        latents = self.module.normalize(self._encode(self.module, seeds)).flatten(1).cpu()
        frames = self._clip_frames(windows, -1, self.settings.steps + 1)
        features, _ = self.recognizer.outputs(frames[:, 1:])
        return {
            "frames": frames,
            "latents": latents,
            "genres": self._window_genres(windows),
            "features": features,
        }

    # ------------------------------------------------------------------------- methods
    def _class(self, module: LatentLSTMModule, genres: Sequence[str | None]) -> torch.Tensor | None:
        """(N,) class indices of ``module`` for a conditioned module, else None."""
        if module.genre_condition is None:
            return None
        return torch.cat([module.genre_class(g) for g in genres]).to(module.device)

    def _decode(self, module: LatentLSTMModule, latents: torch.Tensor) -> torch.Tensor:
        """(N, S, D) raw latents -> (N, S, H, W) frames in [0, 1], on the CPU."""
        flat = latents.flatten(0, 1).to(module.device)
        chunks = [module.decode(z)[:, 0] for z in flat.split(512)]
        return torch.cat(chunks).view(*latents.shape[:2], *chunks[0].shape[1:]).clamp(0, 1).cpu()

    def _roll(self, module: LatentLSTMModule, method: str, seeds: Seeds, first: torch.Tensor) -> ClipSet:
        """``method`` of the evaluator's table (``forecasters``) rolled out from ``seeds`` (raw
        latents of ``module``), decoded, after ``first``."""
        context = seeds.latents[id(module)].to(module.device)
        roll = forecasters(module, self._class(module, seeds.genres), module.sampling_generator())[method]
        with torch.no_grad():
            predicted = roll(context, self.settings.steps)
        frames = torch.cat([first[:, None], self._decode(module, predicted)], dim=1)
        return ClipSet(frames)

    def _retrieve(self, seeds: Seeds) -> ClipSet:
        """Each seed's nearest training clip by normalised seed latents, of the requested genre if any."""
        query = self.module.normalize(seeds.latents[id(self.module)].to(self.module.device)).flatten(1).cpu()
        distances = torch.cdist(query.double(), self.train["latents"].double())
        train_genres = self.train["genres"]
        for row, genre in enumerate(seeds.genres):
            others = [g is not None and genre is not None and g != genre for g in train_genres]
            if genre is not None and not all(others):
                distances[row, torch.tensor(others)] = float("inf")
        rows = distances.argmin(dim=1)
        return ClipSet(self.train["frames"][rows], train_rows=rows)

    def _methods(self, seeds: Seeds, first: torch.Tensor) -> dict[str, ClipSet]:
        """Every method's clips from ``seeds``; ``first`` (N, H, W) is each clip's frame 0."""
        held = first[:, None].expand(-1, self.settings.steps + 1, -1, -1)
        module = self.module
        methods = {
            "": self._roll(module, "", seeds, first),
            "_repeat": ClipSet(held.contiguous()),
            "_ridge": self._roll(module, "_ridge", seeds, first),
            "_retrieval": self._retrieve(seeds),
        }
        if self.unconditioned is not None:
            methods["_uncond"] = self._roll(self.unconditioned, "", seeds, first)
        return methods

    # ------------------------------------------------------------------------- scoring
    def _recognizer_classes(self, genres: Sequence[str | None]) -> torch.Tensor | None:
        if not genres or any(g is None or g not in self.recognizer.class_names for g in genres):
            return None
        return torch.tensor([self.recognizer.class_names.index(g) for g in genres])

    def _score(
        self,
        prefix: str,
        methods: dict[str, ClipSet],
        requested: torch.Tensor | None,
        real: ClipSet,
        real_genres: torch.Tensor | None = None,
    ) -> dict[str, float]:
        """``{prefix}/{metric}{suffix}`` for every method, the real clips' metrics once (with
        ``real_genres``, the recognizer's accuracy on the real clips too)."""
        real_features, real_logits = self.recognizer.outputs(real.frames[:, 1:])
        summary: dict[str, float] = {}
        for suffix, clips in methods.items():
            if clips.train_rows is not None:
                # retrieved clips are training clips: their features are those clips' own
                features = self.train["features"][clips.train_rows]
                _, logits = self.recognizer.outputs(clips.frames[:, 1:])
            else:
                features, logits = self.recognizer.outputs(clips.frames[:, 1:])
            scores = score_generation(
                generated_features=features,
                real_features=real_features,
                training_features=self.train["features"],
                generated_frames=clips.frames,
                real_frames=real.frames,
                horizon=self.settings.steps,
                genre_scores=logits if requested is not None else None,
                requested_genres=requested,
                seed=self.settings.seed,
            ).summary(prefix)
            for key, value in scores.items():
                if key.split("/", 1)[1] not in REAL_KEYS:
                    summary[f"{key}{suffix}"] = value
                elif not suffix:
                    summary[key] = value
        if real_genres is not None:
            # the bar for generated clips: how well the recognizer names real held-out dancers
            summary[f"{prefix}/genre_acc_real"] = genre_accuracy(real_logits, real_genres)
        return summary

    def held_out(self) -> dict[str, float]:
        """``gen/*``: every method continues held-out windows; the real continuations are the reference."""
        windows = self._windows(self.settings.split, self.settings.rollouts)
        seed_frames = self._clip_frames(windows, -self.look_back, self.look_back)
        genres = self._window_genres(windows) if self.conditioned else [None] * len(windows)
        seeds = Seeds(genres, self._seed_latents(seed_frames))
        real = ClipSet(self._clip_frames(windows, -1, self.settings.steps + 1))
        methods = self._methods(seeds, seed_frames[:, -1])
        # every method is asked for the seed video's genre; the real clip shows it
        requested = self._recognizer_classes(self._window_genres(windows)) if self.conditioned else None
        real_genres = self._recognizer_classes(self._window_genres(windows))
        return self._score("gen", methods, requested, real, real_genres)

    def _seed_latents(self, frames: torch.Tensor) -> dict[int, torch.Tensor]:
        modules = [m for m in (self.module, self.unconditioned) if m is not None]
        return {id(m): self._encode(m, frames) for m in modules}

    def random(self) -> dict[str, float]:
        """``gen_random/*``: every method from seeds drawn from the training latents' distribution,
        per requested genre for a conditioned LSTM (each module draws from its own latents)."""
        per_genre = self.settings.random_rollouts
        genres: list[str | None] = [g for g in self.genres for _ in range(per_genre)] or [None] * per_genre
        generator = torch.Generator().manual_seed(self.settings.seed)
        latents = {}
        for m in (self.module, self.unconditioned):
            if m is not None:
                noise = torch.randn((len(genres), self.look_back, m.latent_mean.numel()), generator=generator)
                latents[id(m)] = m.latent_mean.cpu() + m.latent_std.cpu() * noise
        seeds = Seeds(genres, latents)
        # frame 0: the LSTM's decoded last seed latent (no real frame exists)
        first = self._decode(self.module, latents[id(self.module)][:, -1:])[:, 0]
        methods = self._methods(seeds, first)
        if self.unconditioned is not None:
            unconditioned_first = self._decode(self.unconditioned, latents[id(self.unconditioned)][:, -1:])
            methods["_uncond"].frames[:, 0] = unconditioned_first[:, 0]
        windows = self._windows(self.settings.split, self.settings.rollouts)
        real = ClipSet(self._clip_frames(windows, -1, self.settings.steps + 1))
        return self._score("gen_random", methods, self._recognizer_classes(genres), real)

    def score(self) -> dict[str, float]:
        """Both seed kinds' summary keys. The LSTM rolls out in eval mode (no dropout) and is
        left in the mode it came in: a training callback scores it between epochs."""
        training = self.module.training
        self.module.eval()
        try:
            return {**self.held_out(), **self.random()}
        finally:
            self.module.train(training)


def load_recognizer(path: str, generator_fps: float, clip_fps: float | None = None, device: str = "cpu"):
    """A ``SilhouetteRecognizer`` from a genre classifier checkpoint (its stored data settings
    say the clip length, size and, for a synthetic set, the rate)."""
    from deepdance.models.registry import GENRE_CLASSIFIER, load_model

    classifier, metadata, family = load_model(path, "recognizer_ckpt", device, setting="recognizer_ckpt")
    if family is not GENRE_CLASSIFIER:
        raise DeepdanceError(
            f"recognizer_ckpt={path}: a {family.short}; silhouettes are graded by a {GENRE_CLASSIFIER.short} "
            "(experiment=silhouette_genre)"
        )
    return SilhouetteRecognizer(classifier, metadata["data"], generator_fps, clip_fps)


def load_scorer(
    lstm_ckpt: str,
    recognizer_ckpt: str,
    settings: ScoringSettings,
    uncond_ckpt: str | None = None,
    recognizer_fps: float | None = None,
    data_root: str | None = None,
    device: str = "cpu",
) -> GenerationScorer:
    """A scorer from checkpoints alone: the LSTM's stored data settings rebuild its videos and
    splits (``data_root`` where they have moved), so the held-out clips are the ones it never saw."""
    from deepdance.config.data import DEFAULT_FPS
    from deepdance.data.silhouette.datamodule import SilhouetteDataModule
    from deepdance.models.registry import load_model

    module, metadata, _ = load_model(lstm_ckpt, "score_generation", device, setting="lstm_ckpt")
    data = dict(metadata["data"])
    if data_root is not None:
        data["root"] = data_root
    sequences = SilhouetteDataModule.from_config(data).sequences("test")
    generator_fps = float(module.hparams.preprocessing.get("fps") or DEFAULT_FPS)
    recognizer = load_recognizer(recognizer_ckpt, generator_fps, recognizer_fps, device)
    unconditioned = None
    if uncond_ckpt is not None:
        unconditioned = load_model(uncond_ckpt, "score_generation", device, setting="uncond_ckpt")[0]
    return GenerationScorer(module, recognizer, sequences, settings, unconditioned)
