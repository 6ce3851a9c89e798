"""Repeated wall-clock timing: warm-up first, then several runs taken in turns, reported as
median, min and max. Each run ends at a batch boundary for SIGTERM (``deepdance.utils.stop``).

The median, not the mean, because on a shared machine one run can stall on somebody
else's job; min and max beside it show how far the load moved the runs. The warm-up pays
for lazy imports, allocator growth, oneDNN/cuDNN kernel selection and DataLoader worker
start-up, none of which a long extraction pays per video.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from deepdance.utils.stop import check_stop

log = logging.getLogger(__name__)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class Spread:
    """Median, min and max of repeated measurements: one number alone hides the load."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(statistics.median(values), min(values), max(values))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Timing:
    """Seconds of each timed run (warm-ups excluded)."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> Spread:
        return Spread.of(self.seconds)

    def rates(self, work: float) -> Spread:
        """``work`` units per second of each run (videos/s, frames/s), as a spread: the
        fastest run gives the max rate, so a bound can be checked on the best repeat."""
        return Spread.of([work / s for s in self.seconds])


def time_once(run: Callable[[], object], device: torch.device) -> float:
    """Seconds of one call, GPU work included; stops here on SIGTERM."""
    synchronize(device)
    start = time.perf_counter()
    run()
    synchronize(device)
    seconds = time.perf_counter() - start
    check_stop()
    return seconds


def time_runs(
    run: Callable[[], object],
    repeats: int,
    warmup: int = 1,
    device: torch.device | None = None,
    warmup_run: Callable[[], object] | None = None,
) -> Timing:
    """Call ``warmup_run`` (default ``run``) ``warmup`` times, then time ``run`` ``repeats`` times."""
    return interleaved_runs(
        {"run": run}, repeats, warmup, device, {"run": warmup_run} if warmup_run else None
    )["run"]


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
            time_once(warmup_runs.get(name, run), device)
    timings = {name: Timing() for name in runs}
    for repeat in range(repeats):
        for name, run in runs.items():
            timings[name].seconds.append(time_once(run, device))
            log.info("run %d/%d of %s: %.2f s", repeat + 1, repeats, name, timings[name].seconds[-1])
    return timings
