"""The benchmark's sections, one function each: the model alone by batch size, extraction
(seed, deepdance, each stage alone and the ceiling), the GRU head's epochs, and Deep-Dance."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from deepdance.bench.ceiling import above_ceiling, stage_ceiling
from deepdance.bench.extraction import (
    Backbone,
    DeepdancePipeline,
    SeedPipeline,
    decode_only,
    measure_model_batches,
    model_only,
    preload_frames,
)
from deepdance.bench.rows import BenchRow, row, timed_row
from deepdance.bench.timing import Spread, Timing, interleaved_runs
from deepdance.bench.training import (
    EpochTimes,
    autoencoder_step,
    generation_run,
    generator_available,
    like_for_like,
    measure_gru_epochs,
)

log = logging.getLogger("deepdance.bench")


@dataclass(frozen=True)
class Repeats:
    """How every figure is measured: timed runs after warm-ups, on one device."""

    repeats: int
    warmup: int
    device: torch.device


def model_batch_rows(backbone: Backbone, img_size: int, sizes: list[int], how: Repeats) -> list[BenchRow]:
    """The model alone by batch size: its best batch, not the ceiling (that uses the pipeline's)."""
    log.info("model alone by batch size %s (not the ceiling: that uses the pipeline's batch)", sizes)
    sweep = measure_model_batches(backbone, img_size, sizes, how.repeats, how.warmup)
    best = sweep.timings[sweep.best_batch]
    return [
        timed_row(
            "model_batches",
            "model_batch_sweep",
            f"model alone, best batch {sweep.best_batch}",
            best.rates(sweep.best_batch),
            best.seconds,
            "frames/s",
            best_batch=sweep.best_batch,
            frames_per_s_by_batch={b: t.rates(b).as_dict() for b, t in sweep.timings.items()},
            seconds_by_batch={b: t.seconds for b, t in sweep.timings.items()},
            layout=backbone.layout,
            torch_threads=torch.get_num_threads(),
        )
    ]


@dataclass(frozen=True)
class _SetTimings:
    """The interleaved runs of one video set, turned into rows per video."""

    name: str
    count: int
    num_frames: int
    timings: dict[str, Timing]

    def rate(self, run: str) -> Spread:
        return self.timings[run].rates(self.count)

    def rate_row(self, section: str, run: str, label: str, **extra: Any) -> BenchRow:
        rate = self.rate(run)
        return timed_row(
            section,
            run,
            label,
            rate,
            self.timings[run].seconds,
            "videos/s",
            set_name=self.name,
            s_per_video=1 / rate.median,
            feature_frames_per_s=rate.median * self.num_frames,
            torch_threads=torch.get_num_threads(),
            **extra,
        )


def _time_extraction(
    videos: list[Path], pipelines: dict[str, DeepdancePipeline], seed: SeedPipeline, how: Repeats
) -> dict[str, Timing]:
    """Seed, deepdance per sampling, decode alone and model alone, timed in turns."""
    exact = pipelines["exact"]
    # the model stage's input: what the pipeline decodes, decoded before any timing
    frames = preload_frames(exact.dataset, how.device)
    runs: dict[str, Any] = {"seed": lambda: seed.run(videos)}
    for s, pipeline in pipelines.items():
        runs[f"deepdance_{s}"] = pipeline.run
        runs[f"decode_only_{s}"] = lambda loader=pipeline.loader: decode_only(loader)
    runs["model_only"] = lambda: model_only(exact.backbone, frames, exact.batch_videos)
    # the seed has no workers to start: one video warms it
    warmups = {"seed": lambda: seed.run(videos[:1])}
    return interleaved_runs(runs, how.repeats, how.warmup, how.device, warmups)


def _seed_row(timed: _SetTimings, seed: SeedPipeline) -> BenchRow:
    # summed over warm-up and timed runs: only the shares are used
    stages = seed.stages
    return timed.rate_row(
        "extraction",
        "seed",
        "seed: OpenCV all frames, batch 1 fp32",
        layout=seed.backbone.layout,
        batch_frames=1,
        workers=0,
        stages={
            "read_share": stages.read / (stages.read + stages.model),
            "decoded_frames_per_video": stages.decoded_frames / stages.videos,
        },
    )


def _sampling_rows(timed: _SetTimings, sampling: str, pipeline: DeepdancePipeline) -> list[BenchRow]:
    """deepdance with one sampling, its decode stage alone, and its ceiling."""
    ceiling = stage_ceiling(timed.rate(f"decode_only_{sampling}"), timed.rate("model_only"))
    pipeline_rate = timed.rate(f"deepdance_{sampling}")
    layout, frames = pipeline.backbone.layout, pipeline.batch_videos * timed.num_frames
    return [
        timed.rate_row(
            "extraction",
            f"deepdance_{sampling}",
            f"deepdance, {sampling} sampling",
            layout=layout,
            batch_frames=frames,
            workers=pipeline.num_workers,
            vs_seed=pipeline_rate.median / timed.rate("seed").median,
            vs_ceiling=pipeline_rate.median / ceiling.rate.median,
            ceiling_videos_per_s=ceiling.rate.as_dict(),
            above_ceiling=above_ceiling(pipeline_rate, ceiling.rate),
        ),
        timed.rate_row(
            "ceiling",
            f"decode_only_{sampling}",
            f"decode only, {sampling} sampling",
            layout=None,
            workers=pipeline.num_workers,
        ),
        row(
            "ceiling",
            f"ceiling_{sampling}",
            f"{sampling} sampling: min(decode only, model only), bound by {ceiling.bound_by}",
            ceiling.rate.median,
            "videos/s",
            set_name=timed.name,
            value_min=ceiling.rate.min,
            value_max=ceiling.rate.max,
            bound_by=ceiling.bound_by,
            # no runs of its own: the raw seconds are those of these rows
            derived_from=[f"decode_only_{sampling}", "model_only"],
            s_per_video=1 / ceiling.rate.median,
            feature_frames_per_s=ceiling.rate.median * timed.num_frames,
            layout=layout,
            torch_threads=torch.get_num_threads(),
        ),
    ]


def extraction_rows(
    name: str,
    videos: list[Path],
    pipelines: dict[str, DeepdancePipeline],
    seed: SeedPipeline,
    repeats: int,
    warmup: int,
    device: torch.device,
) -> list[BenchRow]:
    """Seed, deepdance (per sampling) and both stages alone, timed in turns on one set; ratios,
    ceilings and the check that no pipeline beats its ceiling."""
    timings = _time_extraction(videos, pipelines, seed, Repeats(repeats, warmup, device))
    timed = _SetTimings(name, len(videos), seed.num_frames, timings)
    exact = pipelines["exact"]
    rows = [
        _seed_row(timed, seed),
        timed.rate_row(
            "ceiling",
            "model_only",
            f"model only ({exact.batch_videos * timed.num_frames} frames a call, the same frames)",
            layout=exact.backbone.layout,
            batch_frames=exact.batch_videos * timed.num_frames,
            workers=0,
        ),
    ]
    for sampling, pipeline in pipelines.items():
        rows += _sampling_rows(timed, sampling, pipeline)
    return rows


def _gru_epoch_row(name: str, source: str, times: EpochTimes, layout: str | None, videos: int) -> BenchRow:
    labels = {
        "from_store": "GRU epoch from the feature store",
        "from_videos": "GRU epoch from videos (decode + frozen backbone)",
    }
    steady = times.steady()
    return row(
        "training",
        f"gru_epoch_{source}",
        labels[source],
        steady.median,
        "s/epoch",
        set_name=name,
        value_min=steady.min,
        value_max=steady.max,
        first_epoch=times.first().as_dict(),
        steady_epoch=steady.as_dict(),
        epoch_seconds=times.runs,
        epochs=len(times.runs[0]) if times.runs else 0,
        layout=layout,
        torch_threads=torch.get_num_threads(),
        notes=f"{videos} videos; value: steady epochs (after the first)",
    )


def gru_rows(
    name: str, pipeline: DeepdancePipeline, backbone: Backbone, training: DictConfig, how: Repeats
) -> list[BenchRow]:
    """GRU epoch times from the store the extraction just filled and from the videos; their
    ratio first epoch against first epoch, and steady state against steady state."""
    log.info("training rows on set %s", name)
    head = OmegaConf.to_container(training.head)
    epochs, batch = int(training.epochs), int(training.batch_size)
    gru = measure_gru_epochs(pipeline, backbone, head, batch, epochs, how.repeats, how.warmup)
    videos = len(pipeline.dataset)
    layouts = {"from_store": None, "from_videos": backbone.layout}
    rows = [_gru_epoch_row(name, source, times, layouts[source], videos) for source, times in gru.items()]
    ratios = like_for_like(gru["from_store"], gru["from_videos"])
    rows.append(
        row(
            "training",
            "gru_epoch_videos_over_store",
            "GRU epoch from videos / from the store",
            ratios["steady_epoch"],
            "x",
            set_name=name,
            first_epoch=ratios["first_epoch"],
            steady_epoch=ratios["steady_epoch"],
            derived_from=[f"gru_epoch_{source}" for source in gru],
            torch_threads=torch.get_num_threads(),
            notes="ratio of medians: first epoch against first epoch, steady against steady",
        )
    )
    return rows


def _pending_generator_rows() -> list[BenchRow]:
    reason = "pending: the Deep-Dance generator (issue 4) is not in this checkout"
    return [
        row(
            "training",
            "autoencoder_train",
            "autoencoder training",
            None,
            "frames/s",
            status="pending",
            notes=reason,
        ),
        row("training", "generation", "dance generation", None, "frames/s", status="pending", notes=reason),
    ]


def generator_rows(settings: DictConfig, how: Repeats) -> list[BenchRow]:
    """Deep-Dance: autoencoder training frames/s, and generation frames/s against real time."""
    if not generator_available():
        return _pending_generator_rows()
    log.info("generator rows: %dx%d silhouettes", settings.height, settings.width)
    height, width, batch = int(settings.height), int(settings.width), int(settings.batch_size)
    step = autoencoder_step(how.device, height, width, batch)
    rates = (float(settings.seconds), float(settings.output_fps), float(settings.model_fps))
    generate, frames = generation_run(how.device, height, width, *rates, int(settings.look_back))
    timings = interleaved_runs({"train": step, "generate": generate}, how.repeats, how.warmup, how.device)
    gen_fps = timings["generate"].rates(frames)
    realtime = gen_fps.median / float(settings.playback_fps)
    common = {"torch_threads": torch.get_num_threads(), "layout": "NCHW"}
    return [
        timed_row(
            "training",
            "autoencoder_train",
            "autoencoder training",
            timings["train"].rates(batch),
            timings["train"].seconds,
            "frames/s",
            notes=f"{height}x{width} silhouettes, batch {batch}, BCE + Adam",
            **common,
        ),
        timed_row(
            "training",
            "generation",
            f"dance generation ({realtime:,.1f}x real time at {settings.playback_fps:g} fps)",
            gen_fps,
            timings["generate"].seconds,
            "frames/s",
            realtime_factor=realtime,
            notes=f"{settings.seconds:g} s at {settings.output_fps:g} fps: LSTM at {settings.model_fps:g} "
            "fps, interpolated, decoded",
            **common,
        ),
    ]


def pose_rows(video: Path, frames: int, how: Repeats, set_name: str | None = None) -> list[BenchRow]:
    """The pose front end's ms per frame (``deepdance.pose``, default ``PoseConfig``: MediaPipe):
    decode the first ``frames`` frames of ``video``, run the backend, track and smooth, timed as a
    whole (the backend's tracker restarts each run). No row without the ``pose`` extra: logged."""
    import numpy as np

    from deepdance.config.pose import PoseConfig
    from deepdance.errors import DeepdanceError
    from deepdance.pose.backends import build_estimator
    from deepdance.pose.video_poses import FrameSource, estimate_video

    config = PoseConfig()
    try:
        estimator = build_estimator(config)
    except DeepdanceError as err:
        log.warning("no pose front end row: %s", err)
        return []
    source = FrameSource(video)
    indices = np.arange(min(frames, source.num_frames))
    found: list[int] = []

    def run() -> None:
        found.append(int(estimate_video(video, config, indices, estimator).found.sum()))

    try:
        timing = interleaved_runs({"pose": run}, how.repeats, how.warmup, how.device)["pose"]
    finally:
        estimator.close()
    per_frame = Spread.of([1000 * s / len(indices) for s in timing.seconds])
    width, height = source.size
    return [
        timed_row(
            "pose",
            "pose_frontend",
            f"pose front end ({config.backend}), ms per frame",
            per_frame,
            timing.seconds,
            "ms/frame",
            set_name=set_name,
            torch_threads=torch.get_num_threads(),
            notes=f"{len(indices)} frames of {video.name} ({width}x{height}): decode, backend, tracking, "
            f"smoothing; dancer found in {found[-1]} of {len(indices)} frames",
        )
    ]
