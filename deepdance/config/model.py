"""The ``model`` group: the genre classifier (``ClassifierConfig``), the silhouette autoencoder
(``AutoencoderConfig``) and the latent LSTM (``LatentLSTMConfig``). A timm name is checked here,
by timm's own list; files and a checkpoint's family are ``deepdance.config.validate``'s."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from deepdance.config.base import Schema

CLASSIFIER = "deepdance.models.genre_module.GenreClassifier"
AUTOENCODER = "deepdance.models.autoencoder_module.SilhouetteAEModule"
LATENT_LSTM = "deepdance.models.latent_lstm_module.LatentLSTMModule"
Sizes = Annotated[
    list[Annotated[int, Field(ge=1)]],
    Field(min_length=1, description="a non-empty list of integers >= 1"),
]
Dropout = Annotated[float, Field(ge=0, lt=1)]
# the smallest frame side a timm family takes, where above 16 (below it inception's feature map vanishes)
MIN_INPUT_SIZE = {"inception_v3": 75, "inception": 75}


def timm_model_name(name: str) -> str:
    """A name timm can build (the model is not built); a wrong one lists timm's similar names."""
    import timm

    if not timm.is_model(name):
        close = ", ".join(timm.list_models(f"*{name.split('_')[0]}*")[:6]) or "none"
        raise ValueError(f"expected a timm model name (similar: {close})")
    return name


def min_input_size(name: str) -> int:
    """The smallest frame side the backbone ``name`` takes."""
    return MIN_INPUT_SIZE.get(name.split(".")[0], 16)


TimmName = Annotated[str, Field(min_length=1), AfterValidator(timm_model_name)]


class OptimizerConfig(Schema, title="model.optimizer"):
    """A ``torch.optim`` class, built with ``_partial_`` (params come later); other keys pass
    through to it. Dump with ``exclude_unset`` so the class keeps its own defaults."""

    model_config = ConfigDict(extra="allow")
    target: str = Field(alias="_target_", min_length=1)
    partial: bool = Field(True, alias="_partial_")
    lr: float = Field(gt=0)
    weight_decay: float | None = Field(None, ge=0)


class BackboneConfig(Schema, title="model.backbone"):
    """A timm model per frame (deepdance.models.backbones.create_backbone)."""

    name: TimmName = "inception_v3"
    # timm hub weights; offline, give weights=/path/to/file (a .safetensors or .pth state dict)
    pretrained: bool = True
    weights: str | None = None
    # features computed once, only the head trains
    freeze: bool = False
    drop_rate: Dropout = 0.0


class HeadConfig(Schema, title="GRUHead"):
    """The original notebook's head over the frames (deepdance.models.sequence_heads.GRUHead)."""

    gru_sizes: Sizes = [16, 8]
    dense: int = Field(8, ge=1)
    dropout: Dropout = 0.4
    input_norm: bool = True


class ClassifierConfig(Schema, title="GenreClassifier"):
    """Per-frame backbone, then a GRU head over the frames."""

    target: Literal[CLASSIFIER] = Field(CLASSIFIER, alias="_target_")
    backbone: BackboneConfig = BackboneConfig()
    head: HeadConfig = HeadConfig()
    optimizer: OptimizerConfig
    scheduler: dict[str, Any] | None = None
    # the data's frame size (data.img_size), at least the backbone's smallest input
    img_size: int | None = Field(None, ge=1)
    # null = the ten AIST++ genres
    class_names: list[str] | None = None
    channels_last: bool = True
    # torch.compile the backbone (worth it on a GPU; the first epoch pays the compile)
    compile: bool = False
    # 6-channel input: frame + difference from the previous sampled frame
    frame_diff: bool = False

    @field_validator("img_size")
    @classmethod
    def _backbone_takes(cls, size: int | None, info: ValidationInfo) -> int | None:
        backbone = info.data.get("backbone")
        minimum = min_input_size(backbone.name) if backbone is not None else 1
        if size is not None and size < minimum:
            raise ValueError(
                f"expected an integer >= {minimum} ({backbone.name}'s smallest input; set by data.img_size)"
            )
        return size

    @model_validator(mode="after")
    def _trainable(self) -> ClassifierConfig:
        if self.frame_diff and self.backbone.freeze:
            raise ValueError(
                "$frame_diff=true feeds 6-channel frames the backbone must learn from: "
                "expected $backbone.freeze=false"
            )
        return self


class AutoencoderNetConfig(Schema, title="SilhouetteAutoencoder"):
    """8 convs with ``pools`` max-pools, dense ``hidden``, dense ``latent_dim``; the decoder mirrors it."""

    height: int = Field(120, ge=1)
    width: int = Field(200, ge=1)
    latent_dim: int = Field(128, ge=1)
    channels: int = Field(32, ge=1)
    bottleneck_channels: int = Field(8, ge=1)
    decoder_channels: int = Field(4, ge=1)
    hidden: int = Field(512, ge=1)
    pools: int = Field(3, ge=1)
    latent_activation: Literal["linear", "relu"] = "linear"

    @model_validator(mode="after")
    def _divisible(self) -> AutoencoderNetConfig:
        if self.height % 2**self.pools or self.width % 2**self.pools:
            raise ValueError(
                f"data.height x data.width = {self.height}x{self.width}: both must be divisible by "
                f"{2**self.pools} (2^$net.pools)"
            )
        return self


class AutoencoderConfig(Schema, title="SilhouetteAEModule"):
    """The Deep-Dance convolutional autoencoder of silhouette frames; frame size follows the data."""

    target: Literal[AUTOENCODER] = Field(AUTOENCODER, alias="_target_")
    net: AutoencoderNetConfig = AutoencoderNetConfig()
    # bce: sharper edges than MSE on near-binary targets
    loss: Literal["bce", "mse"] = "bce"
    optimizer: OptimizerConfig
    scheduler: dict[str, Any] | None = None


class LatentNetConfig(Schema, title="LatentLSTM"):
    """Stacked LSTMs over the latents (deepdance.models.latent_lstm.LatentLSTM)."""

    hidden_sizes: Sizes = [512, 256, 256]
    dropout: Dropout = 0.2
    residual: bool = True


class LatentLSTMConfig(Schema, title="LatentLSTMModule"):
    """The Deep-Dance latent LSTM: ``look_back`` latents of a trained autoencoder -> the next."""

    target: Literal[LATENT_LSTM] = Field(LATENT_LSTM, alias="_target_")
    # a checkpoint of model=silhouette_ae
    autoencoder_ckpt: str = Field(min_length=1)
    # the extrapolation baseline needs two latents
    look_back: int = Field(10, ge=2)
    net: LatentNetConfig = LatentNetConfig()
    ridge_alpha: float = Field(10.0, ge=0)
    # genre: a learned genre embedding beside every step's latent, read from each video's AIST++
    # name (data.root=<AIST++-named videos>); null: unconditioned
    condition: Literal["genre"] | None = None
    genre_dim: int = Field(8, ge=1)
    rollout_horizons: Sizes = [1, 5, 10, 30]
    # Against rollouts that freeze into a pose, each off by default (the original one-step MSE):
    # point: one latent (MSE) | mdn: a mixture of `mixtures` Gaussians (NLL), sampled in rollouts
    head: Literal["point", "mdn"] = "point"
    mixtures: int = Field(5, ge=1)
    # K: train over K-step rollouts of the LSTM's own predictions (data.target_frames follows)
    rollout_loss_steps: int = Field(1, ge=1)
    # probability of feeding back the true latent instead, per window and step
    scheduled_sampling: float = Field(0.0, ge=0, le=1)
    # acLSTM's auto-conditioning: k > 0 feeds back k own predictions, then k true latents, in turn,
    # over each window's rollout_loss_steps targets (acLSTM: 5)
    auto_condition: int = Field(0, ge=0)
    # std of Gaussian noise on every latent read in training (standardised units)
    input_noise: float = Field(0.0, ge=0)
    # condition=genre: the share of training windows whose context, but for a random suffix,
    # is replaced by prior draws, as in a rollout from random seeds
    context_dropout: float = Field(0.0, ge=0, le=1)
    optimizer: OptimizerConfig
    scheduler: dict[str, Any] | None = None
    # a genre is read from each video's AIST++ name: the embedded dance (data.root=null) has none
    genre_needs_root: ClassVar[bool] = True

    @model_validator(mode="after")
    def _fits_its_data(self, info: ValidationInfo) -> LatentLSTMConfig:
        """Rules on the run's ``data`` group, given as context where a whole run is checked (start-up)."""
        data = (info.context or {}).get("data")
        if data is None:
            return self
        if self.genre_needs_root and self.condition == "genre" and data.get("root") is None:
            raise ValueError(
                "$condition=genre needs data.root=<folder of AIST++-named silhouette videos> (each "
                "video's genre is read from its name); the embedded dance has no genre labels"
            )
        targets = data.get("target_frames", 1)
        if targets != self.rollout_loss_steps:
            raise ValueError(
                f"data.target_frames={targets} must equal $rollout_loss_steps="
                f"{self.rollout_loss_steps} (each training window holds that many targets; "
                "experiment=deep_dance_lstm sets it)"
            )
        return self
