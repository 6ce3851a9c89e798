"""The schemas' defaults as Hydra's base configs: conf/ yaml files inherit them through their
defaults list (``- genre_schema``) and set only what differs, so each default is written once,
in the schema, and ``data.fps=5`` still needs no ``+``. Hydra's plugin scan runs
``register_schemas`` before any config is composed (``hydra_plugins/deepdance_schemas``)."""

from __future__ import annotations

import dataclasses

from hydra.core.config_store import ConfigStore

from deepdance.config import commands, data, model, pose_data, pose_model, pose_motion
from deepdance.config.pose import PoseConfig

SCHEMAS = {
    "data/genre_schema": data.GenreDataConfig,
    "data/silhouette_schema": data.SilhouetteDataConfig,
    "data/pose_schema": pose_data.PoseDataConfig,
    "model/classifier_schema": model.ClassifierConfig,
    "model/autoencoder_schema": model.AutoencoderConfig,
    "model/latent_lstm_schema": model.LatentLSTMConfig,
    "model/pose_classifier_schema": pose_model.PoseClassifierConfig,
    "data/pose_motion_schema": pose_motion.PoseMotionConfig,
    "model/pose_lstm_schema": pose_motion.PoseLSTMConfig,
    "train_schema": commands.TrainCommand,
    "eval_schema": commands.EvalCommand,
    "predict_schema": commands.PredictCommand,
    "generate_schema": commands.GenerateCommand,
    "score_generation_schema": commands.ScoreGenerationCommand,
    "extract_features_schema": commands.ExtractFeaturesCommand,
    "scan_schema": commands.ScanCommand,
    "silhouettes_schema": commands.SilhouettesCommand,
    "extract_poses_schema": commands.ExtractPosesCommand,
    "score_poses_schema": commands.ScorePosesCommand,
    # the pose front end's settings (conf/pose/*.yaml)
    "pose/pose_schema": PoseConfig,
}


def register_schemas() -> None:
    """Idempotent; registers every schema node and the genre generator's settings."""
    from deepdance.data.synthetic.settings import SyntheticConfig

    store = ConfigStore.instance()
    for path, schema in SCHEMAS.items():
        group, _, name = path.rpartition("/")
        store.store(name=name, node=schema.defaults(), group=group or None)
    # the genre generator's settings (data=synthetic: data.synthetic.<key>=... needs no +)
    store.store(name="synthetic_generator", node=dataclasses.asdict(SyntheticConfig()), group="data")
