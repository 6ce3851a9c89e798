"""Studies as code: read the ``summary.json`` of many runs, group them by their overrides
minus the seed, and report each group's mean with a t-interval and paired per-seed differences.

One run is not a result: a from-scratch model moves with the seed as much as with a change of
recipe, so a claim needs the spread over seeds beside it.
"""

from deepdance.studies.collect import collect_runs, split_baselines
from deepdance.studies.output import write_report
from deepdance.studies.stats import Interval, group_table, lower_is_better, paired_table, t_interval

__all__ = [
    "Interval",
    "collect_runs",
    "group_table",
    "lower_is_better",
    "paired_table",
    "split_baselines",
    "t_interval",
    "write_report",
]
