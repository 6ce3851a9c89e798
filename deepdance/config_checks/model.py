"""Checks of the ``model`` group: the classifier's backbone and head, the autoencoder, the LSTM."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from omegaconf import DictConfig, OmegaConf

from deepdance.config_checks.checkpoints import check_family
from deepdance.config_checks.values import (
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
)
from deepdance.errors import DeepdanceError
from deepdance.models.registry import GENRE_CLASSIFIER, SILHOUETTE_AE
from deepdance.models.registry import LATENT_LSTM as LSTM_FAMILY

# The model families' class paths, from the one registry.
CLASSIFIER = GENRE_CLASSIFIER.target
AUTOENCODER = SILHOUETTE_AE.target
LATENT_LSTM = LSTM_FAMILY.target


def check_model(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> None:
    """``model``: the group's keys, types and ranges; a backbone name timm knows (not built)."""
    target = text(cfg, "model._target_")
    keys, owner = signature_keys(target)
    known_keys(cfg, "model", keys, owner)
    number(cfg, "model.optimizer.lr", low=0, low_open=True)
    if OmegaConf.select(cfg, "model.optimizer.weight_decay") is not None:
        number(cfg, "model.optimizer.weight_decay", low=0)
    if target == CLASSIFIER:
        check_classifier(cfg)
    elif target == AUTOENCODER:
        choice(cfg, "model.loss", ("bce", "mse"), default="bce")
        for key in ("height", "width", "latent_dim", "channels", "hidden", "pools"):
            integer(cfg, f"model.net.{key}", low=1)
    elif target == LATENT_LSTM:
        integer(cfg, "model.look_back", low=2)
        int_list(cfg, "model.net.hidden_sizes")
        number(cfg, "model.net.dropout", low=0, high=1, high_open=True, default=0.0)
        number(cfg, "model.ridge_alpha", low=0)
        int_list(cfg, "model.rollout_horizons")
        check_condition(cfg)
        check_rollout_training(cfg)
        if "model.autoencoder_ckpt" not in allow_missing:
            path = existing_path(
                cfg,
                "model.autoencoder_ckpt",
                kind="file",
                hint="the best checkpoint of experiment=deep_dance_ae",
            )
            check_family(path, "autoencoder_ckpt", "model.autoencoder_ckpt")


def check_condition(cfg: DictConfig) -> None:
    """``model.condition``: null, or genre on videos whose AIST++ names give each one's genre."""
    condition = choice(cfg, "model.condition", ("genre",), optional=True, default=None)
    integer(cfg, "model.genre_dim", low=1, default=8)
    if condition == "genre" and setting(cfg, "data.root", default=None) is None:
        raise DeepdanceError(
            "model.condition=genre needs data.root=<folder of AIST++-named silhouette videos> (each "
            "video's genre is read from its name; e.g. the labelled dancers: python -m "
            "deepdance.make_synthetic --silhouette); the embedded dance has no genre labels"
        )


def check_rollout_training(cfg: DictConfig) -> None:
    """The LSTM's remedies against freezing: head, rollout loss (its windows), noise."""
    choice(cfg, "model.head", ("point", "mdn"), default="point")
    integer(cfg, "model.mixtures", low=1, default=5)
    steps = integer(cfg, "model.rollout_loss_steps", low=1, default=1)
    number(cfg, "model.scheduled_sampling", low=0, high=1, default=0.0)
    number(cfg, "model.input_noise", low=0, default=0.0)
    number(cfg, "model.context_dropout", low=0, high=1, default=0.0)
    targets = setting(cfg, "data.target_frames", default=1)
    if targets != steps:
        raise DeepdanceError(
            f"data.target_frames={targets} must equal model.rollout_loss_steps={steps} (each training "
            "window holds that many targets; experiment=deep_dance_lstm sets it from the model)"
        )


def check_classifier(cfg: DictConfig) -> None:
    """Check the classifier settings (backbone, sizes, head) before any weights are built."""
    import timm

    from deepdance.data.genre.datamodule import check_genres
    from deepdance.models.backbones import _MIN_SIZE, create_backbone
    from deepdance.models.sequence_heads import GRUHead

    backbone_keys = set(inspect.signature(create_backbone).parameters) - {"in_chans"}
    known_keys(cfg, "model.backbone", backbone_keys, "model.backbone")
    name = text(cfg, "model.backbone.name")
    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('_')[0]}*")[:6]
        raise DeepdanceError(
            f"model.backbone.name={name!r}: not a timm model; similar: {', '.join(close) or 'none'} "
            "(see timm.list_models())"
        )
    boolean(cfg, "model.backbone.pretrained", default=False)
    existing_path(
        cfg,
        "model.backbone.weights",
        kind="file",
        optional=True,
        default=None,
        hint=f"a .safetensors or .pth state dict of {name}",
    )
    freeze = boolean(cfg, "model.backbone.freeze", default=False)
    number(cfg, "model.backbone.drop_rate", low=0, high=1, high_open=True, default=0.0)
    head_keys = set(inspect.signature(GRUHead).parameters) - {"in_features", "num_classes"}
    known_keys(cfg, "model.head", head_keys, "GRUHead")
    int_list(cfg, "model.head.gru_sizes")
    integer(cfg, "model.head.dense", low=1, default=8)
    number(cfg, "model.head.dropout", low=0, high=1, high_open=True, default=0.4)
    boolean(cfg, "model.head.input_norm", default=True)
    frame_diff = boolean(cfg, "model.frame_diff", default=False)
    boolean(cfg, "model.channels_last", default=True)
    boolean(cfg, "model.compile", default=False)
    check_genres(setting(cfg, "model.class_names", default=None))
    if frame_diff and freeze:
        raise DeepdanceError(
            "model.frame_diff=true feeds 6-channel frames the backbone must learn from: "
            "expected model.backbone.freeze=false"
        )
    minimum = _MIN_SIZE.get(name.split(".")[0], 16)
    img_size = integer(cfg, "model.img_size", low=1, optional=True, default=None)
    if img_size is not None and img_size < minimum:
        raise DeepdanceError(
            f"data.img_size={img_size}: expected an integer >= {minimum} ({name}'s smallest input)"
        )
