"""The training tasks behind ``python -m deepdance.train``, importable without the entry point.

``deepdance.run.fit.train`` is one run (fit, test the best checkpoint, summary.json);
``deepdance.run.stages.run_stages`` trains the stages of one command (``experiment=deep_dance``)
in order. ``deepdance/train.py`` only composes the config and picks one of the two.
``genre_data.build_datamodule`` builds a run's data one way (videos, manifest, feature store,
datamodule); ``resume.ResumePoint`` reads ``ckpt_path`` once and hands it to Lightning.
"""
