"""One typed schema per config group (pydantic), and the start-up checks built on them.

``data``, ``model``, ``trainer`` and ``commands`` hold the schemas: each setting's type,
default, range and choices, and the rules between settings. ``base.parse`` reads a composed
node into a schema, a refusal in one line (``data.num_frames='abc': expected an integer >= 1``).
``store`` seeds Hydra's ConfigStore with the schemas' defaults, which conf/ inherits.
``validate`` holds each entry point's ``validate_<entry>``: the schemas, then what no schema
can know (a timm name, a checkpoint's model family, files on disk, a split that needs the
directory listing); ``download`` checks the argparse CLI's arguments.
"""
