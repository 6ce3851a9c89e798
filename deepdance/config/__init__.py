"""One typed schema per config group (pydantic), and the start-up checks built on them.

``data``, ``model``, ``trainer`` and ``commands`` hold the schemas: each setting's type,
default, range and choices, and the rules between settings. ``base.parse`` reads a composed
node into a schema, turning a refusal into one line (``data.num_frames='abc': expected an
integer >= 1``). ``store`` seeds Hydra with the schemas' defaults. ``validate`` holds each
entry point's ``validate_<entry>``: the schemas, then what no schema can know (a timm name,
a checkpoint's model family, files on disk, a split that needs the directory listing).
"""

from deepdance.config.base import Schema, parse
from deepdance.config.commands import (
    EvalCommand,
    ExtractFeaturesCommand,
    GenerateCommand,
    PredictCommand,
    ScanCommand,
    ScoreGenerationCommand,
    TrainCommand,
)
from deepdance.config.data import (
    DEFAULT_FPS,
    GENRE_DATA,
    SAMPLINGS,
    SILHOUETTE_DATA,
    FeaturesConfig,
    GenreDataConfig,
    SilhouetteDataConfig,
    SilhouetteSyntheticConfig,
)
from deepdance.config.model import (
    AUTOENCODER,
    CLASSIFIER,
    LATENT_LSTM,
    AutoencoderConfig,
    AutoencoderNetConfig,
    BackboneConfig,
    ClassifierConfig,
    HeadConfig,
    LatentLSTMConfig,
    LatentNetConfig,
    OptimizerConfig,
)
from deepdance.config.trainer import TrainerConfig

__all__ = [
    "AUTOENCODER",
    "CLASSIFIER",
    "DEFAULT_FPS",
    "GENRE_DATA",
    "LATENT_LSTM",
    "SAMPLINGS",
    "SILHOUETTE_DATA",
    "AutoencoderConfig",
    "AutoencoderNetConfig",
    "BackboneConfig",
    "ClassifierConfig",
    "EvalCommand",
    "ExtractFeaturesCommand",
    "FeaturesConfig",
    "GenerateCommand",
    "GenreDataConfig",
    "HeadConfig",
    "LatentLSTMConfig",
    "LatentNetConfig",
    "OptimizerConfig",
    "PredictCommand",
    "ScanCommand",
    "Schema",
    "ScoreGenerationCommand",
    "SilhouetteDataConfig",
    "SilhouetteSyntheticConfig",
    "TrainCommand",
    "TrainerConfig",
    "parse",
]
