"""The pose-space dance generator: the latent LSTM whose latent is the pose itself.

``LatentLSTMModule`` with no autoencoder: the "frames" of its datamodule (``data=pose_motion``)
are already normalised poses (J joints x 2 or 3 coordinates, flattened), so the latent table holds
them as they are, decoding is the identity, and everything else is the latent LSTM's own:
standardisation by the train split's statistics, the ridge baseline, genre conditioning, the
rollout training options (``rollout_loss_steps``, ``scheduled_sampling``, ``auto_condition``,
``input_noise``, ``head=mdn``) and its ``rollout``. Validation and test measure it in joint space
(``PoseRolloutEvaluator``). The checkpoint stores the pose settings it was trained on
(``kind``, ``fps``, ``normalise``): ``rollout_poses`` is all a caller needs to dance from a seed.

It also stores a retrieval bank (``retrieval_windows``, ``retrieval_genres``): up to
``BANK_WINDOWS`` training windows of ``look_back`` + 4 s of poses, evenly spread over the train
split, fitted with the ridge. The generation scorer's ``_retrieval`` baseline continues a seed
with the nearest of them, so a folder the training data is not in can still be scored against it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from deepdance.config.base import parse
from deepdance.config.pose_motion import PoseLSTMConfig
from deepdance.data.aist.names import GENRES
from deepdance.errors import DeepdanceError
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.latent_table import AutoencoderCheckpoint
from deepdance.models.pose_rollout_evaluator import PoseRolloutEvaluator
from deepdance.pose.skeleton import NUM_JOINTS

if TYPE_CHECKING:
    from deepdance.data.silhouette import SilhouetteSequences

log = logging.getLogger(__name__)

# The retrieval bank: at most this many training windows, each look_back + BANK_SECONDS of poses.
BANK_WINDOWS = 256
BANK_SECONDS = 4.0
BANK_BUFFERS = ("retrieval_windows", "retrieval_genres")


class PoseLSTMModule(LatentLSTMModule):
    """Windows ``{"frames": (B, L + 1, J * D) poses, "video", "target", "genre"}`` -> the next pose."""

    config_class = PoseLSTMConfig
    data_owner = "pose model"

    def __init__(self, config: PoseLSTMConfig, genres: list[str] | None = None) -> None:
        """``genres``: a conditioned model's class list (None: the ten AIST++ genres)."""
        super().__init__(config, None, genres)

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any], from_checkpoint: bool = False) -> PoseLSTMModule:
        """The module from flat settings (a checkpoint's stored ``preprocessing`` follows from them)."""
        settings = cls.settings(hparams)
        genres = settings.pop("genres", None)
        settings.pop("preprocessing", None)
        return cls(parse(PoseLSTMConfig, settings, "model"), genres)

    @property
    def dims(self) -> int:
        """Coordinates per joint."""
        return 3 if self.config.kind == "3d" else 2

    def frame_source(
        self, config: PoseLSTMConfig, autoencoder: AutoencoderCheckpoint | None
    ) -> tuple[dict[str, Any], None]:
        """No autoencoder: only the pose settings the data must share, stored with the weights."""
        preprocessing = {"kind": config.kind, "fps": float(config.fps), "normalise": config.normalise}
        return {"preprocessing": preprocessing}, None

    def build_frame_source(self, weights: None) -> int:
        self.autoencoder = None
        size = NUM_JOINTS * self.dims
        # empty until fitted; a checkpoint's bank, of any size, replaces them (_load_from_state_dict)
        self.register_buffer("retrieval_windows", torch.zeros(0, 0, size))
        # each window's genre, its index in the AIST++ GENRES (-1: none)
        self.register_buffer("retrieval_genres", torch.zeros(0, dtype=torch.long))
        return size

    def use_sequences(self, sequences: SilhouetteSequences, fit: bool = False) -> None:
        """The latent LSTM's, and with ``fit`` the retrieval bank from the train split."""
        super().use_sequences(sequences, fit)
        if fit:
            self.fill_bank(sequences)

    def fill_bank(self, sequences: SilhouetteSequences) -> None:
        """Up to ``BANK_WINDOWS`` train windows of ``look_back`` + 4 s poses, evenly spread."""
        length = self.hparams.look_back + round(BANK_SECONDS * self.config.fps)
        starts = [
            (s.video, t) for s in sequences.segments["train"] for t in range(s.start, s.stop - length + 1)
        ]
        if not starts:
            log.warning("retrieval bank empty: no train sequence holds %d poses (look_back + 4 s)", length)
            picks: list[tuple[int, int]] = []
        else:
            rows = np.unique(np.linspace(0, len(starts) - 1, min(BANK_WINDOWS, len(starts))).round())
            picks = [starts[int(i)] for i in rows]
        windows = [np.asarray(sequences.videos[v][t : t + length], dtype=np.float32) for v, t in picks]
        genres = [sequences.genres[v] if v < len(sequences.genres) else None for v, _ in picks]
        size = self.retrieval_windows.shape[-1]
        bank = torch.as_tensor(np.stack(windows)) if windows else torch.zeros(0, length, size)
        self.retrieval_windows = bank.to(self.retrieval_windows.device)
        labels = [GENRES.index(g) if g in GENRES else -1 for g in genres]
        self.retrieval_genres = torch.tensor(labels, dtype=torch.long, device=bank.device)

    def _load_from_state_dict(
        self,
        state_dict: Mapping[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        """A stored bank of any size is taken as it is; a checkpoint from before banks loads without one."""
        for name in BANK_BUFFERS:
            stored = state_dict.get(prefix + name)
            if stored is not None:
                current = self._buffers[name]
                self._buffers[name] = torch.empty(stored.shape, dtype=current.dtype, device=current.device)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        for name in BANK_BUFFERS:
            if prefix + name in missing_keys:
                missing_keys.remove(prefix + name)

    def make_evaluator(self) -> PoseRolloutEvaluator:
        return PoseRolloutEvaluator(self.dims)

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray | torch.Tensor, batch_size: int = 0) -> torch.Tensor:
        """Poses (T, J * D) are their own latents."""
        return torch.as_tensor(np.asarray(frames, dtype=np.float32), device=self.device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw latents are poses (..., J * D)."""
        return z


def rollout_poses(
    model: PoseLSTMModule,
    seed_poses: np.ndarray | torch.Tensor,
    steps: int,
    genre: str | None = None,
    generator: torch.Generator | None = None,
    noise: float = 0.0,
) -> np.ndarray:
    """A dance from a seed: normalised seed poses (T, J, D), as ``data.pose.motion.motion_sequence``
    makes them at the model's ``fps``, then ``steps`` generated ones: (T + steps, J, D) float32.

    The model reads the last ``look_back`` seed poses; ``genre`` steers a conditioned model (refused
    in one line for an unconditioned one, and when missing for a conditioned one). A mixture head
    draws from ``generator`` (None: the model's fixed evaluation seed); ``noise`` is added to each
    fed-back pose in standardised units (``LatentLSTMModule.rollout``)."""
    seed = torch.as_tensor(np.asarray(seed_poses, dtype=np.float32))
    look_back, dims = model.hparams.look_back, model.dims
    if seed.dim() != 3 or seed.shape[1:] != (NUM_JOINTS, dims):
        raise DeepdanceError(
            f"seed poses of shape {tuple(seed.shape)}: expected (T, {NUM_JOINTS}, {dims}) for this "
            f"{model.config.kind} pose model"
        )
    if len(seed) < look_back:
        raise DeepdanceError(f"{len(seed)} seed poses: this model reads {look_back} (model.look_back)")
    if steps < 0:
        raise DeepdanceError(f"steps={steps}: expected 0 or more")
    genre_index = model.genre_class(genre)
    context = seed[-look_back:].reshape(1, look_back, -1).to(model.device)
    if generator is None:
        generator = model.sampling_generator()
    was_training = model.training
    model.eval()
    try:
        predicted = model.rollout(context, steps, genre_index, generator=generator, noise=noise)
    finally:
        model.train(was_training)
    poses = torch.cat([seed, predicted[0].cpu().reshape(steps, NUM_JOINTS, dims)])
    return poses.numpy()
