"""The data and the checkpoint walk one way: a run builds its manifest once (its start-up check
and its datamodule share it), and a command reads its checkpoint as few times as Lightning allows.

The runs read the tiny synthetic set as real videos (``data.synthetic=null``), so the start-up
check lists and splits them from their names as it does for AIST++."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch

from deepdance.config.data import GenreDataConfig
from deepdance.data.aist import names
from deepdance.data.genre.manifest import build_manifest, one_manifest_per_run
from tests.helpers.runs import (
    compose_config,
    run_eval,
    run_generate,
    run_predict,
    small_run,
    train_in_process,
)

ONE_BATCH = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=1",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "data.features.use=false",
    "data.synthetic=null",
]


@pytest.fixture
def manifests_built(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """How many times the video names were listed and parsed into a manifest."""
    built: Counter = Counter()
    parse = names.build_manifest

    def counting(videos):  # noqa: ANN001, ANN202
        built["manifest"] += 1
        return parse(videos)

    monkeypatch.setattr(names, "build_manifest", counting)
    return built


@pytest.fixture
def checkpoint_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter]:
    """``torch.load`` calls by the resolved path of the file read (Lightning passes an open file)."""
    reads: Counter = Counter()
    load = torch.load

    def counting(source, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        path = source if isinstance(source, (str, Path)) else getattr(source, "path", None) or source.name
        reads[str(Path(path).resolve())] += 1
        return load(source, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting)
    yield reads


@pytest.fixture(scope="module")
def first_run(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("first_run")
    train_in_process(small_run(tiny_synthetic, f"hydra.run.dir={run_dir}", *ONE_BATCH))
    return run_dir


def test_the_manifest_is_built_once_per_run(
    tiny_synthetic: Path, tmp_path: Path, manifests_built: Counter
) -> None:
    # before this change: twice (the start-up check's throwaway datamodule, then the run's)
    train_in_process(small_run(tiny_synthetic, f"hydra.run.dir={tmp_path}", *ONE_BATCH))
    assert manifests_built["manifest"] == 1
    saved = pd.read_csv(tmp_path / "manifest.csv", dtype={"dancer": str})
    assert len(saved) == 30 and set(saved["split"]) == {"train", "val", "test"}


def test_within_a_run_equal_settings_share_one_manifest(
    tiny_synthetic: Path, manifests_built: Counter
) -> None:
    settings = GenreDataConfig(root=str(tiny_synthetic))
    with one_manifest_per_run():
        first, again = build_manifest(settings), build_manifest(settings)
        # a setting outside the manifest's keys shares it; the split seed does not
        assert build_manifest(settings.model_copy(update={"num_frames": 3})) is not first
        other_seed = build_manifest(settings.model_copy(update={"seed": 1}))
    assert manifests_built["manifest"] == 2
    pd.testing.assert_frame_equal(first, again)
    # a copy each: a caller that adds columns (probing) changes nobody else's
    first["frames"] = 1
    assert "frames" not in build_manifest(settings) and manifests_built["manifest"] == 3
    assert not other_seed["split"].equals(again["split"])


def test_resuming_reads_the_checkpoint_once_and_hands_it_to_lightning(
    first_run: Path, tiny_synthetic: Path, tmp_path: Path, checkpoint_reads: Counter
) -> None:
    last = (first_run / "checkpoints" / "last.ckpt").resolve()
    steps_before = torch.load(last, weights_only=True)["global_step"]
    checkpoint_reads.clear()
    overrides = [o.replace("max_epochs=1", "max_epochs=2") for o in ONE_BATCH]
    _, objects = train_in_process(
        small_run(tiny_synthetic, f"hydra.run.dir={tmp_path}", *overrides, f"ckpt_path={last}")
    )
    # before: 4 (the start-up check, the run's class check, its step count, Lightning's fit); now
    # one, shared by the start-up check and the run, whose dict fit restores
    assert checkpoint_reads[str(last)] == 1, checkpoint_reads
    # resumed, not trained from scratch: one more epoch of one batch
    assert objects["trainer"].global_step == steps_before + 1
    assert json.loads((tmp_path / "summary.json").read_text())["resumed_from"] == str(last)


def test_eval_and_predict_read_their_checkpoint_once(
    first_run: Path, tmp_path: Path, checkpoint_reads: Counter, manifests_built: Counter
) -> None:
    best = str(Path(json.loads((first_run / "summary.json").read_text())["best_ckpt"]).resolve())
    checkpoint_reads.clear()
    run_eval(
        compose_config("eval", [f"ckpt_path={best}", "trainer.accelerator=cpu", f"hydra.run.dir={tmp_path}"])
    )
    # the start-up check and the module share one read (before: two)
    assert checkpoint_reads[best] == 1
    # and the start-up check's manifest is the datamodule's (before: two)
    assert manifests_built["manifest"] == 1
    checkpoint_reads.clear()
    clip = pd.read_csv(first_run / "manifest.csv")["path"][0]
    run_predict(
        compose_config(
            "predict", [f"ckpt_path={best}", f"video={clip}", f"hydra.run.dir={tmp_path / 'predict'}"]
        )
    )
    # before: 3 (the start-up check, the metadata again, Lightning's load)
    assert checkpoint_reads[best] == 1


def test_generate_reads_its_checkpoint_once(tmp_path: Path, checkpoint_reads: Counter) -> None:
    from deepdance.config.pose_motion import POSE_LSTM
    from tests.helpers.models import fit_tiny_pose_lstm, save_like_train
    from tests.helpers.poses import write_dance_folder

    root = write_dance_folder(tmp_path / "dances", ("BR", "PO"), dancers_per_genre=2, frames=60)
    model, data = fit_tiny_pose_lstm(root, 6, 30, None)
    ckpt = str(save_like_train(model, tmp_path / "pose_dance.ckpt", POSE_LSTM, data).resolve())
    checkpoint_reads.clear()
    out = tmp_path / "generated" / "dance.mp4"
    overrides = [
        f"ckpt_path={ckpt}",
        f"out={out}",
        "steps=3",
        "seed=random",
        f"hydra.run.dir={tmp_path / 'run'}",
    ]
    run_generate(compose_config("generate", overrides))
    assert out.is_file()
    # the start-up check (its model family) and the model share one read
    assert checkpoint_reads[ckpt] == 1, checkpoint_reads
