"""Per-frame CNN backbones from timm's factory, with honest pretrained-weight loading.

Weights come from timm's hub entry or a local file. Offline with neither, we stop at once
with a message saying how to supply them: never a long retry loop and never a silent
fall-back to random weights (random InceptionV3 features are useless, ~1e9 in eval mode).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import timm
from torch import nn

from deepdance.config.model import min_input_size, timm_model_name
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackboneSpec:
    """What a frame needs to look like for this backbone: travels with the model."""

    num_features: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    min_size: int


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def _weights_cached(model: str) -> bool:
    """True if timm's hub weights for ``model`` are already in the local HF cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        cfg = timm.models.get_pretrained_cfg(model)
        hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
        if not hub_id:
            return False
        return any(
            isinstance(try_to_load_from_cache(hub_id, f), str)
            for f in ("model.safetensors", "pytorch_model.bin")
        )
    except Exception:
        return False


def create_backbone(
    name: str = "inception_v3",
    pretrained: bool = True,
    weights: str | None = None,
    freeze: bool = False,
    drop_rate: float = 0.0,
    in_chans: int = 3,
) -> nn.Module:
    """A timm model with its classifier removed: ``(N, in_chans, H, W) -> (N, num_features)``."""
    try:
        timm_model_name(name)
    except ValueError as err:
        raise DeepdanceError(f"model.backbone.name={name!r}: {err}") from None
    kwargs: dict = {"num_classes": 0, "drop_rate": drop_rate, "in_chans": in_chans}
    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise DeepdanceError(
                f"model.backbone.weights={weights}: no such file (expected a .safetensors or .pth state "
                f"dict for {name})"
            )
        kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    elif pretrained:
        if not _weights_cached(name) and not _hub_reachable():
            raise DeepdanceError(
                f"pretrained weights for {name} are not cached and the Hugging Face hub is "
                f"unreachable (offline); pass model.backbone.weights=/path/to/{name}.safetensors, or "
                "model.backbone.pretrained=false for random weights"
            )
        kwargs["pretrained"] = True
    try:
        model = timm.create_model(name, **kwargs)
    except (OSError, RuntimeError, ValueError) as err:
        where = f"file {weights}" if weights else "the Hugging Face hub"
        raise DeepdanceError(
            f"could not load {name} weights from {where}: {str(err).splitlines()[0][:200]}"
        ) from None
    if freeze:
        model.eval()
        model.requires_grad_(False)
    log.info(
        "backbone %s: %.1f M parameters, %s weights%s",
        name,
        sum(p.numel() for p in model.parameters()) / 1e6,
        "local" if weights else "hub" if pretrained else "random",
        ", frozen" if freeze else "",
    )
    return model


def backbone_spec(model: nn.Module, name: str) -> BackboneSpec:
    """The backbone's feature width and the normalisation it was trained with (timm's data config)."""
    config = timm.data.resolve_model_data_config(model)
    return BackboneSpec(
        # With num_classes=0 timm returns pre-logits, wider than num_features for some
        # families (MobileNetV3, LCNet add a 1x1 conv head): head_hidden_size is that width.
        num_features=int(getattr(model, "head_hidden_size", None) or model.num_features),
        mean=tuple(float(m) for m in config["mean"]),
        std=tuple(float(s) for s in config["std"]),
        min_size=min_input_size(name),
    )
