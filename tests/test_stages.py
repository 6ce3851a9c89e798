"""deepdance.run.stages under DDP: one scope for the whole command, so the ranks that the first
stage starts train the second stage too (no second launch, no leftover process group)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.runs import run_cli, tiny_deep_dance

# Two CPU ranks, two tiny stages: the process boundary (DDP children) is the point.
pytestmark = pytest.mark.slow


def test_two_stages_under_ddp_share_one_set_of_ranks(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_cli(
        "deepdance.train",
        *tiny_deep_dance(tmp_path, "trainer=ddp_sim", f"hydra.run.dir={run_dir}", "logger=csv"),
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # Rank 0 and rank 1 join once; a second launch for the second stage would join again.
    assert output.count("Initializing distributed: GLOBAL_RANK: 0, MEMBER: 1/2") == 1, output[-3000:]
    assert output.count("Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2") == 1, output[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stages"] == "ae,lstm" and isinstance(summary.get("ae/test/iou"), float)
    assert Path(summary["best_ckpt"]).parent.parent == run_dir / "lstm"
    # Every rank wrote into this command's run dir: no stray runs elsewhere.
    assert sorted(p.name for p in run_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) == [
        "ae",
        "lstm",
    ]
