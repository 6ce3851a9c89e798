"""Time the test suite of this commit (``make test`` and ``make test-slow``) beside the suite of an
earlier commit (``make test`` there), interleaved on one machine, and write the raw times, a
report and the record of the commit that measured them.

Each suite runs from a checkout of its own commit (a git worktree under the study's run folder)
through one plain interpreter that sees the project's installed packages but not its editable
install, so neither suite imports the other's code or Hydra plugins. Both get the same pytest
command as their Makefile (two xdist workers, a whole file per worker) and the same environment.

    python experiments/test_time/time_suites.py --base 47005b0 --out logs/studies/test_time \
        --results experiments/test_time/results --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sysconfig
import time
import venv
from pathlib import Path

from deepdance.utils.run_info import write_run_info

REPO = Path(__file__).resolve().parents[2]
XDIST = ["-n", "2", "--dist", "loadfile", "-q", "-p", "no:cacheprovider"]
# suite name -> (tree, pytest's marker selection): the base's make test ran every test
SUITES = {"base": ("base", []), "test": ("head", ["-m", "not slow"]), "test-slow": ("head", ["-m", "slow"])}
COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected)")


def plain_python(out: Path) -> Path:
    """A venv without pip whose only link to the project's venv is one ``.pth`` line naming its
    site-packages: packages import, the editable install's finder (a ``.pth`` there) does not run."""
    python = out / "plain_python" / "bin" / "python"
    if not python.exists():
        venv.create(out / "plain_python", with_pip=False)
        site = next((out / "plain_python" / "lib").glob("python3*/site-packages"))
        (site / "_project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def checkout(out: Path, name: str, commit: str) -> Path:
    """A detached worktree of ``commit`` at ``out/trees/name`` (made again when it holds another
    commit); ``out/trees/shared`` points at the shared data, as ``../shared`` does beside the repo."""
    tree = out / "trees" / name
    if tree.exists() and git(tree, "rev-parse", "HEAD") != commit:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=True)
    if not tree.exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), commit], check=True
        )
    shared, link = REPO.parent / "shared", out / "trees" / "shared"
    if shared.is_dir() and not link.exists():
        link.symlink_to(shared.resolve())
    return tree


def git(repo: Path, *args: str) -> str:
    """One git command's output, stripped."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def run_suite(python: Path, tree: Path, marker: list[str], log: Path) -> dict:
    """One pytest run of ``tree``: wall seconds and the counts of its last line."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    start = time.perf_counter()
    with log.open("w") as sink:
        code = subprocess.run(
            [str(python), "-m", "pytest", *XDIST, *marker],
            cwd=tree,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        ).returncode
    wall = time.perf_counter() - start
    last = log.read_text().strip().splitlines()[-1]
    counts = {
        kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in COUNTS.findall(last)
    }
    return {"wall_s": round(wall, 1), "exit_code": code, **counts}


def summarise(rows: list[dict]) -> dict:
    """Min, median and max wall time per suite, and per repeat the ratio of this commit's
    ``make test`` to the base's (the ratio cancels the machine's load of that repeat)."""
    summary: dict = {}
    for suite in SUITES:
        walls = [r["wall_s"] for r in rows if r["suite"] == suite]
        if walls:
            summary[suite] = {
                "n": len(walls),
                "min": min(walls),
                "median": statistics.median(walls),
                "max": max(walls),
            }
    ratios = []
    for repeat in sorted({r["repeat"] for r in rows}):
        wall = {r["suite"]: r["wall_s"] for r in rows if r["repeat"] == repeat}
        if "base" in wall and "test" in wall:
            ratios.append(round(wall["test"] / wall["base"], 3))
    summary["test_over_base"] = {
        "per_repeat": ratios,
        "median": statistics.median(ratios) if ratios else None,
    }
    return summary


def report(rows: list[dict], summary: dict, base: str, head: str) -> str:
    """The study's table, in Markdown."""
    lines = [
        f"# make test: {head[:7]} beside {base[:7]}",
        "",
        "| suite | commit | command | tests passed (failed, skipped) | wall s: min / median / max | n |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    commands = {
        "base": "make test (every test)",
        "test": "make test (-m 'not slow')",
        "test-slow": "make test-slow (-m slow)",
    }
    for suite, (tree, _) in SUITES.items():
        if suite not in summary:
            continue
        first = next(r for r in rows if r["suite"] == suite)
        s = summary[suite]
        counts = f"{first.get('passed', 0)} ({first.get('failed', 0)}, {first.get('skipped', 0)})"
        commit = base if tree == "base" else head
        lines.append(
            f"| {suite} | {commit[:7]} | {commands[suite]} | {counts} | "
            f"{s['min']:.0f} / {s['median']:.0f} / {s['max']:.0f} | {s['n']} |"
        )
    ratio = summary["test_over_base"]
    lines += ["", f"make test at {head[:7]} over make test at {base[:7]}, per repeat: {ratio['per_repeat']}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Interleave the suites ``--repeats`` times (the order rotates each repeat) and write the study."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # the suites run in their own checkouts: every path absolute
    args.out, args.results = args.out.resolve(), args.results.resolve()
    base, head = git(REPO, "rev-parse", args.base), git(REPO, "rev-parse", "HEAD")
    python = plain_python(args.out)
    trees = {"base": checkout(args.out, "base", base), "head": checkout(args.out, "head", head)}
    (args.out / "logs").mkdir(parents=True, exist_ok=True)
    rows, names = [], list(SUITES)
    for repeat in range(1, args.repeats + 1):
        shift = (repeat - 1) % len(names)
        for suite in names[shift:] + names[:shift]:
            tree, marker = SUITES[suite]
            row = {"repeat": repeat, "suite": suite}
            row |= run_suite(python, trees[tree], marker, args.out / "logs" / f"{suite}-{repeat}.log")
            print(json.dumps(row), flush=True)
            rows.append(row)
    args.results.mkdir(parents=True, exist_ok=True)
    fields = ["repeat", "suite", "wall_s", "exit_code", "passed", "failed", "skipped", "error", "deselected"]
    with (args.results / "times.csv").open("w", newline="") as sink:
        writer = csv.DictWriter(sink, fields, restval=0)
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise(rows)
    (args.results / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.results / "report.md").write_text(report(rows, summary, base, head))
    write_run_info(args.results, base_commit=base, repeats=args.repeats)


if __name__ == "__main__":
    main()
