"""``python -m deepdance.report`` on run directories the test writes itself: known summaries,
so every mean, sd, t-interval, paired difference and verdict is checked against a hand value."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from deepdance.report import main
from deepdance.studies.output import GROUPS_CSV, MARKDOWN, PAIRED_CSV, chart_name
from deepdance.studies.stats import lower_is_better, t_interval
from tests.helpers.runs import REPO

# t_{0.975, 3}: the 97.5 % quantile of Student's t with 3 degrees of freedom (4 seeds)
T_975_3 = 3.182446305284263
SEEDS = [1, 2, 3, 4]
GROUP_A, GROUP_B = "model.lr=0.01", "model.lr=0.001"
ACC = {GROUP_A: [0.80, 0.82, 0.78, 0.84], GROUP_B: [0.85, 0.86, 0.80, 0.89]}
LOSS = {GROUP_A: [0.50, 0.52, 0.48, 0.54], GROUP_B: [0.51, 0.49, 0.53, 0.50]}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_run(run_dir: Path, summary: dict, overrides: list[str] | None) -> None:
    """A finished run as Hydra leaves it: summary.json, and .hydra/overrides.yaml if given."""
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    if overrides is not None:
        (run_dir / ".hydra").mkdir()
        (run_dir / ".hydra" / "overrides.yaml").write_text("".join(f"- {item}\n" for item in overrides))


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A multirun of two groups x four seeds (job dirs 0..7, as Hydra numbers them), plus a
    copied group without .hydra/ whose parent folder names it."""
    multirun = tmp_path / "multirun"
    job = 0
    for group in (GROUP_A, GROUP_B):
        for i, seed in enumerate(SEEDS):
            summary = {"test/acc": ACC[group][i], "test/loss": LOSS[group][i], "seed": seed, "split": "test"}
            # the seed sits between other overrides, as a sweep writes it
            write_run(multirun / str(job), summary, ["data.num_frames=16", f"seed={seed}", group])
            job += 1
    for seed in (1, 2):
        write_run(tmp_path / "copied" / "baseline" / f"seed{seed}", {"test/acc": 0.5, "seed": seed}, None)
    return tmp_path


def hand_interval(values: list[float]) -> tuple[float, float, float, float]:
    """Mean, sd (ddof=1) and the 95 % t-interval, written out for n = 4."""
    mean = sum(values) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    half = T_975_3 * sd / 2
    return mean, sd, mean - half, mean + half


def test_report_numbers_files_and_verdicts(study: Path, capsys: pytest.CaptureFixture) -> None:
    name_a, name_b = f"data.num_frames=16 {GROUP_A}", f"data.num_frames=16 {GROUP_B}"
    main([str(study / "multirun"), str(study / "copied"), "--pair", name_a, name_b])
    out = study / "multirun" / "report"
    groups = pd.read_csv(out / GROUPS_CSV)
    assert set(groups["group"]) == {name_a, name_b, "baseline"}
    for group, name in ((GROUP_A, name_a), (GROUP_B, name_b)):
        for metric, values in (("test/acc", ACC[group]), ("test/loss", LOSS[group])):
            row = groups[(groups["group"] == name) & (groups["metric"] == metric)].iloc[0]
            assert row["n"] == 4
            expected = hand_interval(values)
            got = (row["mean"], row["sd"], row["ci_low"], row["ci_high"])
            assert got == pytest.approx(expected, abs=1e-12)
    # A: mean 0.81, sd sqrt(0.002/3); B: mean 0.85, sd sqrt(0.0014)
    row_a = groups[(groups["group"] == name_a) & (groups["metric"] == "test/acc")].iloc[0]
    assert row_a["mean"] == pytest.approx(0.81) and row_a["sd"] == pytest.approx(math.sqrt(0.002 / 3))
    assert row_a["ci_low"] == pytest.approx(0.81 - T_975_3 * math.sqrt(0.002 / 3) / 2)
    baseline = groups[groups["group"] == "baseline"].iloc[0]
    assert (baseline["n"], baseline["mean"], baseline["sd"]) == (2, 0.5, 0.0)

    paired = pd.read_csv(out / PAIRED_CSV).set_index("metric")
    # B - A per seed: acc [0.05, 0.04, 0.02, 0.05] -> mean 0.04, sd sqrt(0.0002), CI [0.0175, 0.0625]
    acc = paired.loc["test/acc"]
    half = T_975_3 * math.sqrt(0.0002) / 2
    assert (acc["n"], acc["better"]) == (4, "higher")
    assert (acc["mean"], acc["sd"]) == pytest.approx((0.04, math.sqrt(0.0002)), abs=1e-12)
    assert (acc["ci_low"], acc["ci_high"]) == pytest.approx((0.04 - half, 0.04 + half), abs=1e-12)
    assert acc["verdict"] == f"{name_b} beats {name_a}"
    # loss B - A [0.01, -0.03, 0.05, -0.04]: mean -0.0025, the interval holds zero
    loss = paired.loc["test/loss"]
    assert loss["better"] == "lower" and loss["verdict"] == "within noise"
    assert loss["mean"] == pytest.approx(-0.0025, abs=1e-12)
    assert loss["ci_low"] < 0 < loss["ci_high"]

    text = (out / MARKDOWN).read_text()
    assert (
        f"| {name_b} | test/acc | 4 | 0.8500 | 0.0374 | {0.85 - T_975_3 * math.sqrt(0.0014) / 2:.4f} |"
        in text
    )
    assert f"| test/acc | 4 | 0.0400 | 0.0141 | {0.04 - half:.4f} | {0.04 + half:.4f} | higher |" in text
    assert f"{name_b} beats {name_a}" in text and "within noise" in text
    assert text in capsys.readouterr().out
    for metric in ("test/acc", "test/loss"):
        png = (out / chart_name(metric)).read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert chart_name("test/acc") == "test_acc.png"


def test_direction_override_flips_the_verdict(study: Path) -> None:
    # Only the multirun: data.num_frames=16, given by all its runs, names no group.
    pair = [GROUP_A, GROUP_B]
    out = study / "elsewhere"
    main(
        [
            str(study / "multirun"),
            "--out",
            str(out),
            "--pair",
            *pair,
            "--metrics",
            "test/acc",
            "--lower-is-better",
            "test/acc",
        ]
    )
    acc = pd.read_csv(out / PAIRED_CSV).iloc[0]
    assert (acc["better"], acc["verdict"]) == ("lower", f"{pair[0]} beats {pair[1]}")
    assert set(pd.read_csv(out / GROUPS_CSV)["metric"]) == {"test/acc"}
    assert set(pd.read_csv(out / GROUPS_CSV)["group"]) == set(pair)
    assert not (study / "multirun" / "report").exists()


def test_rerun_rewrites_its_own_files_but_refuses_a_foreign_one(
    study: Path, capsys: pytest.CaptureFixture
) -> None:
    out = study / "multirun" / "report"
    main([str(study / "multirun")])
    # a second report over its own files is fine
    main([str(study / "multirun")])
    capsys.readouterr()
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (out / GROUPS_CSV).write_text("my own notes\n")
    with pytest.raises(SystemExit) as exit_info:
        main([str(study / "multirun")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and GROUPS_CSV in err and "\n" not in err
    assert (out / GROUPS_CSV).read_text() == "my own notes\n"
    # nothing else was rewritten either: the check comes before any write
    after = {path.name: path.read_bytes() for path in out.iterdir()}
    assert {k: v for k, v in after.items() if k != GROUPS_CSV} == {
        k: v for k, v in before.items() if k != GROUPS_CSV
    }
    # a file of the user's under a chart's name is refused too
    fresh = study / "fresh"
    fresh.mkdir()
    (fresh / "test_acc.png").write_bytes(b"user's")
    with pytest.raises(SystemExit):
        main([str(study / "multirun"), "--out", str(fresh)])
    assert (fresh / "test_acc.png").read_bytes() == b"user's"
    assert not (fresh / MARKDOWN).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing"], "no such directory"),
        (["empty"], "no summary.json"),
        (["multirun", "--metrics", "test/accuracy"], "--metrics: unknown ['test/accuracy']"),
        (["multirun", "--pair", "nope", "data.num_frames=16 model.lr=0.01"], "--pair: unknown group 'nope'"),
    ],
)
def test_user_mistakes_are_one_error_line(
    study: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    (study / "empty").mkdir()
    argv = [str(study / args[0]), *args[1:]]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (study / "multirun" / "report").exists()


def test_command_exit_code_2_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deepdance.report", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_table_is_logged_to_an_active_wandb_run(study: Path) -> None:
    import wandb

    run = wandb.init(mode="offline", dir=study, project="report-test")
    try:
        main([str(study / "multirun"), "--metrics", "test/acc"])
        logged = run.summary["report/groups"]
        run_dir = Path(run.dir).parent
    finally:
        wandb.finish()
    assert logged["_type"] == "table-file" and logged["nrows"] == 2
    tables = list(run_dir.rglob("*.table.json"))
    assert len(tables) == 1
    assert json.loads(tables[0].read_text())["columns"] == [
        "group",
        "metric",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
    ]


def test_interval_edge_cases() -> None:
    single = t_interval([0.7])
    assert single.n == 1 and single.mean == 0.7 and math.isnan(single.sd) and math.isnan(single.ci_low)
    assert lower_is_better("val/loss") and lower_is_better("rollout/mse_10") and lower_is_better("test/FDD")
    assert not lower_is_better("test/acc")
    assert lower_is_better("time/run_s")
    assert not lower_is_better("val/loss", higher=["val/loss"]) and lower_is_better("acc", lower=["acc"])


def test_in_run_baselines_pair_with_the_model_seed_by_seed(tmp_path: Path) -> None:
    """``--baselines``: a run's ``_ridge`` / ``_repeat`` metrics become groups of their own, and
    several ``--pair``s give one paired table each."""
    model_mse, ridge_mse, repeat_mse = [0.030, 0.032, 0.028, 0.034], [0.032, 0.035, 0.030, 0.037], [0.05] * 4
    for i, seed in enumerate(SEEDS):
        summary = {
            "test/next_mse": model_mse[i],
            "test/next_mse_ridge": ridge_mse[i],
            "test/next_mse_repeat": repeat_mse[i],
            "seed": seed,
        }
        write_run(tmp_path / "runs" / str(i), summary, ["experiment=deep_dance", f"seed={seed}"])
    out = tmp_path / "report"
    main(
        [
            str(tmp_path / "runs"),
            "--out",
            str(out),
            "--baselines",
            "_ridge,_repeat",
            "--pair",
            "(defaults) ridge",
            "(defaults)",
            "--pair",
            "(defaults) repeat",
            "(defaults)",
        ]
    )
    groups = pd.read_csv(out / GROUPS_CSV)
    assert set(groups["group"]) == {"(defaults)", "(defaults) ridge", "(defaults) repeat"}
    assert set(groups["metric"]) == {"test/next_mse"}
    paired = pd.read_csv(out / PAIRED_CSV)
    ridge = paired[paired["a"] == "(defaults) ridge"].iloc[0]
    # differences 0.002, 0.003, 0.002, 0.003: mean 0.0025, sd sqrt(1e-6 / 3)
    half = T_975_3 * math.sqrt(1e-6 / 3) / 2
    assert ridge["mean"] == pytest.approx(-0.0025)
    assert (ridge["ci_low"], ridge["ci_high"]) == pytest.approx((-0.0025 - half, -0.0025 + half))
    assert ridge["verdict"] == "(defaults) beats (defaults) ridge"
    repeat = paired[paired["a"] == "(defaults) repeat"].iloc[0]
    assert repeat["mean"] == pytest.approx(-0.019) and repeat["verdict"].startswith("(defaults) beats")
    text = (out / MARKDOWN).read_text()
    assert text.count("## Paired per-seed difference") == 2


def test_input_checkpoints_named_with_inputs_do_not_split_a_recipe_by_seed(tmp_path: Path) -> None:
    """Each seed's LSTM reads its own seed's autoencoder: without --inputs every seed is a group
    of one; with it the two recipes pair up over three seeds."""
    for recipe, base in (("model.condition=genre", 0.5), ("model.condition=null", 0.2)):
        for seed in (1, 2, 3):
            overrides = [f"seed={seed}", f"model.autoencoder_ckpt=/runs/ae/seed{seed}/best.ckpt", recipe]
            write_run(
                tmp_path / recipe / f"seed{seed}", {"gen/acc": base + seed / 100, "seed": seed}, overrides
            )
    out = tmp_path / "report"
    main([str(tmp_path), "--out", str(out), "--metrics", "gen/acc"])
    assert pd.read_csv(out / GROUPS_CSV)["group"].nunique() == 6
    main([str(tmp_path), "--out", str(out), "--inputs", "model.autoencoder_ckpt", "--metrics", "gen/acc"])
    groups = pd.read_csv(out / GROUPS_CSV)
    assert sorted(groups["group"]) == ["model.condition=genre", "model.condition=null"]
    assert groups["n"].tolist() == [3, 3]


def test_pooled_folds_are_repeats_and_pair_fold_by_fold(tmp_path: Path) -> None:
    """``--pool data.fold``: folds x seeds are the repeats of one recipe (n = 6 here), and the paired
    difference matches fold k seed s of one recipe with fold k seed s of the other (n = 2 shared)."""
    for fold in (0, 1, 2):
        for seed in (1, 2):
            value = 0.6 + fold / 10 + seed / 100
            write_run(
                tmp_path / "default" / f"f{fold}s{seed}",
                {"test/acc": value, "seed": seed},
                [f"data.fold={fold}", f"seed={seed}"],
            )
            if seed == 1 and fold < 2:
                write_run(
                    tmp_path / "dense" / f"f{fold}s{seed}",
                    {"test/acc": value + 0.05 * (fold + 1), "seed": seed},
                    [f"data.fold={fold}", f"seed={seed}", "data.num_frames=32"],
                )
    out = tmp_path / "report"
    main(
        [
            str(tmp_path),
            "--out",
            str(out),
            "--pool",
            "data.fold",
            "--pair",
            "(defaults)",
            "data.num_frames=32",
        ]
    )
    groups = pd.read_csv(out / GROUPS_CSV).set_index("group")
    assert groups.loc["(defaults)", "n"] == 6 and groups.loc["data.num_frames=32", "n"] == 2
    assert groups.loc["(defaults)", "mean"] == pytest.approx(0.715)
    paired = pd.read_csv(out / PAIRED_CSV)
    assert paired["n"].tolist() == [2]
    assert paired["mean"].iloc[0] == pytest.approx(0.075)
