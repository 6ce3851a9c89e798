"""The benchmark: stand-in inputs, the seed re-implementation, ceilings, projection, and the
smoke run of the real CLI (every row produced and positive)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from deepdance.bench.ceiling import CEILING_WRONG, above_ceiling, stage_ceiling
from deepdance.bench.extraction import (
    DeepdancePipeline,
    SampledClips,
    SeedPipeline,
    bench_store,
    crop_center_square,
    seed_load_video,
)
from deepdance.bench.inputs import StandInSpec, describe_videos, ensure_standins, find_bench_videos
from deepdance.bench.report import markdown, project_whole_aist
from deepdance.bench.rows import find_row, row, timed_row
from deepdance.bench.runner import ceiling_violations, extraction_rows, load_backbones
from deepdance.bench.timing import Spread, Timing, interleaved_runs
from deepdance.bench.training import EpochTimes, generator_available, like_for_like
from deepdance.data.video import keyframe_indices, probe_video
from deepdance.errors import DeepdanceError
from tests.helpers.bench import bench_machine
from tests.helpers.runs import REPO, compose_config, run_cli, run_task, user_error

EXTRACTION_ROWS = (
    "seed",
    "deepdance_exact",
    "deepdance_keyframe",
    "decode_only_exact",
    "decode_only_keyframe",
    "ceiling_exact",
    "ceiling_keyframe",
    "model_only",
)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = StandInSpec(
        "mini", count=1, width=128, height=80, fps=59.94, seconds=1.0, gop_seconds=0.5, preset="ultrafast"
    )
    return ensure_standins(tmp_path_factory.mktemp("standins"), spec)[0]


def test_standin_is_shaped_like_aist(standin: Path) -> None:
    info = probe_video(standin)
    assert (info.width, info.height, info.num_frames) == (128, 80, 60)
    assert info.fps == pytest.approx(59.94, abs=0.01)
    assert keyframe_indices(standin).tolist() == [0, 30]  # a key frame every 0.5 s, none from scene cuts
    with av.open(str(standin)) as container:
        audio = [s for s in container.streams if s.type == "audio"]
        assert audio and audio[0].codec_context.name == "aac" and audio[0].rate == 48_000
    described = describe_videos("mini", [standin])
    assert described["audio"] and described["keyframe_interval"] == 30 and described["bitrate_mbps"] > 0


def test_standins_are_reused_and_regenerated_when_the_spec_changes(tmp_path: Path) -> None:
    spec = StandInSpec(
        "s", count=1, width=64, height=40, fps=10, seconds=0.5, audio=False, preset="ultrafast"
    )
    (path,) = ensure_standins(tmp_path, spec)
    stamp = path.stat().st_mtime_ns
    assert ensure_standins(tmp_path, spec)[0].stat().st_mtime_ns == stamp
    (again,) = ensure_standins(
        tmp_path,
        StandInSpec("s", count=1, width=64, height=40, fps=10, seconds=1.0, audio=False, preset="ultrafast"),
    )
    assert probe_video(again).num_frames == 10
    # A video the record does not list (a user's, or a lost record): refused, untouched.
    (tmp_path / "s" / "standins.json").unlink()
    with pytest.raises(DeepdanceError, match=f"{again} is a video that standins.json does not list"):
        ensure_standins(tmp_path, spec)
    assert probe_video(again).num_frames == 10


def test_standin_spec_rejects_odd_sizes() -> None:
    with pytest.raises(DeepdanceError, match="bench.inputs.odd: width and height must be even"):
        StandInSpec("odd", width=641, height=360)


def test_seed_reads_every_frame_cropped_and_resized(standin: Path) -> None:
    frames = seed_load_video(standin, 32)
    assert frames.shape == (60, 32, 32, 3) and frames.dtype == np.uint8  # all frames, not a sample
    square = crop_center_square(np.zeros((80, 128, 3)))
    assert square.shape == (80, 80, 3)


def test_find_bench_videos_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DeepdanceError, match=f"bench.videos={tmp_path / 'nope'}: not a directory"):
        find_bench_videos(tmp_path / "nope")
    with pytest.raises(DeepdanceError, match="no video files"):
        find_bench_videos(tmp_path)


def _results(rows: list[dict], violations: list[dict]) -> dict:
    """The least a results dict needs for ``markdown``."""
    config = {
        "backbone": "b",
        "img_size": 64,
        "num_frames": 4,
        "precision": "fp32",
        "batch_videos": 2,
        "num_workers": 1,
        "repeats": 3,
        "warmup": 1,
        "layout": "channels_last",
        "torch_threads": 2,
    }
    sets = [
        {
            "name": "s",
            "videos": 2,
            "width": 64,
            "height": 40,
            "fps": 30.0,
            "frames_per_video": 60,
            "keyframe_interval": 30,
            "bitrate_mbps": 1.0,
            "audio": True,
        }
    ]
    return {
        "name": "x-cpu",
        "command": "c",
        "machine": bench_machine(),
        "config": config,
        "sets": sets,
        "rows": rows,
        "ceiling_violations": violations,
    }


def _pipeline_row(rates: Spread, ceiling: Spread) -> dict:
    return timed_row(
        "extraction",
        "deepdance_exact",
        "deepdance, exact sampling",
        rates,
        [1.0, 1.0, 1.0],
        "videos/s",
        set_name="s",
        ceiling_videos_per_s=ceiling.as_dict(),
        above_ceiling=above_ceiling(rates, ceiling),
    )


def test_the_ceiling_is_the_slower_stage_and_a_pipeline_above_it_is_flagged() -> None:
    # decode: median 2, min 1, max 3 videos/s; model: 5 (4-2.5); min per statistic
    ceiling = stage_ceiling(Spread(2.0, 1.0, 3.0), Spread(5.0, 4.0, 2.5))
    assert ceiling.rate == Spread(2.0, 1.0, 2.5) and ceiling.bound_by == "decode"
    # not the serial 1/(1/decode + 1/model) = 1.43, which an overlapping pipeline beats
    below = Spread(1.8, 1.5, 2.5)
    above = Spread(1.9, 1.5, 2.6)
    assert not above_ceiling(below, ceiling.rate) and above_ceiling(above, ceiling.rate)
    # the best repeats decide, not the medians: a median above the ceiling's median is noise
    assert not above_ceiling(Spread(2.2, 1.0, 2.4), ceiling.rate)

    fine, wrong = _pipeline_row(below, ceiling.rate), _pipeline_row(above, ceiling.rate)
    assert ceiling_violations([fine]) == []
    (violation,) = ceiling_violations([fine, wrong])
    assert violation["message"] == CEILING_WRONG == "pipeline above its ceiling: the ceiling is wrong"
    assert (violation["best_videos_per_s"], violation["ceiling_best_videos_per_s"]) == (2.6, 2.5)
    assert CEILING_WRONG not in markdown(_results([fine], []))
    assert f"**{CEILING_WRONG}**: `deepdance_exact` best repeat 2.600 videos/s > ceiling best 2.500" in (
        markdown(_results([wrong], [violation]))
    )


def test_rows_report_median_min_and_max_of_the_raw_times() -> None:
    # 2 videos in 4, 2 and 5 s: 0.5, 1.0 and 0.4 videos/s
    timing = Timing([4.0, 2.0, 5.0])
    assert timing.rates(2) == Spread(0.5, 0.4, 1.0)
    r = timed_row("extraction", "seed", "seed", timing.rates(2), timing.seconds, "videos/s", set_name="s")
    assert (r["value"], r["value_min"], r["value_max"], r["seconds"]) == (0.5, 0.4, 1.0, [4.0, 2.0, 5.0])
    text = markdown(_results([r], []))
    assert "| seed | 0.500 | 0.400 | 1.000 |" in text
    assert "| videos/s median | min | max |" in text and "`x-cpu.json` beside this file" in text


def test_store_and_video_epochs_compare_first_with_first_and_steady_with_steady() -> None:
    # three fresh runs of three epochs each
    store = EpochTimes([[1.0, 0.2, 0.4], [2.0, 0.3, 0.3], [1.5, 0.1, 0.1]])
    videos = EpochTimes([[30.0, 10.0, 14.0], [45.0, 12.0, 12.0], [60.0, 9.0, 11.0]])
    assert store.first() == Spread(1.5, 1.0, 2.0)
    assert store.steady().median == pytest.approx(0.3) and store.steady().min == pytest.approx(0.1)
    assert videos.steady() == Spread(12.0, 10.0, 12.0)
    ratios = like_for_like(store, videos)
    assert ratios["first_epoch"] == pytest.approx(45.0 / 1.5)
    assert ratios["steady_epoch"] == pytest.approx(12.0 / 0.3)
    # not the first video epoch against steady store epochs (150x here)
    assert ratios["first_epoch"] != pytest.approx(45.0 / 0.3)
    with pytest.raises(DeepdanceError, match="bench.training.epochs must be >= 2"):
        EpochTimes([[1.0]]).steady()


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_seed_and_deepdance_backbones_share_one_layout(channels_last: bool, precision: str) -> None:
    bench = OmegaConf.create(
        {"channels_last": channels_last, "backbone": {"name": "test_resnet", "pretrained": False}}
    )
    deepdance, seed = load_backbones(bench, torch.device("cpu"), precision)
    assert seed.layout == deepdance.layout == ("channels_last" if channels_last else "NCHW")
    assert (seed.precision, deepdance.precision) == ("fp32", precision)
    for backbone in (seed, deepdance):
        weight = next(p for p in backbone.model.parameters() if p.dim() == 4)
        assert weight.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_extraction_rows_record_layout_threads_spread_and_ceiling(tmp_path: Path) -> None:
    # 15 frames: the seed reads them all, three times
    spec = StandInSpec(
        "short",
        count=1,
        width=64,
        height=40,
        fps=30,
        seconds=0.5,
        gop_seconds=0.25,
        audio=False,
        preset="ultrafast",
    )
    (standin,) = ensure_standins(tmp_path / "inputs", spec)
    bench = OmegaConf.create(
        {"channels_last": True, "backbone": {"name": "test_resnet", "pretrained": False}}
    )
    backbone, seed_backbone = load_backbones(bench, torch.device("cpu"), "fp32")
    pipelines = {
        s: DeepdancePipeline(
            backbone,
            SampledClips([standin], 4, 32, s),
            bench_store(tmp_path / s, backbone, "test_resnet", 32, 4, s),
            batch_videos=1,
            num_workers=0,
        )
        for s in ("exact", "keyframe")
    }
    seed = SeedPipeline(seed_backbone, 4, 32)
    rows = extraction_rows("mini", [standin], pipelines, seed, 3, 0, torch.device("cpu"))
    by_name = {r["row"]: r for r in rows}
    assert set(by_name) == set(EXTRACTION_ROWS)
    layouts = {by_name[n]["layout"] for n in ("seed", "deepdance_exact", "deepdance_keyframe", "model_only")}
    assert layouts == {"channels_last"}
    assert {r["torch_threads"] for r in rows} == {torch.get_num_threads()}
    for name in ("seed", "deepdance_exact", "model_only", "decode_only_keyframe"):
        r = by_name[name]
        assert len(r["seconds"]) == 3 and r["value_min"] <= r["value"] <= r["value_max"]
        assert r["value_max"] == pytest.approx(1 / min(r["seconds"]))
    for s in ("exact", "keyframe"):
        decode, model = by_name[f"decode_only_{s}"], by_name["model_only"]
        assert by_name[f"ceiling_{s}"]["value_max"] == min(decode["value_max"], model["value_max"])
        assert (
            by_name[f"deepdance_{s}"]["ceiling_videos_per_s"]["max"] == by_name[f"ceiling_{s}"]["value_max"]
        )
        # flagged exactly when the pipeline's best repeat beats the ceiling's best
        pipeline, ceiling = by_name[f"deepdance_{s}"], by_name[f"ceiling_{s}"]
        assert pipeline["above_ceiling"] is (pipeline["value_max"] > ceiling["value_max"])


class FakeClock:
    """``time.perf_counter`` for the timing code: a stage "takes" the seconds it adds (binary
    fractions, so that sums of stage times are exact)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def stage(self, seconds: float) -> Callable[[], None]:
        def run() -> None:
            self.now += seconds

        return run


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("deepdance.bench.timing.time.perf_counter", fake)
    return fake


def test_interleaved_runs_time_each_run_after_warmup(clock: FakeClock) -> None:
    calls: list[str] = []

    def step(name: str, seconds: float) -> Callable[[], None]:
        return lambda: (calls.append(name), clock.stage(seconds)())

    timings = interleaved_runs(
        {"a": step("a", 2.0), "b": step("b", 0.5)},
        repeats=2,
        warmup=1,
        warmup_runs={"a": step("wa", 100.0)},
    )
    assert calls == ["wa", "b", "a", "b", "a", "b"]
    # each run's own seconds, the warm-ups (100 s and b's first call) in none of them
    assert timings["a"].seconds == [2.0, 2.0] and timings["b"].seconds == [0.5, 0.5]


@pytest.mark.parametrize(("decode_s", "model_s"), [(0.25, 0.125), (0.125, 0.375), (0.25, 0.25)])
def test_the_ceiling_bounds_every_pipeline_made_of_its_stages(
    clock: FakeClock, decode_s: float, model_s: float
) -> None:
    """README: a pipeline cannot run faster than its slower stage, so ``min(decode, model)``
    bounds one that runs the stages in turn and one that overlaps them perfectly; a pipeline
    faster than its slower stage is flagged."""
    decode, model = clock.stage(decode_s), clock.stage(model_s)

    def serial() -> None:
        decode()
        model()

    runs = {
        "decode": decode,
        "model": model,
        "serial": serial,
        "overlapped": clock.stage(max(decode_s, model_s)),
        "impossible": clock.stage(0.75 * max(decode_s, model_s)),
    }
    rates = {name: t.rates(1.0) for name, t in interleaved_runs(runs, repeats=3, warmup=0).items()}
    ceiling = stage_ceiling(rates["decode"], rates["model"])
    assert ceiling.bound_by == ("decode" if decode_s >= model_s else "model")
    for name in ("serial", "overlapped"):
        assert rates[name].max <= ceiling.rate.max and rates[name].median <= ceiling.rate.median, name
        assert not above_ceiling(rates[name], ceiling.rate), name
    assert rates["impossible"].max > ceiling.rate.max and above_ceiling(rates["impossible"], ceiling.rate)


def test_projection_scales_length_dependent_costs_only() -> None:
    sets = [{"name": "s", "frames_per_video": 797.2 / 2}]  # stand-ins half as long as AIST++'s mean
    rows = [
        row("ceiling", "model_only", "model", 1.0, "videos/s", set_name="s"),  # 1 s per video
        row(
            "extraction",
            "seed",
            "seed",
            0.25,
            "videos/s",
            set_name="s",
            s_per_video=4.0,
            stages={"read_share": 0.5},
        ),
        row("extraction", "deepdance_exact", "dd", 0.5, "videos/s", set_name="s", s_per_video=2.0),
        row("ceiling", "decode_only_exact", "dec", 1.0, "videos/s", set_name="s"),
        row("extraction", "deepdance_keyframe", "dd", 1.0, "videos/s", set_name="s", s_per_video=1.0),
        row("ceiling", "decode_only_keyframe", "dec", 4.0, "videos/s", set_name="s"),
    ]
    projected = {
        p["pipeline"]: p
        for p in project_whole_aist(rows, sets, ["exact", "keyframe"], "cpu", 20, videos=100, frames=79_720)
    }
    assert projected["seed"]["s_per_video"] == pytest.approx(
        4.0 * (0.5 * 2 + 0.5)
    )  # read doubles, model does not
    assert projected["deepdance_exact"]["s_per_video"] == pytest.approx(2.0 * (1 + 1 * 2) / (1 + 1))
    assert projected["deepdance_keyframe"]["s_per_video"] == pytest.approx(1.0)
    assert projected["deepdance_keyframe"]["hours"] == pytest.approx(100 / 3600)
    assert projected["deepdance_keyframe"]["speedup_vs_seed"] == pytest.approx(6.0)


# ------------------------------------------------------------------------------ the real CLI


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("bench")
    run = root / "run"
    source_tree = sorted((REPO / "experiments").rglob("*"))
    result = run_cli(
        "deepdance.bench",
        "bench=smoke",
        f"bench.inputs_dir={root / 'inputs'}",
        f"hydra.run.dir={run}",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Results in the run dir only (no bench.out_dir given): nothing new in the source tree.
    assert sorted((REPO / "experiments").rglob("*")) == source_tree
    return json.loads((run / "smoke-cpu.json").read_text()), run


@pytest.mark.slow
def test_smoke_produces_every_row_positive(smoke: tuple[dict, Path]) -> None:
    results, _ = smoke
    rows = results["rows"]
    for name in EXTRACTION_ROWS:
        found = find_row(rows, name, "tiny")
        assert found is not None and found["status"] == "measured" and found["value"] > 0, name
        assert found["s_per_video"] > 0 and found["feature_frames_per_s"] > 0
    for name in ("model_batch_sweep", "gru_epoch_from_store", "gru_epoch_from_videos"):
        assert find_row(rows, name)["value"] > 0, name
    for name in ("gru_epoch_from_store", "gru_epoch_from_videos"):
        found = find_row(rows, name)
        assert len(found["epoch_seconds"]) == 3 and all(len(run) == 2 for run in found["epoch_seconds"])
    ratio = find_row(rows, "gru_epoch_videos_over_store")
    assert ratio["first_epoch"] > 0 and ratio["steady_epoch"] > 0
    # three repeats of every timed row, median between min and max
    for r in rows:
        if r["status"] == "measured" and "seconds" in r:
            assert len(r["seconds"]) == 3 and r["value_min"] <= r["value"] <= r["value_max"], r["row"]
    assert find_row(rows, "seed", "tiny")["layout"] == find_row(rows, "deepdance_exact", "tiny")["layout"]
    # a violation is listed for each row flagged above its ceiling, and only for those
    flagged = [r["row"] for r in rows if r.get("above_ceiling")]
    assert [v["row"] for v in results["ceiling_violations"]] == flagged
    for name in ("deepdance_exact", "deepdance_keyframe"):
        found = find_row(rows, name, "tiny")
        ceiling = find_row(rows, name.replace("deepdance", "ceiling"), "tiny")
        assert found["above_ceiling"] is (found["value_max"] > ceiling["value_max"]), name
    assert results["config"]["layout"] == "channels_last" and results["config"]["torch_threads"] >= 1
    for name in ("deepdance_exact", "deepdance_keyframe"):
        assert find_row(rows, name, "tiny")["vs_seed"] > 0 and find_row(rows, name, "tiny")["vs_ceiling"] > 0
    measured = [r for r in rows if r["status"] == "measured"]
    assert all(r["value"] > 0 for r in measured)
    pending = {r["row"] for r in rows if r["status"] != "measured"}
    assert pending <= {"autoencoder_train", "generation"}
    if generator_available():  # the Deep-Dance rows, once the generator is in the checkout
        assert not pending and find_row(rows, "generation")["realtime_factor"] > 0
    assert {p["pipeline"] for p in results["projection"]} == {"seed", "deepdance_exact", "deepdance_keyframe"}
    assert all(p["hours"] > 0 for p in results["projection"])


@pytest.mark.slow
def test_smoke_records_machine_facts_and_writes_markdown_and_features(smoke: tuple[dict, Path]) -> None:
    results, run = smoke
    machine = results["machine"]
    for key in ("cpu_count", "torch", "decord", "opencv", "load_average_1_5_15", "device"):
        assert machine[key], key
    assert "gpu" in machine
    (tiny,) = results["sets"]
    assert tiny["audio"] and tiny["videos"] == 2 and tiny["keyframe_interval"] == 30
    text = (run / "smoke-cpu.md").read_text()
    for r in results["rows"]:
        assert r["label"] in text, r["label"]
    assert "Projection" in text and "Load average" in text
    stores = sorted((run / "features" / "tiny").iterdir())  # one feature-store key per sampling
    assert len(stores) == 2 and all(len(list(d.glob("*.safetensors"))) == 2 for d in stores)
    keys = [json.loads((d / "key.json").read_text()) for d in stores]
    assert sorted("data.sampling=keyframe" in k["sampling"] for k in keys) == [False, True]
    from safetensors.torch import load_file

    entry = load_file(str(next(stores[0].glob("*.safetensors"))))
    assert (
        entry["features"].shape == (1, 4, 512) and entry["mask"].all()
    )  # 1 clip x 4 frames x resnet10t features
    assert (run / "smoke-cpu.json").is_file()


@pytest.mark.slow
def test_bench_cli_names_a_bad_video_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from deepdance.bench.__main__ import bench

    overrides = [
        f"bench.videos={tmp_path}/none",
        f"bench.out_dir={tmp_path}",
        f"hydra.run.dir={tmp_path}/run",
    ]
    last = user_error(
        lambda cfg: run_task(bench, cfg), compose_config("bench", ["bench=smoke", *overrides]), capsys
    )
    assert f"error: bench.videos={tmp_path}/none: not a directory" in last


@pytest.mark.gpu
@pytest.mark.slow
def test_smoke_on_gpu_uses_bf16_and_records_the_gpu(tmp_path: Path) -> None:
    result = run_cli(
        "deepdance.bench",
        "bench=smoke",
        "bench.device=cuda",
        f"bench.out_dir={tmp_path}",
        f"bench.inputs_dir={tmp_path / 'inputs'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "smoke-cuda.json").read_text())
    assert results["machine"]["gpu"] and results["config"]["precision"] == "bf16"
    assert all(r["value"] > 0 for r in results["rows"] if r["status"] == "measured")
    assert "min(decode only, model only)" in find_row(results["rows"], "ceiling_exact", "tiny")["label"]
