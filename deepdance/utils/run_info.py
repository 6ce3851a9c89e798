"""What a run dir must say to reproduce its numbers: ``resolved_config.yaml`` (every
interpolation resolved; Hydra's ``.hydra/config.yaml`` keeps them unresolved) and
``run_info.json`` (git commit and dirty flag, package versions, Python, device, command line,
and the SHA-256 of the data manifest once the data is set up)."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_only

from deepdance.utils.cache_io import atomic_write_text

PACKAGES = (
    "torch",
    "torchvision",
    "pytorch-lightning",
    "lightning",
    "torchmetrics",
    "timm",
    "decord",
    "decord2",
    "av",
    "hydra-core",
    "omegaconf",
    "numpy",
    "pandas",
    "opencv-python-headless",
    "wandb",
)
RUN_INFO = "run_info.json"
RESOLVED_CONFIG = "resolved_config.yaml"


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that change results (absent ones are left out)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_state(repo: str | Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the checkout deepdance runs from (``None`` outside git)."""
    repo = Path(repo) if repo else Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}


def manifest_hash(manifest: pd.DataFrame) -> str:
    """SHA-256 of the manifest as CSV (the bytes of the run's ``manifest.csv``): the exact
    videos, their probed lengths and sizes, and the split."""
    return hashlib.sha256(manifest.to_csv(index=False).encode()).hexdigest()


def collect_run_info(cfg: DictConfig | None = None) -> dict[str, Any]:
    """Record code, package and machine state, so a run's result can be traced and reproduced."""
    import torch

    info: dict[str, Any] = {
        "git": git_state(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "command": list(getattr(sys, "orig_argv", sys.argv)),
    }
    if cfg is not None:
        info["task_name"] = cfg.get("task_name")
        info["seed"] = cfg.get("seed")
    return info


# a DDP rank re-runs the command with its own arguments: the run's facts are rank 0's
@rank_zero_only
def write_run_info(out_dir: str | Path, cfg: DictConfig | None = None, **extra: Any) -> Path:
    """Given ``cfg``: write a fresh ``run_info.json`` and ``resolved_config.yaml``. Without it:
    add ``extra`` (e.g. the manifest hash, known once the data is set up) to the existing file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUN_INFO
    fresh = cfg is not None or not path.is_file()
    info = collect_run_info(cfg) if fresh else json.loads(path.read_text())
    info.update(extra)
    atomic_write_text(path, json.dumps(info, indent=2, default=str) + "\n")
    if cfg is not None:
        try:
            text = OmegaConf.to_yaml(cfg, resolve=True)
        # e.g. ${hydra:...} outside a Hydra run
        except Exception as err:
            text = (
                f"# could not resolve every interpolation ({type(err).__name__}: {err})\n"
                + OmegaConf.to_yaml(cfg)
            )
        atomic_write_text(out_dir / RESOLVED_CONFIG, text)
    return path
