"""The commands, chained as a user runs them: extract_features (killed midway, then resumed),
train from the store, eval with K test clips, predict on a folder and on a non-AIST video
with an audio track. The killed and stopped extractions are real processes; the other
commands run in this process, composed as the CLI composes them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.runs import (
    REPO,
    compose_config,
    run_eval,
    run_extract,
    run_predict,
    synthetic_override,
    train_in_process,
)

pytestmark = pytest.mark.slow

STORE_SETTINGS = [
    "model.backbone.name=resnet10t",
    "model.backbone.pretrained=false",
    "data.num_frames=8",
    "data.img_size=96",
    "data.features.clips=5",
    "data.features.batch_size=1",
    "data.num_workers=0",
    "data.persistent_workers=false",
    "data.batch_size=8",
    "print_config=false",
]


def _data(root: Path, features: Path) -> list[str]:
    return [f"data.root={root}", synthetic_override(), f"data.features.dir={features}", *STORE_SETTINGS]


def _extract_in_process(overrides: list[str]) -> str:
    """Run extract_features here; returns what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run_extract(compose_config("extract_features", overrides))
    return printed.getvalue()


def _entries(features: Path) -> list[Path]:
    return sorted(features.glob("*/*.safetensors"))


@pytest.fixture(scope="module")
def store(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run extract_features, SIGKILL it after a few entries, corrupt one, run it again."""
    features = tmp_path_factory.mktemp("features")
    run_dir = tmp_path_factory.mktemp("extract")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deepdance.extract_features",
            *_data(tiny_synthetic, features),
            f"hydra.run.dir={run_dir / 'killed'}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while len(_entries(features)) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()[-2000:]  # killed midway, not finished
    done = _entries(features)
    assert 4 <= len(done) < 30
    done[0].write_bytes(done[0].read_bytes()[:200])  # and one entry broken afterwards
    stdout = _extract_in_process([*_data(tiny_synthetic, features), f"hydra.run.dir={run_dir / 'resumed'}"])
    report = json.loads((run_dir / "resumed" / "extract_report.json").read_text())
    return {
        "features": features,
        "root": tiny_synthetic,
        "done_before": len(done),
        "report": report,
        "stdout": stdout,
    }


def test_resumed_extraction_computes_only_what_is_missing(store: dict) -> None:
    report, done = store["report"], store["done_before"]
    assert (report["total"], report["failed"]) == (30, 0)
    assert report["reused"] == done - 1  # finished entries kept ...
    assert report["recomputed"] == 1  # ... the corrupt one recomputed ...
    assert report["computed"] == 30 - (done - 1)  # ... and only the missing ones computed
    store_dir = Path(report["store"])
    assert len(list(store_dir.glob("*.safetensors"))) == 30
    assert not list(store_dir.glob(".*.tmp"))  # the killed writer's temporary file is gone
    assert json.loads((store_dir / "key.json").read_text())["clips"] == 5
    assert "reused" in store["stdout"] and "computed" in store["stdout"]


def test_sigterm_stops_extraction_within_a_batch_and_keeps_finished_entries(
    tiny_synthetic: Path, tmp_path: Path
) -> None:
    """SLURM preemption or ``timeout``: SIGTERM ends the run after the batch in hand (one video
    here), exit code 143 and one line; a re-run reuses every stored entry. The train split
    only (10 videos), to keep it short."""
    features, run_dir = tmp_path / "features", tmp_path / "runs"
    small = {"data.img_size=96": "data.img_size=64", "data.features.clips=5": "data.features.clips=2"}
    data = [small.get(o, o) for o in _data(tiny_synthetic, features)] + ["splits=[train]"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deepdance.extract_features", *data, f"hydra.run.dir={run_dir / 'stopped'}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while len(_entries(features)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.stderr.read()[-2000:]
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10, "still running long after SIGTERM"
    assert process.returncode == 143, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    kept = len(_entries(features))
    assert 2 <= kept < 10
    assert (
        last.startswith("stopped by SIGTERM: feature extraction; kept ")
        and f"kept {kept} of 10 videos" in last
    )
    assert "run the same command again" in last and "Traceback" not in stderr
    assert not (run_dir / "stopped" / "extract_report.json").exists()

    _extract_in_process([*data, f"hydra.run.dir={run_dir / 'again'}"])
    report = json.loads((run_dir / "again" / "extract_report.json").read_text())
    # every entry the stopped run kept is valid: reused, none recomputed
    assert (report["total"], report["reused"], report["recomputed"], report["computed"]) == (
        10,
        kept,
        0,
        10 - kept,
    )


@pytest.fixture(scope="module")
def trained(store: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("train_from_store")
    train_in_process(
        [
            "model=genre_gru",
            *_data(store["root"], store["features"]),
            "trainer.max_epochs=2",
            "trainer.accelerator=cpu",
            "callbacks.rich_progress_bar=null",
            "data.test_clips=3",
            f"hydra.run.dir={run_dir}",
        ]
    )
    log = (run_dir / "train.log").read_text()
    assert "(30 videos: 30 reused, 0 computed)" in log  # the store was complete: nothing decoded for features
    return run_dir


def test_train_from_store_reports_single_and_multi_clip_accuracy(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    predictions = (trained / "test_predictions.csv").read_text().splitlines()
    assert (
        predictions[0] == "video_id,name,genre,pred_single,pred_clips3,prob_clips3" and len(predictions) == 11
    )
    # the accuracies recomputed from the per-video predictions (one test video per genre)
    rows = [line.split(",") for line in predictions[1:]]
    genre, single, clips = (np.array([r[i] for r in rows]) for i in (2, 3, 4))
    assert summary["test/acc"] == pytest.approx(np.mean(single == genre))
    assert summary["test/acc_clips3"] == pytest.approx(np.mean(clips == genre))
    assert summary["test/acc_macro_clips3"] == pytest.approx(
        np.mean([np.mean(clips[genre == g] == g) for g in genre])
    )
    f1 = [2 * np.sum((clips == g) & (genre == g)) / (np.sum(clips == g) + np.sum(genre == g)) for g in genre]
    assert summary["test/f1_macro_clips3"] == pytest.approx(np.mean(f1))
    assert summary["val/acc_best"] >= summary["val/acc"]


def test_eval_with_more_test_clips_and_view_vote(trained: Path, tmp_path: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    run_eval(
        compose_config(
            "eval",
            [
                f"ckpt_path={summary['best_ckpt']}",
                "data.test_clips=5",
                "data.view_vote=true",
                "trainer.accelerator=cpu",
                f"hydra.run.dir={tmp_path}",
            ],
        )
    )
    evaluated = json.loads((tmp_path / "summary.json").read_text())
    assert evaluated["test/acc"] == pytest.approx(
        summary["test/acc"], abs=1e-6
    )  # same centre clips, same weights
    assert "test/acc_clips5" in evaluated and "test/acc_views" in evaluated


def test_predict_folder_and_any_video(trained: Path, store: dict, tmp_path: Path) -> None:
    from deepdance.data.aist.standin import write_video_with_audio

    summary = json.loads((trained / "summary.json").read_text())
    folder = tmp_path / "videos"
    rng = np.random.default_rng(0)
    write_video_with_audio(
        folder / "my dance.mp4",
        rng.integers(0, 255, (30, 90, 160, 3), dtype=np.uint8),
        fps=10,
        size=(720, 1280),
        tone_hz=330.0,
    )  # not an AIST name, 16:9, upscaled, with AAC audio
    (folder / "gBR_sBM_c01_d01_mBR0_ch01.mp4").write_bytes(
        (store["root"] / "gBR_sBM_c01_d01_mBR0_ch01.mp4").read_bytes()
    )
    (folder / "broken.mp4").write_text("not a video")
    out = tmp_path / "pred.json"
    run_predict(
        compose_config(
            "predict",
            [
                f"ckpt_path={summary['best_ckpt']}",
                f"video={folder}",
                f"output={out}",
                f"hydra.run.dir={tmp_path / 'run'}",
            ],
        )
    )
    payload = json.loads(out.read_text())
    rows = {Path(v["video"]).name: v for v in payload["videos"]}
    assert payload["clips"] == 3 and set(rows) == {
        "my dance.mp4",
        "gBR_sBM_c01_d01_mBR0_ch01.mp4",
        "broken.mp4",
    }
    good = rows["my dance.mp4"]
    assert good["size"] == "1280x720" and good["true_genre"] is None and len(good["genres"]) == 10
    assert sum(g["probability"] for g in good["genres"]) == pytest.approx(1.0, abs=1e-3)
    assert [g["probability"] for g in good["genres"]] == sorted(
        (g["probability"] for g in good["genres"]), reverse=True
    )
    assert rows["gBR_sBM_c01_d01_mBR0_ch01.mp4"]["true_genre"] == "BR"
    assert "not a readable video" in rows["broken.mp4"]["error"]


def test_predict_one_video_prints_ranked_genres_and_bad_paths_are_one_line_errors(
    trained: Path, tmp_path: Path, capsys
) -> None:
    from omegaconf import OmegaConf

    from deepdance.data.aist.standin import write_video_with_audio
    from deepdance.predict import predict

    summary = json.loads((trained / "summary.json").read_text())
    video = write_video_with_audio(
        tmp_path / "clip.mp4", np.full((12, 90, 120, 3), 90, np.uint8), fps=10, tone_hz=None
    )  # 4:3, no audio
    cfg = OmegaConf.create(
        {
            "ckpt_path": summary["best_ckpt"],
            "video": str(video),
            "output": None,
            "clips": 1,
            "top": 3,
            "device": "cpu",
            "paths": {"output_dir": str(tmp_path)},
        }
    )
    payload, _ = predict(cfg)
    out = capsys.readouterr().out
    assert payload["clips"] == 1 and payload["videos"][0]["size"] == "120x90"
    assert "rank" in out and "probability" in out and out.count("│") >= 3 * 5  # a 3-row table
    cfg.video = str(tmp_path / "nope.mp4")
    with pytest.raises(SystemExit) as exit_info:
        predict(cfg)
    assert exit_info.value.code == 2
    assert (
        capsys.readouterr().err.strip().splitlines()[-1].startswith(f"error: video={tmp_path / 'nope.mp4'}")
    )
