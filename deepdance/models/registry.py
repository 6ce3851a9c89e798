"""The model families deepdance trains, in one table: what each is for, its class, how to load it.

eval, predict, generate, train and the start-up checks (``deepdance.config.validate``) all ask
this table which family a checkpoint holds (by its stored ``model_target``) and whether the
command takes it; ``load_model`` reads a checkpoint once and builds its module. It imports no
model code: a class is imported only when a checkpoint is loaded. ``deepdance.utils`` reads
checkpoints as data and knows no model: model-family loading lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepdance.errors import DeepdanceError

if TYPE_CHECKING:
    import pytorch_lightning as pl


@dataclass(frozen=True)
class ModelFamily:
    """One family: its LightningModule, a friendly name, the commands that take its checkpoints,
    and the report callbacks ``deepdance.eval`` adds to its test run."""

    name: str
    target: str
    description: str
    # What errors call it ("a genre classifier checkpoint").
    short: str
    commands: tuple[str, ...]
    reports: tuple[str, ...] = ()
    # How a user makes a checkpoint of it: named in errors.
    hint: str = ""
    # A generator's: the family whose checkpoints grade its dances (score_generation's recognizer_ckpt).
    recognizer: str = ""

    def model_class(self) -> type[pl.LightningModule]:
        import hydra

        return hydra.utils.get_class(self.target)

    def load(self, path: str | Path, device: Any = "cpu") -> pl.LightningModule:
        """The module from its checkpoint file alone, in eval mode: plain data only (``weights_only``)."""
        from deepdance.utils.checkpoints import load_checkpoint

        return self.from_checkpoint(load_checkpoint(path), device)

    def from_checkpoint(self, checkpoint: dict[str, Any], device: Any = "cpu") -> pl.LightningModule:
        """The module from a checkpoint already read (``load_checkpoint``), in eval mode: its
        stored hyper-parameters (of any deepdance version) through its typed config, then its weights."""
        model = self.model_class().from_hparams(checkpoint.get("hyper_parameters", {}), from_checkpoint=True)
        model.on_load_checkpoint(checkpoint)
        model.load_state_dict(checkpoint["state_dict"])
        return model.to(device).eval()

    def report_callbacks(self) -> list[Any]:
        """Fresh instances of this family's report callbacks (default settings)."""
        import hydra

        return [hydra.utils.get_class(target)() for target in self.reports]


GENRE_CLASSIFIER = ModelFamily(
    name="genre_classifier",
    short="genre classifier",
    target="deepdance.models.genre_module.GenreClassifier",
    description="genre classifier",
    # recognizer_ckpt: the recognizer that grades generated dances (deepdance.score_generation)
    commands=("train", "eval", "predict", "recognizer_ckpt"),
    reports=("deepdance.callbacks.ConfusionMatrixReport",),
    hint="train one with experiment=genre_small, genre_gru or silhouette_genre",
)
SILHOUETTE_AE = ModelFamily(
    name="silhouette_ae",
    short="silhouette autoencoder",
    target="deepdance.models.autoencoder_module.SilhouetteAEModule",
    description="Deep-Dance silhouette autoencoder (generator family)",
    commands=("train", "eval", "autoencoder_ckpt"),
    reports=("deepdance.callbacks.FrameStrips",),
    hint="use the best_ckpt of experiment=deep_dance_ae",
)
LATENT_LSTM = ModelFamily(
    name="latent_lstm",
    short="latent LSTM",
    target="deepdance.models.latent_lstm_module.LatentLSTMModule",
    description="Deep-Dance latent LSTM (generator family)",
    commands=("train", "eval", "generate", "score_generation"),
    hint="use the best_ckpt of experiment=deep_dance or deep_dance_lstm",
    recognizer="genre_classifier",
)
POSE_CLASSIFIER = ModelFamily(
    name="pose_classifier",
    short="skeleton genre classifier",
    target="deepdance.models.pose_module.PoseClassifier",
    description="skeleton genre classifier",
    # recognizer_ckpt: grades a pose generator's dances (deepdance.score_generation)
    commands=("train", "eval", "predict", "recognizer_ckpt"),
    reports=("deepdance.callbacks.ConfusionMatrixReport",),
    hint="train one with experiment=pose_gru",
)
POSE_LSTM = ModelFamily(
    name="pose_lstm",
    short="pose-space dance generator",
    target="deepdance.models.pose_lstm_module.PoseLSTMModule",
    description="pose-space dance generator (latent LSTM over keypoints)",
    commands=("train", "eval", "generate", "score_generation"),
    hint="use the best_ckpt of experiment=pose_dance",
    recognizer="pose_classifier",
)
FAMILIES: dict[str, ModelFamily] = {
    f.name: f for f in (GENRE_CLASSIFIER, SILHOUETTE_AE, LATENT_LSTM, POSE_CLASSIFIER, POSE_LSTM)
}
# Friendly names by class path (what checkpoints store as ``model_target``).
MODEL_FAMILIES: dict[str, str] = {f.target: f.description for f in FAMILIES.values()}


def family_of(target: str) -> ModelFamily | None:
    """The family whose class path is ``target``, or None (not a deepdance model)."""
    return next((f for f in FAMILIES.values() if f.target == target), None)


def families_for(command: str) -> tuple[ModelFamily, ...]:
    """The families whose checkpoints ``command`` takes (e.g. ``eval``, ``predict``, ``generate``)."""
    return tuple(f for f in FAMILIES.values() if command in f.commands)


def describe_model(target: str) -> str:
    """``target (friendly name)`` for messages; a class path of no family is shown as it is."""
    family = family_of(target)
    name = family.description if family else None
    if name is None and any(part in target for part in (".autoencoder", ".latent_lstm", ".dance_generator")):
        name = "Deep-Dance generator family"
    return f"{target} ({name})" if name else target


def require_family(
    metadata: dict[str, Any], command: str, path: str | Path, key: str = "ckpt_path"
) -> ModelFamily:
    """The family of a checkpoint's stored metadata, refused in one line when ``command`` does not take it."""
    found = str(metadata.get("model_target") or "")
    family = family_of(found)
    wanted = families_for(command)
    if family is None or family not in wanted:
        names = " or ".join(f.short for f in wanted)
        held = describe_model(found) if found else "non-deepdance"
        hint = "; " + wanted[0].hint if len(wanted) == 1 and wanted[0].hint else ""
        raise DeepdanceError(f"{key}={path} holds a {held} checkpoint, not a {names} checkpoint{hint}")
    return family


def load_model(
    path: str | Path, command: str, device: Any = "cpu", setting: str = "ckpt_path"
) -> tuple[Any, dict[str, Any], ModelFamily]:
    """A checkpoint's module (eval mode on ``device``), its stored metadata and its family, from
    one read of the file; refused in one line when ``command`` does not take that family."""
    from deepdance.utils.checkpoints import load_checkpoint, require_metadata

    checkpoint = load_checkpoint(path, setting)
    metadata = require_metadata(checkpoint, path, setting)
    family = require_family(metadata, command, path, setting)
    return family.from_checkpoint(checkpoint, device), metadata, family


def check_model_target(
    metadata: dict[str, Any], expected: str, path: str | Path, setting: str = "ckpt_path"
) -> None:
    """Refuse a checkpoint of another model class, in one line saying both."""
    found = metadata.get("model_target")
    if found != expected:
        raise DeepdanceError(
            f"{setting}={path} holds a {describe_model(str(found))} checkpoint, but this run's model is "
            f"{describe_model(expected)}; pass a checkpoint trained with model._target_={expected}"
        )


def check_data_target(
    metadata: dict[str, Any], data_target: str | None, path: str | Path, setting: str = "ckpt_path"
) -> None:
    """Refuse evaluating a checkpoint on a datamodule of another kind (e.g. a generator on genre videos)."""
    stored = (metadata.get("data") or {}).get("_target_")
    if stored and data_target and stored != data_target:
        raise DeepdanceError(
            f"{setting}={path} is a {describe_model(str(metadata.get('model_target')))} checkpoint trained "
            f"on {stored}, "
            f"but the data config builds {data_target}; drop the data=... override (data.* settings may "
            "still be changed)"
        )


def build_model(model_cfg: Any) -> pl.LightningModule:
    """A fresh module from a composed ``model`` node: its family's class, given its typed config."""
    target = str(model_cfg.get("_target_") or "")
    family = family_of(target)
    if family is None:
        known = ", ".join(f.target for f in FAMILIES.values())
        raise DeepdanceError(f"model._target_={target or None}: not a deepdance model; known: {known}")
    return family.model_class().from_hparams(model_cfg)
