"""pyproject.toml declares what the code imports, and nothing it does not.

Every module of deepdance/ and hydra_plugins/ is parsed with ``ast`` (imports inside functions
count: most heavy imports are deferred), stdlib and first-party names are dropped, and each
remaining import is mapped to its distribution with ``importlib.metadata``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from functools import cache
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("deepdance", "hydra_plugins")
# The standard library, plus ``__main__`` (the running script; not in stdlib_module_names).
STDLIB = sys.stdlib_module_names | {"__main__"}

# Declared but never imported: each is needed at run time, not by an import.
RUNTIME_ONLY = {
    # Hydra finds launchers by conf/hydra/launcher/ and `hydra/launcher=...` overrides.
    "hydra-joblib-launcher",
    "hydra-submitit-launcher",
    # optuna's sqlite storage (hydra.sweeper.storage=sqlite:///...) needs these era-matched pins.
    "sqlalchemy",
    "alembic",
}

# Imported, but installed apart from pyproject.toml's lists: import name -> the Makefile variable
# that pins it. mediapipe's metadata pins numpy<2 and pulls a second cv2, so `make install`
# installs it with --no-deps after the `pose` extra, which declares the dependencies it needs.
INSTALLED_APART = {"mediapipe": "MEDIAPIPE"}


def _normalise(name: str) -> str:
    """PEP 503 name: ``PyYAML`` and ``pyyaml``, ``huggingface_hub`` and ``huggingface-hub`` match."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(group: str | None = None) -> set[str]:
    """Distribution names in ``[project] dependencies`` (or an optional-dependency group)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {_normalise(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs}


def imported_names(path: Path) -> set[str]:
    """Absolute imports in one module, as ``top`` or ``hydra_plugins.sub`` (a namespace package
    that several distributions share)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            names.add(".".join(parts[:2]) if parts[0] == "hydra_plugins" else parts[0])
    return names


def first_party(name: str) -> bool:
    """A module of this repository (``deepdance``, ``hydra_plugins.deepdance_sweepers``)."""
    parts = name.split(".")
    if parts[0] == "hydra_plugins" and len(parts) > 1:
        return (ROOT / "hydra_plugins" / parts[1]).exists()
    return parts[0] in PACKAGES


@cache
def _top_level_owners() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(name: str) -> set[str]:
    """The installed distributions that provide import ``name`` (normalised names)."""
    top, _, sub = name.partition(".")
    owners = _top_level_owners().get(top, [])
    if sub:
        # hydra_plugins.X: the one distribution that ships the folder hydra_plugins/X/
        owners = [
            owner
            for owner in owners
            if any(str(f).startswith(f"{top}/{sub}/") for f in importlib.metadata.files(owner) or ())
        ]
    return {_normalise(owner) for owner in owners if _normalise(owner) != "deepdance"}


def third_party_imports() -> dict[str, list[str]]:
    """Third-party import name -> the modules (relative paths) that import it."""
    users: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imported_names(path):
                if name.split(".")[0] in STDLIB or first_party(name):
                    continue
                users.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return users


def test_imports_are_scanned_inside_functions_too() -> None:
    # backbones.py imports huggingface_hub only inside a function: the scan must see it.
    assert "huggingface_hub" in imported_names(ROOT / "deepdance" / "models" / "backbones.py")
    assert "hydra_plugins.hydra_optuna_sweeper" in third_party_imports()


def test_every_imported_package_is_declared() -> None:
    deps = declared()
    missing = []
    for name, modules in sorted(third_party_imports().items()):
        if name.split(".")[0] in INSTALLED_APART:
            continue
        owners = distributions_of(name)
        if not owners:
            missing.append(f"{modules[0]} imports {name}, which no installed distribution provides")
        elif not owners & deps:
            choices = " or ".join(sorted(owners))
            missing.append(f"{modules[0]} imports {name}: declare {choices} in pyproject.toml")
    assert not missing, "\n".join(missing)


def test_every_declared_package_is_imported_or_needed_at_run_time() -> None:
    used = set().union(*(distributions_of(name) for name in third_party_imports()))
    unused = declared() - used - RUNTIME_ONLY
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
    stale = RUNTIME_ONLY - declared()
    assert not stale, f"RUNTIME_ONLY names packages pyproject.toml no longer declares: {sorted(stale)}"


def test_dev_extra_has_the_tools_the_makefile_runs() -> None:
    assert {"pytest", "pytest-cov", "pytest-timeout", "ruff", "hypothesis"} <= declared("dev")


def test_lightning_is_bound_to_the_series_whose_internals_are_patched() -> None:
    spec = next(
        s
        for s in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if s.startswith("pytorch-lightning")
    )
    lower, upper = re.findall(r"(>=|<)\s*([\d.]+)", spec)
    installed = tuple(int(p) for p in importlib.metadata.version("pytorch-lightning").split(".")[:2])
    assert lower[0] == ">=" and upper[0] == "<", spec
    low, high = (tuple(int(p) for p in bound[1].split(".")) for bound in (lower, upper))
    assert low <= installed < high, spec


def test_packages_installed_apart_are_pinned_by_the_makefile_after_their_extra() -> None:
    makefile = (ROOT / "Makefile").read_text()
    from deepdance.pose.mediapipe_backend import VERSION

    assert "mediapipe" in third_party_imports()
    for name, variable in INSTALLED_APART.items():
        pin = re.search(rf"^{variable}\s*:=\s*(\S+)$", makefile, re.MULTILINE)
        assert pin and pin.group(1) == f"{name}=={VERSION}", f"Makefile: {variable} := {name}=={VERSION}"
        assert f'--no-deps "$({variable})"' in makefile
    # the extra that carries mediapipe's runtime dependencies is installed first
    assert '-e ".[dev,pose]"' in makefile
    assert {"absl-py", "attrs", "flatbuffers", "protobuf"} <= declared("pose")
    # neither mediapipe's numpy<2 pin nor a second cv2 (opencv-contrib-python) comes with it
    assert not {"numpy", "opencv-contrib-python", "mediapipe"} & declared("pose")
