"""Lightning callbacks that are deepdance's own (the rest come from Lightning), one per file.

Report callbacks render what a model exposes (``ConfusionMatrixReport``: a genre classifier's
``test_report``; ``RolloutVideo``: the latent LSTM's rollout from its first val window;
``FrameStrips``: the autoencoder's reconstructions; ``GenerationScores``: a latent LSTM's dance
per genre and, with a recognizer, its ``gen/*`` metrics) into the run dir and hand pictures and
videos to every logger.
"""

from deepdance.callbacks.checkpoint_on_interrupt import CheckpointOnInterrupt
from deepdance.callbacks.confusion_matrix import ConfusionMatrixReport
from deepdance.callbacks.epoch_timer import EpochTimer
from deepdance.callbacks.frame_strips import FrameStrips
from deepdance.callbacks.generation_scores import GenerationScores
from deepdance.callbacks.model_checkpoint import ModelCheckpoint
from deepdance.callbacks.resumable_randomness import ResumableRandomness
from deepdance.callbacks.rollout_video import RolloutVideo
from deepdance.callbacks.run_metadata import RunMetadata
from deepdance.callbacks.step_timer import StepTimer

__all__ = [
    "CheckpointOnInterrupt",
    "ConfusionMatrixReport",
    "EpochTimer",
    "FrameStrips",
    "GenerationScores",
    "ModelCheckpoint",
    "ResumableRandomness",
    "RolloutVideo",
    "RunMetadata",
    "StepTimer",
]
