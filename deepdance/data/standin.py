"""Old command path: ``python -m deepdance.data.standin`` runs ``python -m deepdance.make_standins``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("deepdance.make_standins", run_name="__main__", alter_sys=True)
