"""Repeated wall-clock timing: warm-up first, then the median of several runs. Each run ends
at a batch boundary for SIGTERM (``deepdance.utils.stop``).

The median, not the mean, because on a shared machine one run can stall on somebody
else's job; the warm-up pays for lazy imports, allocator growth, oneDNN/cuDNN kernel
selection and DataLoader worker start-up, none of which a long extraction pays per video.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from deepdance.utils.stop import check_stop

log = logging.getLogger(__name__)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Timing:
    """Seconds of each timed run (warm-ups excluded)."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> float:
        """(max - min) / median: how much the load moved the runs."""
        return (max(self.seconds) - min(self.seconds)) / self.median if self.median > 0 else 0.0


def time_runs(
    run: Callable[[], object],
    repeats: int,
    warmup: int = 1,
    device: torch.device | None = None,
    warmup_run: Callable[[], object] | None = None,
) -> Timing:
    """Call ``warmup_run`` (default ``run``) ``warmup`` times, then time ``run`` ``repeats`` times."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    device = device or torch.device("cpu")
    for _ in range(warmup):
        (warmup_run or run)()
        synchronize(device)
        check_stop()
    timing = Timing()
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        run()
        synchronize(device)
        timing.seconds.append(time.perf_counter() - start)
        check_stop()
    return timing


def interleaved_runs(
    runs: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int = 1,
    device: torch.device | None = None,
    warmup_runs: dict[str, Callable[[], object]] | None = None,
) -> dict[str, Timing]:
    """Warm every run up, then time them in turns: run 1 of each, run 2 of each, ...

    On a shared machine the load drifts over minutes; taking the runs in turns exposes every
    pipeline to the same drift, so their ratios hold even when the absolute numbers move.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    device = device or torch.device("cpu")
    warmup_runs = warmup_runs or {}
    for name, run in runs.items():
        for _ in range(warmup):
            warmup_runs.get(name, run)()
            synchronize(device)
            check_stop()
    timings = {name: Timing() for name in runs}
    for repeat in range(repeats):
        for name, run in runs.items():
            synchronize(device)
            start = time.perf_counter()
            run()
            synchronize(device)
            timings[name].seconds.append(time.perf_counter() - start)
            log.info("run %d/%d of %s: %.2f s", repeat + 1, repeats, name, timings[name].seconds[-1])
            check_stop()
    return timings
