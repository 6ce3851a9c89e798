"""Old command path: ``python -m deepdance.data.download_aist`` runs ``python -m deepdance.download_aist``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("deepdance.download_aist", run_name="__main__", alter_sys=True)
