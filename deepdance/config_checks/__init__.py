"""Start-up checks of every entry point's settings, run before anything heavy.

A wrong value should cost one line and no time: it is named here, with what would be
accepted, before a video is opened, a dataset generated or a model built. Each entry point
calls its ``validate_<entry>(cfg)`` first thing inside ``task_wrapper``, which prints a
``DeepdanceError`` as ``error: ...`` with exit code 2. Values are read one key at a time
(resolving only that key), so the checks also run on a config from Hydra's compose API.

Hydra itself already refuses a misspelled key without ``+`` (struct mode) and an unknown
group option; a key added with ``+`` is caught here against the signature of the class the
group builds.

One module per job: ``values`` reads one setting (type, range, path, known keys); ``data``,
``model``, ``trainer`` and ``checkpoints`` check one topic each; ``train_commands``,
``checkpoint_commands`` and ``tool_commands`` hold the ``validate_<entry>`` of each command.
Every name is re-exported here, so callers import from ``deepdance.config_checks``.
"""

from deepdance.config_checks.checkpoint_commands import (
    data_config,
    validate_eval,
    validate_generate,
    validate_predict,
    validate_score_generation,
)
from deepdance.config_checks.checkpoints import check_ckpt, check_family
from deepdance.config_checks.data import (
    GENRE_DATA,
    SILHOUETTE_DATA,
    check_augmentation,
    check_data,
    check_genre_data,
    check_silhouette_data,
    check_split_from_names,
)
from deepdance.config_checks.model import (
    AUTOENCODER,
    CLASSIFIER,
    LATENT_LSTM,
    check_classifier,
    check_condition,
    check_model,
    check_rollout_training,
)
from deepdance.config_checks.tool_commands import validate_download_args, validate_scan
from deepdance.config_checks.train_commands import validate_extract_features, validate_stages, validate_train
from deepdance.config_checks.trainer import ACCELERATORS, PRECISIONS, check_seed, check_trainer
from deepdance.config_checks.values import (
    HYDRA_KEYS,
    boolean,
    choice,
    existing_path,
    int_list,
    integer,
    known_keys,
    number,
    setting,
    signature_keys,
    text,
    wrapped,
)

__all__ = [
    "ACCELERATORS",
    "AUTOENCODER",
    "CLASSIFIER",
    "GENRE_DATA",
    "HYDRA_KEYS",
    "LATENT_LSTM",
    "PRECISIONS",
    "SILHOUETTE_DATA",
    "boolean",
    "check_augmentation",
    "check_ckpt",
    "check_classifier",
    "check_condition",
    "check_data",
    "check_family",
    "check_genre_data",
    "check_model",
    "check_rollout_training",
    "check_seed",
    "check_silhouette_data",
    "check_split_from_names",
    "check_trainer",
    "choice",
    "data_config",
    "existing_path",
    "int_list",
    "integer",
    "known_keys",
    "number",
    "setting",
    "signature_keys",
    "text",
    "validate_download_args",
    "validate_eval",
    "validate_extract_features",
    "validate_generate",
    "validate_predict",
    "validate_scan",
    "validate_score_generation",
    "validate_stages",
    "validate_train",
    "wrapped",
]
