"""``python -m deepdance.bench``: the seed pipeline against deepdance, against the decode and
model ceilings, on the same videos in one process (see docs/bench.md)."""
