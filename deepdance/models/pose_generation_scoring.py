"""Score the pose-space dance generator's rollouts, and its baselines', in the field's motion terms.

    python -m deepdance.score_generation lstm_ckpt=<pose_dance ckpt> data_root=<annotation folder> split=all

The sequences scored: with ``split=all``, every sequence and view of ``data_root`` (read with the
checkpoint's data settings: kind, fps, normalise, min_confidence, views, genres), a folder the
model may never have seen; with ``split=val|test``, that held-out split of the checkpoint's own
data (``data_root`` where it has moved). Seeds are ``look_back`` real poses, ``rollouts`` of them
spread evenly over every sequence and view (each gets its share, evenly spaced in it); each method
continues them ``steps`` poses (4 s at the model's fps by default, never less), and every
rollout is compared with the scored sequences (``metrics.motion.score_motion``: FID_k/g,
Div_k/g, liveliness over the rollout, foot skating, novelty against the checkpoint's retrieval
bank). A conditioned model is steered to each seed's own genre.

Methods by summary-key suffix: the LSTM (none; ``noise`` perturbs each fed-back pose, and a
mixture head draws from a generator seeded by ``seed``), ``_repeat`` (the last seed pose held:
liveliness 0), ``_ridge`` (the checkpoint's ridge rolled out), ``_retrieval`` (the stored training
window whose seed poses are nearest, of the seed's genre for a conditioned model, continued as it
really went on: novelty 0; left out, logged, for a checkpoint without a bank) and ``_uncond``
(an unconditioned generator, with ``uncond_ckpt``). Metrics of the real sequences alone
(``_floor``, ``_real``, ``n_real``) are written once. With a skeleton genre recognizer
(``pose_generation_recognizer``): ``gen/fdd{suffix}``, the Fréchet distance between its pooled
features of the first 4 s of rollouts and of real 4 s windows, ``gen/genre_acc{suffix}`` (rollouts
recognised as their seed's genre) and ``gen/genre_acc_real``. A conditioned model with a recognizer
is also graded on steering (``pose_steering``): ``gen_random/genre_acc{suffix}`` (rollouts from
``generate seed=random``'s seed, ``random_rollouts`` per genre of ``genres``, recognised as the genre
asked; '' and ``_uncond``), ``gen_random/chance``, ``gen_random/<motion metric>{suffix}`` and
``gen_cross/genre_acc{suffix}`` (held-out seeds steered to each other learned genre).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from deepdance.data.aist.names import GENRES
from deepdance.data.pose.scored import PoseSet, read_sequences
from deepdance.errors import DeepdanceError
from deepdance.metrics.motion import cut_windows, score_motion
from deepdance.models.generation_metrics import frechet_distance, genre_accuracy
from deepdance.models.generation_scoring import check_unconditioned
from deepdance.models.pose_steering import PoseSteering
from deepdance.models.rollout_evaluator import forecasters
from deepdance.pose.skeleton import NUM_JOINTS

if TYPE_CHECKING:
    from deepdance.models.pose_generation_recognizer import PoseRecognizer
    from deepdance.models.pose_lstm_module import PoseLSTMModule

log = logging.getLogger(__name__)

# Rollouts are scored over at least this long: a shorter one hides a slow freeze.
MIN_SECONDS = 4.0
# MotionScores fields of the real sequences alone: written once, not per method.
REAL_KEYS = ("fid_k_floor", "fid_g_floor", "div_k_real", "div_g_real", "liveliness_real")
REAL_KEYS += ("foot_skating_real", "n_real", "n_floor")


@dataclass(frozen=True)
class PoseScoringSettings:
    """What to score: ``steps`` None = 4 s at the model's fps; ``split`` all, val or test;
    ``random_rollouts`` per genre of ``genres`` (None: all learned) for ``gen_random/*``."""

    rollouts: int = 32
    steps: int | None = None
    split: str = "all"
    seed: int = 0
    noise: float = 0.0
    random_rollouts: int = 8
    genres: tuple[str, ...] | None = None


def min_steps(fps: float) -> int:
    """Steps in ``MIN_SECONDS`` at ``fps``."""
    return round(MIN_SECONDS * fps)


def scored_steps(steps: int | None, fps: float) -> int:
    """``steps`` (None: 4 s at ``fps``), refused in one line below 4 s."""
    least = min_steps(fps)
    if steps is not None and steps < least:
        raise DeepdanceError(
            f"steps={steps}: pose rollouts are scored over at least {MIN_SECONDS:g} s, "
            f"{least} steps at this generator's data.fps={fps:g}"
        )
    return least if steps is None else int(steps)


# --------------------------------------------------------------------------- the scorer


class PoseGenerationScorer:
    """Roll out ``module`` and its baselines from seeds of ``scored``; score every method's rollouts
    against the scored sequences (and with ``recognizer``, by its features and genres)."""

    def __init__(
        self,
        module: PoseLSTMModule,
        scored: PoseSet,
        settings: PoseScoringSettings,
        recognizer: PoseRecognizer | None = None,
        unconditioned: PoseLSTMModule | None = None,
    ) -> None:
        self.module = module.eval()
        self.fps = float(module.config.fps)
        self.steps = scored_steps(settings.steps, self.fps)
        self.settings, self.recognizer = settings, recognizer
        self.unconditioned = check_unconditioned(
            module, unconditioned, "its poses differ from lstm_ckpt's (data.kind, fps, normalise)"
        )
        self.scored = keep_learned(module, scored)
        self.look_back = max(m.hparams.look_back for m in (module, unconditioned) if m is not None)
        # gen_random/* and gen_cross/*: a conditioned model graded by a recognizer (genres checked here)
        steered = module.genre_condition is not None and recognizer is not None
        self.steering = PoseSteering(self) if steered else None

    def seeds(self) -> tuple[torch.Tensor, list[str]]:
        """(N, look_back, J * D) seed poses spread over every view long enough, and their genres."""
        lengths = [len(v) for v in self.scored.videos]
        usable = [i for i, n in enumerate(lengths) if n >= self.look_back]
        if not usable:
            raise DeepdanceError(
                f"no scored sequence holds the {self.look_back} seed poses the generator reads (the "
                f"longest has {max(lengths)} at {self.fps:g} fps)"
            )
        total = max(self.settings.rollouts, 1)
        # each view its share (evenly spread views take the remainder), evenly spaced in it
        shares = np.full(len(usable), total // len(usable))
        shares[np.linspace(0, len(usable) - 1, total % len(usable)).round().astype(int)] += 1
        context, genres = [], []
        for video, share in zip(usable, shares):
            poses = self.scored.videos[video]
            for end in np.unique(np.linspace(self.look_back, len(poses), share).round().astype(int)):
                context.append(poses[end - self.look_back : end])
                genres.append(self.scored.genres[video])
        return torch.as_tensor(np.stack(context), dtype=torch.float32), genres

    def genre_index(self, module: PoseLSTMModule, genres: list[str]) -> torch.Tensor | None:
        if module.genre_condition is None:
            return None
        return torch.cat([module.genre_class(g) for g in genres]).to(module.device)

    def roll(
        self, module: PoseLSTMModule, method: str, context: torch.Tensor, genres: list[str]
    ) -> torch.Tensor:
        """(N, steps, J * D) poses of ``module``'s ``method`` from its last ``look_back`` seed poses."""
        seed = context[:, -module.hparams.look_back :].to(module.device)
        genre = self.genre_index(module, genres)
        with torch.no_grad():
            if method == "_ridge":
                return forecasters(module, genre)["_ridge"](seed, self.steps).cpu()
            draws = torch.Generator(device=module.device).manual_seed(self.settings.seed)
            predicted = module.rollout(seed, self.steps, genre, generator=draws, noise=self.settings.noise)
        return predicted.cpu()

    def retrieve(self, context: torch.Tensor, genres: list[str]) -> torch.Tensor | None:
        """Each seed's nearest bank window by standardised seed poses (of the seed's genre for a
        conditioned model) as it really went on, from its last seed pose: (N, steps + 1, J * D); None
        without a bank."""
        module, look_back = self.module, self.module.hparams.look_back
        bank, bank_genres = module.retrieval_windows.cpu(), module.retrieval_genres.cpu()
        if len(bank) == 0 or bank.shape[1] - look_back < self.steps:
            held = 0 if len(bank) == 0 else bank.shape[1] - look_back
            log.warning(
                "no _retrieval keys: the checkpoint's retrieval bank holds %d windows continued %d poses "
                "(steps=%d; a checkpoint from before banks has none)",
                len(bank),
                held,
                self.steps,
            )
            return None
        stats = module.latent_mean.cpu(), module.latent_std.cpu()
        query = ((context[:, -look_back:] - stats[0]) / stats[1]).flatten(1).double()
        keys = ((bank[:, :look_back] - stats[0]) / stats[1]).flatten(1).double()
        distances = torch.cdist(query, keys)
        if module.genre_condition is not None:
            for row, genre in enumerate(genres):
                other = bank_genres != (GENRES.index(genre) if genre in GENRES else -1)
                if not bool(other.all()):
                    distances[row, other] = float("inf")
        rows = distances.argmin(dim=1)
        # its own last seed pose first, as every rollout starts from the seed's
        return bank[rows, look_back - 1 : look_back + self.steps]

    def methods(self, context: torch.Tensor, genres: list[str]) -> dict[str, torch.Tensor]:
        """Every method's rollout (N, steps + 1, J * D) from the last seed pose on."""
        last = context[:, -1:]
        methods = {
            "": torch.cat([last, self.roll(self.module, "", context, genres)], dim=1),
            "_repeat": last.expand(-1, self.steps + 1, -1).clone(),
            "_ridge": torch.cat([last, self.roll(self.module, "_ridge", context, genres)], dim=1),
        }
        retrieved = self.retrieve(context, genres)
        if retrieved is not None:
            methods["_retrieval"] = retrieved
        if self.unconditioned is not None:
            methods["_uncond"] = torch.cat([last, self.roll(self.unconditioned, "", context, genres)], dim=1)
        return methods

    # ----------------------------------------------------------------------- scoring
    def joints(self, poses: torch.Tensor | np.ndarray) -> np.ndarray:
        array = np.asarray(poses, dtype=np.float32)
        return array.reshape(*array.shape[:-1], NUM_JOINTS, self.module.dims)

    def score(self) -> dict[str, float]:
        """``gen/<metric><suffix>`` for every method, the real sequences' metrics once."""
        context, genres = self.seeds()
        real = [self.joints(v) for v in self.scored.videos]
        groups = pd.factorize(pd.Series(self.scored.groups or range(len(real))))[0]
        bank = self.module.retrieval_windows.cpu()
        training = self.joints(bank) if len(bank) else None
        summary: dict[str, float] = {"gen/n_seeds": float(len(context))}
        motion = partial(self.motion, real=real, groups=groups, training=training)
        rollouts = {}
        for suffix, rollout in self.methods(context, genres).items():
            rollouts[suffix] = self.joints(rollout)
            summary.update(motion(rollouts[suffix], "gen", suffix))
        if self.recognizer is not None:
            summary.update(self.recognized(rollouts, real, genres))
        if self.steering is not None:
            summary.update(self.steering.score(context, genres, motion))
        return summary

    def motion(
        self,
        clips: np.ndarray,
        prefix: str,
        suffix: str,
        real: list[np.ndarray],
        groups: np.ndarray,
        training: np.ndarray | None,
    ) -> dict[str, float]:
        """``{prefix}/<metric>{suffix}`` of ``clips`` against ``real``; the real sequences' own metrics
        only for the LSTM's ``gen`` keys (written once)."""
        scores = score_motion(
            clips,
            real,
            self.fps,
            training=training,
            horizon_s=self.steps / self.fps,
            training_stride_s=1 / self.fps,
            real_groups=groups,
            seed=self.settings.seed,
        ).summary(prefix)
        summary = {}
        for key, value in scores.items():
            if key.split("/", 1)[1] not in REAL_KEYS:
                summary[f"{key}{suffix}"] = value
            elif not suffix and prefix == "gen":
                summary[key] = value
        return summary

    def recognized_outputs(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The recognizer's features and logits of the first 4 s of each rollout's generated steps."""
        return self.recognizer.outputs(clips[:, 1 : min_steps(self.fps) + 1])

    def recognized(
        self, rollouts: dict[str, np.ndarray], real: list[np.ndarray], genres: list[str]
    ) -> dict[str, float]:
        """``gen/fdd{suffix}`` and ``gen/genre_acc{suffix}`` on the first 4 s of each rollout's
        generated steps; ``gen/genre_acc_real`` on the real 4 s windows."""
        recognizer = self.recognizer
        windows = cut_windows(real, self.fps, MIN_SECONDS)
        real_features, real_logits = recognizer.outputs(windows.joints)
        summary = {}
        real_classes = recognizer.classes([self.scored.genres[i] for i in windows.sequence])
        if real_classes is not None:
            summary["gen/genre_acc_real"] = genre_accuracy(real_logits, real_classes)
        requested = recognizer.classes(genres)
        if requested is None or real_classes is None:
            log.warning("no genre accuracy: a scored sequence's genre is not a class of recognizer_ckpt")
        for suffix, clips in rollouts.items():
            features, logits = self.recognized_outputs(clips)
            summary[f"gen/fdd{suffix}"] = frechet_distance(features, real_features)
            if requested is not None:
                summary[f"gen/genre_acc{suffix}"] = genre_accuracy(logits, requested)
        return summary


def keep_learned(module: PoseLSTMModule, scored: PoseSet) -> PoseSet:
    """For a conditioned model, the views of the genres it learned (the others logged, left out)."""
    if module.genre_condition is None:
        return scored
    learned = set(module.genre_condition.trained_names())
    keep = [i for i, genre in enumerate(scored.genres) if genre in learned]
    if not keep:
        raise DeepdanceError(
            "no scored sequence is of a genre this conditioned generator learned "
            f"({', '.join(sorted(learned))})"
        )
    if len(keep) < len(scored.genres):
        log.warning(
            "%d view(s) of genres the generator never learned left out", len(scored.genres) - len(keep)
        )
    videos, genres = [scored.videos[i] for i in keep], [scored.genres[i] for i in keep]
    return PoseSet(videos, genres, [scored.groups[i] for i in keep] if scored.groups else [])


def load_pose_scorer(
    lstm_ckpt: str,
    settings: PoseScoringSettings,
    recognizer_ckpt: str | None = None,
    uncond_ckpt: str | None = None,
    data_root: str | None = None,
    device: str = "cpu",
) -> PoseGenerationScorer:
    """A scorer from checkpoints alone: the generator's stored data settings read the sequences."""
    from deepdance.models.pose_generation_recognizer import load_pose_recognizer
    from deepdance.models.registry import load_model

    module, metadata, _ = load_model(lstm_ckpt, "score_generation", device, setting="lstm_ckpt")
    # refused before any file is read
    scored_steps(settings.steps, float(module.config.fps))
    if settings.split == "all" and data_root is None:
        raise DeepdanceError(
            "split=all scores every sequence of data_root=: give data_root=<an annotation folder>"
        )
    scored = read_sequences(dict(metadata["data"]), settings.split, data_root)
    recognizer = None
    if recognizer_ckpt is not None:
        recognizer = load_pose_recognizer(
            recognizer_ckpt, module.config.kind, module.config.normalise, device
        )
    unconditioned = None
    if uncond_ckpt is not None:
        unconditioned = load_model(uncond_ckpt, "score_generation", device, setting="uncond_ckpt")[0]
    return PoseGenerationScorer(module, scored, settings, recognizer, unconditioned)
