"""The training tasks behind ``python -m deepdance.train``, importable without the entry point.

``deepdance.run.fit.train`` is one run (fit, test the best checkpoint, summary.json);
``deepdance.run.stages.run_stages`` trains the stages of one command (``experiment=deep_dance``)
in order. ``deepdance/train.py`` only composes the config and picks one of the two.
"""
