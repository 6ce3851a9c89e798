"""The config schemas' defaults, registered wherever Hydra runs.

Hydra imports every module under ``hydra_plugins/`` before it composes a first config (its plugin
scan), so registering here (``deepdance.config.store``) lets conf/'s ``- <group>_schema``
entries resolve for every entry point, sweep, launcher and ``compose()`` call, whatever the
caller imported first.
"""

from deepdance.config.store import register_schemas

register_schemas()
