"""The extraction ceiling: an upper bound on a pipeline by construction, and its check.

A pipeline decodes and runs the model; it cannot go faster than its slower stage. So the
ceiling is ``min(decode only, model only)``, both measured in the same interleaved run, on
the same videos, with the pipeline's workers, threads and batch. Adding the two stage times
(``1/(1/decode + 1/model)``) is what *not* overlapping them would give: a pipeline that
overlaps beats it, so it bounds nothing and is not reported.

The bound holds for every repeat, so it is checked on the best repeat of each side: the
pipeline's fastest run against the ceiling built from each stage's fastest run. Comparing
medians would flag noise; comparing bests flags only a ceiling that does not bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepdance.bench.timing import Spread

CEILING_WRONG = "pipeline above its ceiling: the ceiling is wrong"


@dataclass(frozen=True)
class Ceiling:
    """The slower stage's rate, statistic by statistic, and which stage that was."""

    rate: Spread
    # "decode" or "model": the stage with the lower median rate
    bound_by: str


def stage_ceiling(decode: Spread, model: Spread) -> Ceiling:
    """``min(decode, model)`` for the median, the min and the max rate alike."""
    rate = Spread(
        min(decode.median, model.median),
        min(decode.min, model.min),
        min(decode.max, model.max),
    )
    return Ceiling(rate, "decode" if decode.median <= model.median else "model")


def above_ceiling(pipeline: Spread, ceiling: Spread) -> bool:
    """True when the pipeline's best repeat beat the ceiling's best: the ceiling is wrong."""
    return pipeline.max > ceiling.max
