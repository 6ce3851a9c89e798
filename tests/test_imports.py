"""The import graph of ``deepdance/``: no cycles, and entry points are leaves.

The graph is read from the source (``ast``), so an import inside a function counts as much as
one at the top: a lazy import hides a cycle from Python until that function runs, not from
the design. An entry point (a ``[project.scripts]`` target, a ``__main__`` module, a module
with ``if __name__ == "__main__"``) is run, never imported: under ``python -m`` a second import
loads it again as a second module.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# The commands a user runs today; the test fails if one of them stops being seen as an entry point.
KNOWN_ENTRY_POINTS = {
    "deepdance.train",
    "deepdance.eval",
    "deepdance.predict",
    "deepdance.generate",
    "deepdance.extract_features",
    "deepdance.bench.__main__",
}


def module_files(root: Path, package: str = "deepdance") -> dict[str, Path]:
    """Every module of ``package`` under ``root``, by dotted name (a package by its own name)."""
    files = sorted((root / package).rglob("*.py"))
    return {".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f for f in files}


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The dotted name ``from ...x import`` refers to, inside ``module``."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The project modules ``module`` imports anywhere in its file (top level, functions, classes),
    but for type checkers only (``if TYPE_CHECKING:``): those never run, so they close no cycle."""
    known = set(known)
    is_package = path.name == "__init__.py"
    found = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for inner in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            # ``from pkg import sub`` imports the module pkg.sub; ``from pkg import name`` imports pkg.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found.update(name for name in names if name in known and name != module)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = module_files(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def _runs_as_main(path: Path) -> bool:
    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.If)
            and "__name__" in ast.unparse(node.test)
            and "__main__" in ast.unparse(node.test)
        ):
            return True
    return False


def runs_module(path: Path) -> set[str]:
    """The modules ``path`` runs by name (``runpy.run_module("deepdance.x", ...)``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "runpy.run_module" and node.args:
            if isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return found


def parser_of(path: Path) -> tuple[str | None, str | None]:
    """(``hydra`` with its config name, or ``argparse`` with None; None when neither) of a module."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "hydra.main":
            names = [k.value for k in node.keywords if k.arg == "config_name"]
            return "hydra", ast.literal_eval(names[0]) if names else None
    uses_argparse = any(
        isinstance(node, (ast.Import, ast.ImportFrom))
        and "argparse" in {a.name for a in node.names} | {getattr(node, "module", None)}
        for node in ast.walk(tree)
    )
    return ("argparse", None) if uses_argparse else (None, None)


def entry_points(root: Path) -> set[str]:
    """[project.scripts] targets, ``__main__`` modules and modules guarded by ``__name__ == "__main__"``."""
    modules = module_files(root)
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"].get("scripts", {})
    found = {target.split(":")[0] for target in scripts.values()}
    found |= {name for name, path in modules.items() if path.name == "__main__.py" or _runs_as_main(path)}
    return found


def test_no_import_cycle_in_deepdance() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 30 and graph["deepdance.train"], "the walk found the package and its imports"
    cycles = import_cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_entry_points_are_leaves() -> None:
    graph = import_graph(ROOT)
    entries = entry_points(ROOT)
    assert KNOWN_ENTRY_POINTS <= entries, f"not seen as entry points: {sorted(KNOWN_ENTRY_POINTS - entries)}"
    importers = sorted(f"{m} imports {e}" for m, deps in graph.items() for e in deps & entries)
    assert not importers, "entry points must not be imported: " + "; ".join(importers)


def test_every_entry_point_is_a_script() -> None:
    """Each runnable module of deepdance/ is also a ``[project.scripts]`` command."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    targets = {target.split(":")[0] for target in scripts.values()}
    modules = module_files(ROOT)
    for command, target in scripts.items():
        module, function = target.split(":")
        assert module in modules, f"{command} = {target}: no module {module}"
        defined = {
            node.name
            for node in ast.parse(modules[module].read_text()).body
            if isinstance(node, ast.FunctionDef)
        }
        assert function in defined, f"{command} = {target}: {module} defines no {function}()"
    runnable = sorted(entry_points(ROOT) - targets)
    assert not runnable, f"runnable modules without a [project.scripts] entry: {runnable}"


def test_no_old_command_paths() -> None:
    """No module hands over to another command with runpy: one command, one path."""
    shims = sorted(name for name, path in module_files(ROOT).items() if runs_module(path))
    assert not shims, f"runpy shims: {shims}"


def test_a_command_is_hydra_exactly_when_it_has_a_config() -> None:
    """The README's rule: a command with its own ``conf/<name>.yaml`` is a Hydra app composed
    from it; a command without one takes argparse flags. Never both, never neither."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    modules = module_files(ROOT)
    configs = {p.stem for p in (ROOT / "conf").glob("*.yaml")}
    kinds = {}
    for command, target in scripts.items():
        module = target.split(":")[0]
        kind, config = parser_of(modules[module])
        kinds[command] = kind
        stem = module.removesuffix(".__main__").rsplit(".", 1)[-1]
        if kind == "hydra":
            assert config == stem and config in configs, f"{command}: Hydra app without conf/{stem}.yaml"
        else:
            assert kind == "argparse", f"{command}: neither Hydra nor argparse"
            assert stem not in configs, f"{command}: conf/{stem}.yaml exists, so it must be a Hydra app"
    assert {"hydra", "argparse"} == set(kinds.values())


def test_walker_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    """The checks above could not fail if the walker missed lazy or relative imports."""
    package = tmp_path / "deepdance"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from deepdance.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..c import g\n    return g\n")
    (package / "c.py").write_text("import deepdance.a\n")
    (package / "d.py").write_text("from deepdance import a\n")
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from deepdance import d\n"
    (package / "e.py").write_text(typing_only)
    graph = import_graph(tmp_path)
    assert graph["deepdance.sub.b"] == {"deepdance.c"}
    assert graph["deepdance.d"] == {"deepdance.a"}
    assert graph["deepdance.e"] == set()
    assert import_cycles(graph) == [["deepdance.a", "deepdance.c", "deepdance.sub.b"]]
