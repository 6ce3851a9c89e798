"""Runs as a user makes them, for the end-to-end tests: one small-run override list, configs
composed with Hydra's compose API, and the task functions run in this process through Hydra's
own ``run_job`` (run dir, ``.hydra/``, ``<task>.log``, HydraConfig) instead of a new Python.

A subprocess (``run_cli``) is kept for what needs a process boundary: exit codes, signals, DDP
and launchers. ``run_train`` is the one place the tests import the train task from."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import run_job
from hydra.types import HydraContext
from omegaconf import DictConfig

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
SHARED_DATA = REPO.parent / "shared" / "data"

# A small synthetic dataset: 10 genres x 3 dancers, one camera, one music, 1 s at 15 fps.
TINY_SYNTHETIC = {
    "seed": 3,
    "dancers_per_genre": 3,
    "cameras": 1,
    "musics": 1,
    "seconds": 1.0,
    "fps": 15,
    "size": 64,
}


def synthetic_override(settings: dict[str, Any] = TINY_SYNTHETIC) -> str:
    """``data.synthetic={...}`` as typed on a command line: the settings the data was made with."""
    return "data.synthetic={" + ",".join(f"{k}:{v}" for k, v in settings.items()) + "}"


def tiny_deep_dance(
    tmp_path: Path, *extra: str, ae: tuple[str, ...] = (), lstm: tuple[str, ...] = ()
) -> list[str]:
    """The one small ``experiment=deep_dance`` override list: a 240-frame synthetic silhouette
    dance at 24x40, 3 fps, one epoch per stage, tiny autoencoder and LSTM; ``ae`` and ``lstm``
    add stage overrides. ``extra`` wins."""
    ae_overrides = ",".join(
        f'"{o}"' for o in ("model.net.channels=4", "model.net.hidden=16", "model.net.latent_dim=8", *ae)
    )
    lstm_overrides = ",".join(f'"{o}"' for o in ("model.net.hidden_sizes=[16]", *lstm))
    return [
        "experiment=deep_dance",
        f"paths.data_dir={tmp_path / 'data'}",
        "data.height=24",
        "data.width=40",
        "data.synthetic.num_frames=240",
        "data.synthetic.height=48",
        "data.synthetic.width=80",
        "data.fps=3",
        "trainer.max_epochs=1",
        "print_config=false",
        "callbacks.rich_progress_bar=null",
        f"stages.ae.overrides=[{ae_overrides}]",
        f"stages.lstm.overrides=[{lstm_overrides}]",
        *extra,
    ]


def small_run(root: Path, *extra: str) -> list[str]:
    """The one small-run override list: the tiny synthetic set at 4 frames of 32 px, a ResNet-10t,
    2 epochs on CPU, no workers, no progress bar, no config print. ``extra`` wins."""
    return [
        f"data.root={root}",
        synthetic_override(),
        "data.num_frames=4",
        "data.img_size=32",
        "data.batch_size=8",
        "data.num_workers=0",
        "data.persistent_workers=false",
        "model.backbone.name=resnet10t",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "callbacks.rich_progress_bar=null",
        "print_config=false",
        *extra,
    ]


def compose_config(config_name: str, overrides: Iterable[str]) -> DictConfig:
    """``python -m deepdance.<config_name> OVERRIDES`` as Hydra composes it, hydra node included
    (its run dir, job name and logging), before the run starts."""
    # registers the config resolvers, as importing the entry point does
    import deepdance.utils.run  # noqa: F401

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name=config_name):
        return compose(config_name, overrides=list(overrides), return_hydra_config=True)


def run_task(task: Callable[[DictConfig], Any], cfg: DictConfig) -> Any:
    """Run ``task`` on a composed config as ``@hydra.main`` does (``run_job``: run dir, ``.hydra/``,
    file logging, HydraConfig), then put back what a run changes for the whole process: logging
    handlers, HydraConfig, and torch's deterministic switch (``trainer.deterministic``)."""
    from hydra._internal.callbacks import Callbacks

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    deterministic = torch.are_deterministic_algorithms_enabled()
    # Hydra stays initialised during the job, as under @hydra.main: pipelines compose their stages.
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name=cfg.hydra.job.name):
        try:
            job = run_job(
                task,
                cfg,
                job_dir_key="hydra.run.dir",
                job_subdir_key=None,
                hydra_context=HydraContext(config_loader=None, callbacks=Callbacks(cfg)),
            )
            # re-raises what the task raised
            return job.return_value
        finally:
            for handler in root.handlers:
                if handler not in handlers:
                    handler.close()
            root.handlers[:] = handlers
            root.setLevel(level)
            HydraConfig.instance().cfg = None
            torch.use_deterministic_algorithms(deterministic)


def train_task(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """What ``python -m deepdance.train`` runs: one training, or the stages of a pipeline."""
    from deepdance.run.fit import train
    from deepdance.run.stages import run_stages

    task = run_stages if cfg.get("stages") else train
    return task(cfg)


def run_train(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m deepdance.train``, in this process: returns (metrics, objects)."""
    return run_task(train_task, cfg)


def run_eval(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m deepdance.eval``, in this process: returns (metrics, objects)."""
    from deepdance.eval import evaluate

    return run_task(evaluate, cfg)


def run_extract(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m deepdance.extract_features``, in this process: returns (report, objects)."""
    from deepdance.extract_features import extract

    return run_task(extract, cfg)


def run_predict(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m deepdance.predict``, in this process: returns (payload, objects)."""
    from deepdance.predict import predict

    return run_task(predict, cfg)


def run_generate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m deepdance.generate``, in this process."""
    from deepdance.generate import generate

    return run_task(generate, cfg)


def user_error(run: Callable[[DictConfig], Any], cfg: DictConfig, capsys: Any) -> str:
    """Run ``cfg`` with ``run`` (``run_train``, ``run_eval``...) in this process, expecting a user
    error ended as the CLI ends it: ``SystemExit(2)``, no traceback, and one ``error: `` line last
    on stderr, which is returned. ``capsys`` is pytest's fixture. (test_cli_errors runs each entry
    point once as a real process for the exit code and Hydra's own output.)"""
    import pytest

    with pytest.raises(SystemExit) as stopped:
        run(cfg)
    captured = capsys.readouterr()
    assert stopped.value.code == 2, captured.err[-2000:]
    assert "Traceback" not in captured.out + captured.err
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("error: "), captured.err[-2000:]
    return last


def train_in_process(overrides: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compose the train config from command-line overrides and run it here."""
    return run_train(compose_config("train", overrides))


def run_cli(
    module: str, *overrides: str, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """Run ``python -m module overrides...`` as a user would; output captured for asserts."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", module, *overrides],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
