"""The typed schemas (deepdance/config/): each default written once, every shipped option
valid, old checkpoints' settings still read, and a refusal that names the key and what fits."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import OmegaConf

from deepdance.config.base import parse
from deepdance.config.data import DEFAULT_FPS, GenreDataConfig, SilhouetteDataConfig
from deepdance.config.store import SCHEMAS
from deepdance.config.validate import DATA, MODELS, schema_of
from deepdance.data.silhouette import SilhouetteDataModule, SilhouetteSettings
from deepdance.errors import DeepdanceError
from tests.helpers.runs import REPO

CONF = REPO / "conf"
LEGACY = REPO / "tests" / "data" / "legacy"


@pytest.fixture(scope="module")
def hydra_conf() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _seeded_files() -> list[tuple[Path, dict[str, Any]]]:
    """Every conf/ file that inherits a schema node, with that node's defaults."""
    out = []
    for path in sorted(CONF.rglob("*.yaml")):
        names = [d for d in OmegaConf.load(path).get("defaults", []) if isinstance(d, str)]
        group = path.parent.relative_to(CONF).as_posix()
        for name in names:
            key = f"{group}/{name}" if group != "." else name
            if key in SCHEMAS:
                out.append((path, SCHEMAS[key].defaults()))
            elif name == "genre_base":
                out.append((path, SCHEMAS["data/genre_schema"].defaults()))
    return out


def _restated(values: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        if key == "defaults" or key not in defaults:
            continue
        if isinstance(value, dict) and isinstance(defaults[key], dict):
            found += _restated(value, defaults[key], f"{prefix}{key}.")
        elif value == defaults[key]:
            found.append(f"{prefix}{key}={value!r}")
    return found


def test_no_conf_file_restates_a_schema_default() -> None:
    files = _seeded_files()
    # the data, model and command files all inherit their schema
    assert len(files) >= 15
    restated = {
        str(path.relative_to(CONF)): keys
        for path, defaults in files
        if (keys := _restated(OmegaConf.to_container(OmegaConf.load(path)), defaults))
    }
    assert restated == {}


@pytest.mark.parametrize(
    "overrides",
    [
        # inception_v3 (genre_gru) takes frames of 75 pixels or more
        [f"data={data}", f"model={model}", *(["data.img_size=299"] if model == "genre_gru" else [])]
        for data in ("synthetic", "aist", "silhouette_genre")
        for model in ("genre_small", "genre_gru")
    ]
    + [[f"experiment={e}"] for e in ("deep_dance_ae", "silhouette_genre")]
    + [
        [f"experiment={e}", "model.autoencoder_ckpt=ae.ckpt"] for e in ("deep_dance_lstm", "deep_dance_clips")
    ],
)
def test_every_shipped_option_reads_into_its_schema(overrides: list[str], hydra_conf: None) -> None:
    cfg = compose("train", overrides=[*overrides, "paths.root_dir=/tmp", "paths.data_dir=/tmp/d"])
    data = parse(schema_of(cfg.data, "data", DATA), cfg.data, "data")
    model = parse(schema_of(cfg.model, "model", MODELS), cfg.model, "model")
    # the yaml's own values arrive typed, the rest are the schema's
    assert data.model_dump(by_alias=True)["_target_"] == cfg.data._target_
    assert model.model_dump(by_alias=True)["_target_"] == cfg.model._target_


def test_a_seeded_key_needs_no_plus_and_an_unknown_one_is_named(hydra_conf: None) -> None:
    cfg = compose("train", overrides=["experiment=deep_dance_ae", "data.fps=5", "data.phases=2"])
    assert parse(SilhouetteDataConfig, cfg.data, "data").fps == 5.0
    with pytest.raises(HydraException):
        compose("train", overrides=["experiment=deep_dance_ae", "data.fpss=5"])
    cfg = compose("train", overrides=["experiment=deep_dance_ae", "+data.fpss=5"])
    with pytest.raises(
        DeepdanceError, match=r"^data.fpss: not a setting of SilhouetteDataModule; known: .*fps"
    ):
        parse(SilhouetteDataConfig, cfg.data, "data")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"num_frames": 0}, "data.num_frames=0: expected an integer >= 1"),
        ({"num_frames": 2.0}, "data.num_frames=2.0: expected an integer >= 1"),
        ({"train_jitter": "false"}, "data.train_jitter='false': expected true or false"),
        ({"fold": -1}, "data.fold=-1: expected an integer >= 0 or null"),
        ({"split": "files"}, None),
        ({"fold": 0, "split": "random"}, "data.fold=0: expected null with data.split=random"),
        ({"fold": 0, "test_dancers": 2}, "data.fold=0: expected data.val_dancers=1 and data.test_dancers=1"),
        ({"fold": 3, "synthetic": {"dancers_per_genre": 3}}, "data.fold=3: expected 0 <= fold < 3"),
        ({"features": {"clips": 0}}, "data.features.clips=0: expected an integer >= 1"),
        ({"synthetic": {"dancers": 3}}, "data.synthetic: dancers: not a setting; known: seed"),
    ],
)
def test_a_refusal_names_the_key_and_what_would_be_accepted(settings: dict, message: str | None) -> None:
    values = {"root": "videos", **settings}
    if message is None:
        assert parse(GenreDataConfig, values, "data").split == "files"
        return
    with pytest.raises(DeepdanceError) as err:
        parse(GenreDataConfig, values, "data")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_old_checkpoints_data_settings_still_read() -> None:
    for name, schema in (
        ("genre_classifier_87ec936.ckpt", GenreDataConfig),
        ("latent_lstm_87ec936.ckpt", SilhouetteDataConfig),
    ):
        stored = torch.load(LEGACY / name, map_location="cpu", weights_only=True)["deepdance"]["data"]
        dumped = parse(schema, stored, "data").model_dump(by_alias=True)
        assert _within(stored, dumped), name


def _within(stored: Any, dumped: Any) -> bool:
    """Every stored setting reads back as it was (the schema may add newer ones)."""
    if isinstance(stored, dict):
        return all(key == "_target_" or _within(value, dumped[key]) for key, value in stored.items())
    return stored == dumped


def test_the_silhouette_datamodule_takes_its_typed_config_and_the_frame_rate_is_defined_once(
    tmp_path: Path,
) -> None:
    assert list(inspect.signature(SilhouetteDataModule).parameters) == ["config"]
    datamodule = SilhouetteDataModule.from_config({"cache_dir": str(tmp_path), "height": 24, "width": 40})
    assert datamodule.config.fps == datamodule.settings.fps == DEFAULT_FPS
    assert SilhouetteSettings.from_config({}).fps == DEFAULT_FPS
    assert datamodule.hparams.batch_size == SilhouetteDataConfig().batch_size
