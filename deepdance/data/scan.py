"""Old command path: ``python -m deepdance.data.scan`` runs ``python -m deepdance.scan``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("deepdance.scan", run_name="__main__", alter_sys=True)
