"""Old command path: ``python -m deepdance.data.synthetic`` runs ``python -m deepdance.make_synthetic``."""

import runpy

runpy.run_module("deepdance.make_synthetic", run_name="__main__", alter_sys=True)
