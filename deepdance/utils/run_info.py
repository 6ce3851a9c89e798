"""What a run dir must say to reproduce its numbers: ``resolved_config.yaml`` (every
interpolation resolved; Hydra's ``.hydra/config.yaml`` keeps them unresolved) and
``run_info.json`` (git commit and dirty flag, package versions, Python, the machine, command
line, and the SHA-256 of the data manifest once the data is set up).

A dirty tree is not a dead end but a record: the uncommitted diff of tracked files goes to
``uncommitted.diff`` beside ``run_info.json`` with its SHA-256 in it, and the names of
untracked files are listed there (their contents are not in the diff)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
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
UNCOMMITTED_DIFF = "uncommitted.diff"
# a study script's own output folders (experiments/clean_tree.sh exports them): see study_outputs
STUDY_OUTPUTS_ENV = "DEEPDANCE_STUDY_OUTPUTS"
# the checkout deepdance runs from; tests point it at a temporary repository
CODE_DIR = Path(__file__).resolve().parents[2]


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that change results (absent ones are left out)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git(repo: Path, *args: str) -> str | None:
    """stdout of one git command in ``repo``, or None where git or the repository is absent."""
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def git_state(repo: str | Path | None = None, outputs: Sequence[str] = ()) -> dict[str, Any]:
    """Commit, branch and dirty flag of the checkout (``None`` outside git). Dirty means a
    tracked file differs from the commit (``git status --porcelain --untracked-files=no``, the
    studies' rule); then ``diff`` holds ``git diff HEAD`` and ``diff_sha256`` its hash.
    ``untracked`` names files git does not track: they are not in the diff. ``outputs`` (folders
    from the repository's top) are the command's own regenerated outputs, not code: left out."""
    repo = Path(repo) if repo else CODE_DIR
    commit = _git(repo, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    pathspec = ["--", ":(top)", *(f":(top,exclude){folder}" for folder in outputs)] if outputs else []
    status = _git(repo, "status", "--porcelain", "--untracked-files=no", *pathspec) or ""
    untracked = (_git(repo, "ls-files", "--others", "--exclude-standard") or "").splitlines()
    state: dict[str, Any] = {
        "commit": commit.strip(),
        "branch": (_git(repo, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None,
        "dirty": bool(status.strip()),
        "untracked": untracked,
    }
    if state["dirty"]:
        diff = _git(repo, "diff", "HEAD", "--binary", *pathspec) or ""
        state["diff"] = diff
        state["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest()
    return state


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask), not the host's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def memory_gb() -> float | None:
    """Physical memory in GiB, None where the platform does not say."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):
        return None


def machine() -> dict[str, Any]:
    """CPU model, cores and memory: a timing or a result's cost means nothing without them."""
    return {
        "host": platform.node(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "memory_gb": memory_gb(),
    }


def manifest_hash(manifest: pd.DataFrame) -> str:
    """SHA-256 of the manifest as CSV (the bytes of the run's ``manifest.csv``): the exact
    videos, their probed lengths and sizes, and the split."""
    return hashlib.sha256(manifest.to_csv(index=False).encode()).hexdigest()


def tracked_folders_holding(name: str, repo: str | Path | None = None) -> list[str]:
    """The tracked folders (from the repository's top) that hold a tracked file called ``name``."""
    listed = _git(Path(repo) if repo else CODE_DIR, "ls-files", "--full-name", "--", f":(top,glob)**/{name}")
    return sorted({str(Path(path).parent) for path in (listed or "").splitlines()})


def study_outputs() -> list[str]:
    """The folders a study script rewrites as it goes (``$DEEPDANCE_STUDY_OUTPUTS``, colon-separated, from
    the repository's top; set by experiments/clean_tree.sh): its own results, not code. Without
    them, a rerun's second run would be recorded dirty by the first run's rewritten results."""
    return [folder for folder in os.environ.get(STUDY_OUTPUTS_ENV, "").split(":") if folder]


def collect_run_info(cfg: DictConfig | None = None, outputs: Sequence[str] = ()) -> dict[str, Any]:
    """Record code, package and machine state, so a run's result can be traced and reproduced
    (``outputs``: see ``git_state``; a study's own outputs are left out too, and named)."""
    import torch

    outputs = [*outputs, *study_outputs()]
    info: dict[str, Any] = {
        "git": git_state(outputs=outputs) | ({"outputs_left_out": outputs} if outputs else {}),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": machine(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "command": list(getattr(sys, "orig_argv", sys.argv)),
    }
    if cfg is not None:
        info["task_name"] = cfg.get("task_name")
        info["seed"] = cfg.get("seed")
    return info


def run_record(cfg: DictConfig | None = None, outputs: Sequence[str] = (), **extra: Any) -> dict[str, str]:
    """The files of a fresh record: ``run_info.json``, and ``uncommitted.diff`` when the tree is
    dirty (only its hash and file name stay in the JSON). For writers with their own folder
    rules, such as the report's owned folder (``outputs``: see ``git_state``)."""
    info = collect_run_info(cfg, outputs)
    git = info["git"]
    diff = git.pop("diff", None)
    files = {}
    if diff is not None:
        files[UNCOMMITTED_DIFF] = diff
        git["diff_file"] = UNCOMMITTED_DIFF
        git["untracked_note"] = "untracked files are named here; their contents are not in the diff"
    info.update(extra)
    files[RUN_INFO] = json.dumps(info, indent=2, default=str) + "\n"
    return files


# a DDP rank re-runs the command with its own arguments: the run's facts are rank 0's
@rank_zero_only
def write_run_info(out_dir: str | Path, cfg: DictConfig | None = None, **extra: Any) -> Path:
    """Given ``cfg``: write a fresh ``run_info.json`` (and ``uncommitted.diff`` when the tree is
    dirty) and ``resolved_config.yaml``. Without it: add ``extra`` (e.g. the manifest hash,
    known once the data is set up) to the existing file, or write a fresh one without config."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUN_INFO
    if cfg is None and path.is_file():
        info = json.loads(path.read_text())
        info.update(extra)
        atomic_write_text(path, json.dumps(info, indent=2, default=str) + "\n")
        return path
    files = run_record(cfg, **extra)
    # a resumed run dir, clean now: an older diff would describe code this run does not have
    (out_dir / UNCOMMITTED_DIFF).unlink(missing_ok=True)
    for name, text in files.items():
        atomic_write_text(out_dir / name, text)
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
